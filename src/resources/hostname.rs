//! The host's name, live and in /etc/hostname.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Hostname {
    pub name: String,
}

impl Resource for Hostname {
    fn probe(&self, _: &mut Probe) {}

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        if facts.hostname == self.name {
            return Ok(vec![]);
        }
        // Written in place, not renamed: in containers /etc/hostname is a bind mount (the one
        // file lvsprov does not write through `host_state::atomic_write`).
        let script = sh!(
            "hostname {}\nprintf '%s\\n' {} > /etc/hostname",
            self.name,
            self.name
        );
        Ok(vec![Change::new(
            "hostname",
            Action::Update,
            arrow(&facts.hostname, &self.name),
            script,
        )])
    }

    fn down(&self, _: &Facts, _: DownOptions) -> Vec<Change> {
        vec![]
    }
}
