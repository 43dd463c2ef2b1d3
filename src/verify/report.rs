//! What `verify` prints: every check with what was expected and seen, the distribution per VIP.

use super::checks::Check;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub service: String,
    pub requests: usize,
    /// Requests answered, per real server (recognised by its page); `other` and `failed` too.
    pub answers: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub command: &'static str,
    pub checks: Vec<Check>,
    pub distribution: Vec<Distribution>,
    pub failover_seconds: Option<f64>,
    /// With `--failover`: the outage, the established sessions that survived it, whether the
    /// directors sync their connections.
    pub failover: Option<super::failover::Failover>,
    pub summary: BTreeMap<String, usize>,
    pub elapsed_ms: u128,
}

impl VerifyReport {
    pub fn new(
        checks: Vec<Check>,
        distribution: Vec<Distribution>,
        failover_seconds: Option<f64>,
        elapsed_ms: u128,
    ) -> Self {
        let passed = checks.iter().filter(|c| c.ok).count();
        let summary = BTreeMap::from([
            ("checks".to_string(), checks.len()),
            ("passed".to_string(), passed),
            ("failed".to_string(), checks.len() - passed),
        ]);
        VerifyReport {
            command: "verify",
            checks,
            distribution,
            failover_seconds,
            failover: None,
            summary,
            elapsed_ms,
        }
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for d in &self.distribution {
            out.push_str(&format!("{}: {} requests\n", d.service, d.requests));
            for (who, n) in &d.answers {
                let bar = "#".repeat((*n * 40).div_ceil(d.requests.max(1)));
                out.push_str(&format!("  {who:<12} {n:>5}  {bar}\n"));
            }
        }
        for c in &self.checks {
            let mark = if c.ok {
                console::style("ok  ").green()
            } else {
                console::style("FAIL").red().bold()
            };
            out.push_str(&format!("{mark} {}: {}", c.name, c.seen));
            if !c.ok {
                out.push_str(&format!(" (expected {})", c.expected));
            }
            out.push('\n');
        }
        if let Some(s) = self.failover_seconds {
            out.push_str(&format!(
                "failover: requests to the VIP failed for {s:.2} s until the backup served them\n"
            ));
        }
        if let Some(f) = &self.failover {
            out.push_str(&format!(
                "failover: {} of {} established keep-alive sessions survived (IPVS sync {}{})\n",
                f.established.survived,
                f.established.opened,
                if f.sync { "on" } else { "off" },
                match f.established.known_to_backups {
                    Some(k) => format!("; the backup held {k} of them at the stop"),
                    None => String::new(),
                }
            ));
            if let Some(ms) = f.failback_ms {
                out.push_str(&format!(
                    "failover: the stopped director held the VIP again {:.1} s after its restart\n",
                    ms as f64 / 1000.0
                ));
            }
        }
        out.push_str(&format!(
            "verify: {} checks, {} passed, {} failed in {:.1} s\n",
            self.summary["checks"],
            self.summary["passed"],
            self.summary["failed"],
            self.elapsed_ms as f64 / 1000.0
        ));
        out
    }
}
