//! The report: per host what changed (or would), as coloured human text or one JSON document.

pub mod drain;
pub mod election;
pub mod roll;
pub mod status;
mod warnings;

use crate::error::HostError;
use crate::exit::Exit;
use crate::fleet::Finish;
use crate::inventory::Host;
use crate::resources::{Action, Change};
use console::style;
use serde::Serialize;

/// How a report is printed (`--output`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum, Debug)]
pub enum Output {
    Human,
    Json,
    // Prometheus' text exposition: `status` only (a doc comment here would show in every --help).
    Prometheus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Unchanged,
    Changed,
    Failed,
    Unreachable,
}

/// The command a report is about: what `check` would do, or what was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Up,
    Check,
    Down,
    Drain,
    Undrain,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Up => "up",
            Command::Check => "check",
            Command::Down => "down",
            Command::Drain => "drain",
            Command::Undrain => "undrain",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub name: String,
    pub address: String,
    pub role: String,
    pub status: Status,
    pub changes: Vec<Change>,
    pub error: Option<String>,
    /// What kind of failure (`unreachable`, `host_key`, `auth`, `refused`, `step`, ...).
    pub error_kind: Option<&'static str>,
    /// What happened on the host besides its changes (a lock taken from an abandoned run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl HostReport {
    /// `changes` done (or planned) on `host`; with `error`, the run stopped after them.
    pub fn new(host: &Host, changes: Vec<Change>, error: Option<HostError>) -> HostReport {
        let status = match &error {
            Some(e) if e.is_unreachable() => Status::Unreachable,
            Some(_) => Status::Failed,
            None if changes.is_empty() => Status::Unchanged,
            None => Status::Changed,
        };
        HostReport {
            name: host.name.clone(),
            address: host.address.to_string(),
            role: host.role().name().to_string(),
            status,
            changes,
            error_kind: error.as_ref().map(HostError::kind),
            error: error.map(|e| e.to_string()),
            notes: vec![],
        }
    }
}

impl Finish for HostReport {
    fn word(&self) -> String {
        format!("{:?}", self.status).to_lowercase()
    }
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Summary {
    pub hosts: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub changes: usize,
    /// `changes` by action: created, updated, deleted.
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

/// The JSON report's shape: raised when a field changes meaning or goes away (new fields keep it).
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub version: u32,
    pub command: Command,
    /// Planned only, nothing written: `check`, and `up`/`down` with `--facts-from`.
    pub dry_run: bool,
    pub hosts: Vec<HostReport>,
    pub summary: Summary,
    pub elapsed_ms: u128,
    /// `drain`: the wait for the real server's connections to end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<drain::DrainWait>,
    /// `up --rolling`: each batch of real servers, and why the roll stopped if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling: Option<roll::Roll>,
    /// What the operator should know that is not a failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `up` that moved VRRP between multicast and unicast: each VIP's holders once keepalived's
    /// new election is over.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub elections: Vec<election::Elected>,
    /// The human report shows at most this many lines of each diff (0: all); JSON has them all.
    #[serde(skip)]
    pub diff_lines: usize,
}

impl Report {
    pub fn new(command: Command, hosts: Vec<HostReport>, elapsed_ms: u128) -> Report {
        let count = |s: Status| hosts.iter().filter(|h| h.status == s).count();
        let by = |a: Action| {
            hosts
                .iter()
                .flat_map(|h| &h.changes)
                .filter(|c| c.action == a)
                .count()
        };
        let summary = Summary {
            hosts: hosts.len(),
            changed: count(Status::Changed),
            unchanged: count(Status::Unchanged),
            failed: count(Status::Failed),
            unreachable: count(Status::Unreachable),
            changes: hosts.iter().map(|h| h.changes.len()).sum(),
            add: by(Action::Create),
            change: by(Action::Update),
            destroy: by(Action::Delete),
        };
        Report {
            version: REPORT_VERSION,
            command,
            dry_run: command == Command::Check,
            hosts,
            summary,
            elapsed_ms,
            drain: None,
            rolling: None,
            warnings: vec![],
            elections: vec![],
            diff_lines: 0,
        }
    }

