//! Packages, by the platform's package manager. They stay on `down` unless `--purge`.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub names: Vec<String>,
}

impl Resource for Package {
    fn probe(&self, probe: &mut Probe) {
        probe.packages.extend(self.names.iter().cloned());
    }

    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let missing: Vec<&str> = self
            .names
            .iter()
            .filter(|n| !facts.packages.contains(*n))
            .map(String::as_str)
            .collect();
        let mut out = Vec::new();
        if facts.package_db_interrupted {
            if let Some(repair) = facts.platform.packages().repair() {
                out.push(Change::new(
                    "package database",
                    Action::Update,
                    arrow("interrupted mid-change", "finished"),
                    repair,
                ));
            }
        }
        if !missing.is_empty() {
            out.push(Change::new(
                format!("package {}", missing.join(", ")),
                Action::Create,
                arrow("absent", "installed"),
                facts.platform.packages().install(&missing),
            ));
        }
        owed.packages_changed |= !out.is_empty();
        Ok(out)
    }

    fn down(&self, facts: &Facts, opts: DownOptions) -> Vec<Change> {
        let present: Vec<&str> = self
            .names
            .iter()
            .filter(|n| facts.packages.contains(*n))
            .map(String::as_str)
            .collect();
        if !opts.purge || present.is_empty() {
            return vec![];
        }
        vec![Change::new(
            format!("package {}", present.join(", ")),
            Action::Delete,
            arrow("installed", "absent"),
            facts.platform.packages().remove(&present),
        )]
    }
}
