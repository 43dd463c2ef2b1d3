//! The host's name, live and in /etc/hostname.

use super::{arrow, Action, Change, DownOptions, Owed, Resource};
use crate::facts::{Facts, Probe};
use crate::shell::quote;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hostname {
    pub name: String,
}

impl Resource for Hostname {
    fn probe(&self, _: &mut Probe) {}

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, String> {
        if facts.hostname == self.name {
            return Ok(vec![]);
        }
        let q = quote(&self.name);
        // Written in place, not renamed: in containers /etc/hostname is a bind mount.
        let script = format!("hostname {q}\nprintf '%s\\n' {q} > /etc/hostname");
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
