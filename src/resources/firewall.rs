//! A port opened in the host's firewall, only when one is active. lvsprov never turns a firewall off.

use super::{arrow, Action, Change, DownOptions, Owed, Resource};
use crate::facts::{Facts, Firewall, Probe};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPort {
    pub port: u16,
    pub protocol: String,
}

impl Resource for FirewallPort {
    fn probe(&self, _: &mut Probe) {}

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, String> {
        let spec = format!("{}/{}", self.port, self.protocol);
        if facts.firewall_open.iter().any(|p| p == &spec) {
            return Ok(vec![]);
        }
        let script = match facts.firewall {
            Firewall::None => return Ok(vec![]),
            Firewall::Firewalld => format!(
                "firewall-cmd -q --permanent --add-port={spec}\nfirewall-cmd -q --add-port={spec}"
            ),
            Firewall::Ufw => format!("ufw allow {spec} >/dev/null"),
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
