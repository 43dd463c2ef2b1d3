//! The report: per host what changed (or would), as coloured human text or one JSON document.

use crate::resources::{Action, Change};
use console::style;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Unchanged,
    Changed,
    Failed,
    Unreachable,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub name: String,
    pub address: String,
    pub role: String,
    pub status: Status,
    pub changes: Vec<Change>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Summary {
    pub hosts: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub changes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub hosts: Vec<HostReport>,
    pub summary: Summary,
    pub elapsed_ms: u128,
}

impl Report {
    pub fn new(command: &str, hosts: Vec<HostReport>, elapsed_ms: u128) -> Report {
        let count = |s: Status| hosts.iter().filter(|h| h.status == s).count();
        let summary = Summary {
            hosts: hosts.len(),
            changed: count(Status::Changed),
            unchanged: count(Status::Unchanged),
            failed: count(Status::Failed),
            unreachable: count(Status::Unreachable),
            changes: hosts.iter().map(|h| h.changes.len()).sum(),
        };
        Report {
            command: command.to_string(),
            hosts,
            summary,
            elapsed_ms,
        }
    }

    /// 0 nothing to do or done; 1 a host failed or was unreachable; 2 `check` found changes.
    pub fn exit_code(&self) -> i32 {
        if self.summary.failed + self.summary.unreachable > 0 {
            1
        } else if self.command == "check" && self.summary.changes > 0 {
            2
        } else {
            0
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        let verb = if self.command == "check" {
            "would change"
        } else {
            "changed"
        };
        for h in &self.hosts {
            let head = format!("{} ({}, {})", style(&h.name).bold(), h.address, h.role);
            let status = match h.status {
                Status::Unchanged => style("unchanged".to_string()).green(),
                Status::Changed => style(format!("{verb}: {} change(s)", h.changes.len())).yellow(),
                Status::Failed => style("FAILED".to_string()).red().bold(),
                Status::Unreachable => style("UNREACHABLE".to_string()).red().bold(),
            };
            out.push_str(&format!("{head}: {status}\n"));
            for c in &h.changes {
                let mark = match c.action {
                    Action::Create => style("+").green(),
                    Action::Update => style("~").yellow(),
                    Action::Delete => style("-").red(),
                };
                if c.diff.contains('\n') {
                    out.push_str(&format!("  {mark} {}\n", c.resource));
                    for line in c.diff.lines() {
                        let l = if line.starts_with("+++") || line.starts_with("---") {
                            style(line).bold()
                        } else if line.starts_with('+') {
                            style(line).green()
                        } else if line.starts_with('-') {
                            style(line).red()
                        } else if line.starts_with("@@") {
                            style(line).cyan()
                        } else {
                            style(line)
                        };
                        out.push_str(&format!("      {l}\n"));
                    }
                } else {
                    out.push_str(&format!("  {mark} {}: {}\n", c.resource, c.diff));
                }
            }
            if let Some(e) = &h.error {
                out.push_str(&format!("  {} {}\n", style("error:").red().bold(), e));
            }
        }
        let s = &self.summary;
        out.push_str(&format!(
            "{}: {} hosts, {} {}, {} unchanged, {} failed, {} unreachable, {} changes in {:.1} s\n",
            self.command,
            s.hosts,
            s.changed,
            verb,
            s.unchanged,
            s.failed,
            s.unreachable,
            s.changes,
            self.elapsed_ms as f64 / 1000.0
        ));
        out
    }
}
