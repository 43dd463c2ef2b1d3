//! A port opened in the host's firewall, only when one is active. lvsprov never turns a firewall off.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPort {
    pub port: u16,
    pub protocol: String,
}

impl Resource for FirewallPort {
    fn probe(&self, _: &mut Probe) {}

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let spec = format!("{}/{}", self.port, self.protocol);
        if facts.firewall_open.iter().any(|p| p == &spec) {
            return Ok(vec![]);
        }
        let Some(script) = facts.platform().open_port(facts.firewall, &spec) else {
            return Ok(vec![]);
        };
        Ok(vec![Change::new(
            format!("firewall port {spec}"),
            Action::Create,
            arrow("closed", "open"),
            script,
        )])
    }

    /// The port stays open: closing it could cut a service someone else opened it for.
    fn down(&self, _: &Facts, _: DownOptions) -> Vec<Change> {
        vec![]
    }
}