    pub fn exit(&self) -> Exit {
        let undrained = self.drain.as_ref().is_some_and(|d| !d.drained);
        let stopped = self.rolling.as_ref().is_some_and(|r| r.stopped.is_some());
        if self.summary.failed + self.summary.unreachable > 0 || undrained || stopped {
            Exit::HostFailed
        } else if self.dry_run && self.summary.changes > 0 {
            Exit::Changes
        } else {
            Exit::Ok
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    pub fn human(&self) -> String {
        let verb = if self.dry_run {
            "would change"
        } else {
            "changed"
        };
        let mut out: String = self
            .hosts
            .iter()
            .map(|h| self.host_lines(h, verb))
            .collect();
        out.push_str(&self.summary_lines(verb));
        if let Some(d) = &self.drain {
            out.push_str(&d.human());
        }
        if let Some(r) = &self.rolling {
            out.push_str(&r.human());
        }
        for w in &self.warnings {
            out.push_str(&format!("{} {w}\n", style("warning:").yellow().bold()));
        }
        for e in &self.elections {
            out.push_str(&format!("{}\n", e.human()));
        }
        out
    }

    /// A host's head line, each change, its notes and its error.
    fn host_lines(&self, h: &HostReport, verb: &str) -> String {
        let head = format!("{} ({}, {})", style(&h.name).bold(), h.address, h.role);
        let status = match h.status {
            Status::Unchanged => style("unchanged".to_string()).green(),
            Status::Changed => style(format!("{verb}: {} change(s)", h.changes.len())).yellow(),
            Status::Failed => style("FAILED".to_string()).red().bold(),
            Status::Unreachable => style("UNREACHABLE".to_string()).red().bold(),
        };
        let mut out = format!("{head}: {status}\n");
        for c in &h.changes {
            out.push_str(&self.change_lines(c));
        }
        for n in &h.notes {
            out.push_str(&format!("  {} {n}\n", style("note:").cyan().bold()));
        }
        if let Some(e) = &h.error {
            out.push_str(&format!("  {} {}\n", style("error:").red().bold(), e));
        }
        out
    }

    /// One change: its mark and resource, its diff (at most `--diff-lines` of it), its script.
    fn change_lines(&self, c: &Change) -> String {
        let mark = match c.action {
            Action::Create => style("+").green(),
            Action::Update => style("~").yellow(),
            Action::Delete => style("-").red(),
        };
        if !c.diff.contains('\n') {
            return format!("  {mark} {}: {}\n", c.resource, c.diff) + &script_lines(c);
        }
        let mut out = format!("  {mark} {}\n", c.resource);
        let total = c.diff.lines().count();
        let shown = match self.diff_lines {
            0 => total,
            n => n.min(total),
        };
        for line in c.diff.lines().take(shown) {
            out.push_str(&format!("      {}\n", diff_line(line)));
        }
        if shown < total {
            let more = format!(
                "… {} more lines (--diff-lines 0 shows all; --output json has them)",
                total - shown
            );
            out.push_str(&format!("      {}\n", style(more).dim()));
        }
        out + &script_lines(c)
    }

    /// The plan's counts by action (when anything changes), then the run's line.
    fn summary_lines(&self, verb: &str) -> String {
        let s = &self.summary;
        let check = self.dry_run;
        let mut out = String::new();
        if s.changes > 0 {
            let (head, add, change, destroy) = match check {
                true => ("plan", "to add", "to change", "to destroy"),
                false => ("done", "added", "changed", "destroyed"),
            };
            out.push_str(&format!(
                "{head}: {} {add}, {} {change}, {} {destroy}\n",
                s.add, s.change, s.destroy
            ));
        }
        out.push_str(&format!(
            "{}: {} host{}, {} {}, {} unchanged, {} failed, {} unreachable, {} change{} in {:.1} s\n",
            self.command.name(),
            s.hosts,
            if s.hosts == 1 { "" } else { "s" },
            s.changed,
            verb,
            s.unchanged,
            s.failed,
            s.unreachable,
            s.changes,
            if s.changes == 1 { "" } else { "s" },
            self.elapsed_ms as f64 / 1000.0
        ));
        out
    }
}

/// A unified diff's line, coloured by what it is.
fn diff_line(line: &str) -> console::StyledObject<&str> {
    if line.starts_with("+++") || line.starts_with("---") {
        style(line).bold()
    } else if line.starts_with('+') {
        style(line).green()
    } else if line.starts_with('-') {
        style(line).red()
    } else if line.starts_with("@@") {
        style(line).cyan()
    } else {
        style(line)
    }
}

/// `--show-scripts`: the change's shell under it, its lines exactly as they run (no prompt, no
/// indent: a line inside a quoted string is content), so it can be copied and run as it is.
fn script_lines(c: &Change) -> String {
    let Some(script) = &c.shown_script else {
        return String::new();
    };
    let mut out = format!(
        "      {}\n",
        style("script (runs as root, under set -e):").dim()
    );
    for line in script.lines() {
        out.push_str(&format!("{}\n", style(line).dim()));
    }
    out + &format!("      {}\n", style("end of script").dim())
}
