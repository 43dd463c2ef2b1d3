//! SELinux: whether it labels files (enforcing or permissive) and the booleans the steps name.
//! A file lvsprov moves into place keeps the label of where it was made (a temp file, or the
//! backup under `/var/lib/lvsprov`), so on such a host every write and restore ends with
//! `restorecon`; a boolean lvsprov turns on is recorded and turned back by `down`.

use super::Probe;
use crate::sh;
use crate::shell::Script;
use std::collections::BTreeMap;

pub const TAG: &str = "selinux";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Enforcing,
    Permissive,
    /// Disabled, or no SELinux userland at all (Debian).
    #[default]
    Off,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selinux {
    pub mode: Mode,
    /// The booleans asked for that the loaded policy has: `on` or `off`.
    pub booleans: BTreeMap<String, String>,
}

impl Selinux {
    /// Files get labels: a moved file must be relabelled.
    pub fn labels(&self) -> bool {
        self.mode != Mode::Off
    }
}

pub fn fragment(p: &Probe) -> Script {
    let names = Script::words(&p.selinux_booleans);
    let booleans = if names.is_empty() {
        Script::new()
    } else {
        sh!("; getsebool{} 2>/dev/null", names)
    };
    sh!(
        "if command -v getenforce >/dev/null; then getenforce{}; else echo Disabled; fi",
        booleans
    )
}

/// `Enforcing`, then `keepalived_connect_any --> off` per boolean.
pub fn parse(lines: &[&str]) -> Selinux {
    let mode = match lines.first().map(|l| l.trim()) {
        Some("Enforcing") => Mode::Enforcing,
        Some("Permissive") => Mode::Permissive,
        _ => Mode::Off,
    };
    let booleans = lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split_once("-->"))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .filter(|(n, v)| !n.is_empty() && (v == "on" || v == "off"))
        .collect();
    Selinux { mode, booleans }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_mode_and_the_booleans_the_policy_has() {
        let s = parse(&["Enforcing", "keepalived_connect_any --> off"]);
        assert!(s.labels());
        assert_eq!(s.booleans["keepalived_connect_any"], "off");
        // A policy without the boolean prints an error on stderr, nothing here.
        assert_eq!(parse(&["Permissive"]).booleans.len(), 0);
        assert_eq!(parse(&["Disabled"]), Selinux::default());
        assert!(!parse(&[]).labels());
    }

    #[test]
    fn asks_only_for_the_booleans_named() {
        let mut p = Probe::default();
        assert_eq!(
            fragment(&p).as_str(),
            "if command -v getenforce >/dev/null; then getenforce; else echo Disabled; fi"
        );
        p.selinux_booleans.insert("keepalived_connect_any".into());
        assert!(fragment(&p)
            .as_str()
            .contains("getenforce; getsebool keepalived_connect_any 2>/dev/null"));
    }
}
