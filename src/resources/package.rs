//! Packages, by the host's own package manager. They stay on `down` unless `--purge`.

use super::{arrow, Action, Change, DownOptions, Owed, Resource};
use crate::facts::{Facts, Probe};
use crate::shell::quote;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub names: Vec<String>,
}

fn manager(facts: &Facts, verb: &str, names: &[&String]) -> String {
    let list: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let list = list.join(" ");
    match facts.pkg_mgr.as_str() {
        "apt-get" => format!(
            "DEBIAN_FRONTEND=noninteractive apt-get {verb} -y -q -o Dpkg::Options::=--force-confold {list} >/tmp/lvsprov-apt.log 2>&1 || {{ tail -n 20 /tmp/lvsprov-apt.log >&2; exit 1; }}"
        ),
        m => format!("{} {verb} -y -q {list}", if m.is_empty() { "yum" } else { m }),
    }
}

impl Resource for Package {
    fn probe(&self, probe: &mut Probe) {
        probe.packages.extend(self.names.iter().cloned());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, String> {
        let missing: Vec<&String> = self
            .names
            .iter()
            .filter(|n| !facts.packages.contains(*n))
            .collect();
        if missing.is_empty() {
            return Ok(vec![]);
        }
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        Ok(vec![Change::new(
            format!("package {}", names.join(", ")),
            Action::Create,
            arrow("absent", "installed"),
            manager(facts, "install", &missing),
        )])
    }

    fn down(&self, facts: &Facts, opts: DownOptions) -> Vec<Change> {
        let present: Vec<&String> = self
            .names
            .iter()
            .filter(|n| facts.packages.contains(*n))
            .collect();
        if !opts.purge || present.is_empty() {
            return vec![];
        }
        let names: Vec<&str> = present.iter().map(|s| s.as_str()).collect();
        let verb = if facts.pkg_mgr == "apt-get" {
            "purge"
        } else {
            "remove"
        };
        vec![Change::new(
            format!("package {}", names.join(", ")),
            Action::Delete,
            arrow("installed", "absent"),
            manager(facts, verb, &present),
        )]
    }
}
