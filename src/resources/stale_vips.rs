//! VIPs lvsprov put on an interface for services the inventory no longer has. A removed service
//! (or a VIP moved) must not leave its address on a real server's `lo`: the host would take the
//! address for its own and never reach whoever holds it next. Which addresses were lvsprov's is
//! read from what it wrote to bring them back at boot (its unit, or ifupdown's file), so an
//! address the operator added by hand is never touched. The playbook loader puts this step
//! before the VIP's persistence, keeping the VIPs the host still serves.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Where lvsprov records the VIPs it keeps at boot: its unit (systemd hosts) and ifupdown's file.
pub const RECORDS: [&str; 2] = [
    "/etc/systemd/system/lvsprov-vip.service",
    "/etc/network/interfaces.d/lvsprov-vip",
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaleVips {
    pub dev: String,
    /// The VIPs the host serves now.
    pub keep: Vec<String>,
}

impl StaleVips {
    /// The VIPs on `dev` that lvsprov's records name.
    fn recorded(&self, facts: &Facts) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for path in RECORDS {
            let Some(f) = facts.files.get(path) else {
                continue;
            };
            let mut iface = "";
            for line in f.content.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                // ifupdown: `iface lo:0 inet static` then `address 192.168.100.10`.
                if w.first() == Some(&"iface") {
                    iface = w.get(1).and_then(|i| i.split(':').next()).unwrap_or("");
                } else if w.first() == Some(&"address") && iface == self.dev {
                    out.extend(w.get(1).and_then(|a| a.parse::<IpAddr>().ok()));
                }
                // The unit: `ExecStart=/sbin/ip addr replace 192.168.100.10/32 dev lo label lo:0`.
                let at = |word: &str| w.iter().position(|x| *x == word);
                if let (Some(r), Some(d)) = (at("replace"), at("dev")) {
                    if w.get(d + 1) == Some(&self.dev.as_str()) {
                        let ip = w.get(r + 1).and_then(|a| a.split('/').next());
                        out.extend(ip.and_then(|a| a.parse::<IpAddr>().ok()));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn changes(&self, facts: &Facts) -> Vec<Change> {
        let keep: Vec<IpAddr> = self.keep.iter().filter_map(|v| v.parse().ok()).collect();
        let stale: Vec<IpAddr> = self
            .recorded(facts)
            .into_iter()
            .filter(|ip| !keep.contains(ip))
            .collect();
        facts
            .addrs
            .iter()
            .filter(|a| a.dev == self.dev && stale.contains(&a.ip))
            .map(|a| {
                Change::new(
                    format!("address {} on {}", a.ip, self.dev),
                    Action::Delete,
                    arrow(
                        &format!(
                            "{}/{} on {} (lvsprov's VIP, no service needs it)",
                            a.ip, a.prefix, a.label
                        ),
                        "absent",
                    ),
                    sh!("ip addr del {}/{} dev {}", a.ip, a.prefix, self.dev),
                )
            })
            .collect()
    }
}

impl Resource for StaleVips {
    fn probe(&self, probe: &mut Probe) {
        probe.files.extend(RECORDS.map(String::from));
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        Ok(self.changes(facts))
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        self.changes(facts)
    }
}
