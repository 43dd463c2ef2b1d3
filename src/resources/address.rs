//! An address on an interface, live (`ip addr`). Persistence is a file step in the playbook,
//! chosen per OS family, so this kind stays one idea.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub ip: IpAddr,
    pub prefix: u8,
    pub dev: String,
    pub label: Option<String>,
}

impl Address {
    fn show(&self) -> String {
        format!("{}/{} on {}", self.ip, self.prefix, self.label())
    }

    /// The alias label `ip` shows: IPv6 addresses have none (the interface's own name).
    fn label(&self) -> &str {
        match (&self.label, self.ip) {
            (Some(l), IpAddr::V4(_)) => l,
            _ => &self.dev,
        }
    }
}

impl Resource for Address {
    fn probe(&self, _: &mut Probe) {}

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let here: Vec<_> = facts
            .addrs
            .iter()
            .filter(|a| a.ip == self.ip && a.dev == self.dev)
            .collect();
        let label = self.label();
        if here
            .iter()
            .any(|a| a.prefix == self.prefix && a.label == label)
        {
            return Ok(vec![]);
        }
        let mut script = Script::new();
        for a in &here {
            // A wrong prefix (a /24 VIP on lo makes the whole subnet local) is removed, not kept beside.
            script.push(sh!("ip addr del {}/{} dev {}", a.ip, a.prefix, self.dev));
        }
        script.push(match self.ip {
            IpAddr::V4(_) => sh!(
                "ip addr add {}/{} dev {} label {}",
                self.ip,
                self.prefix,
                self.dev,
                label
            ),
            IpAddr::V6(_) => sh!("ip addr add {}/{} dev {}", self.ip, self.prefix, self.dev),
        });
        let (action, before) = match here.first() {
            Some(a) => (
                Action::Update,
                format!("{}/{} on {}", a.ip, a.prefix, a.label),
            ),
            None => (Action::Create, "absent".to_string()),
        };
        Ok(vec![Change::new(
            format!("address {} on {}", self.ip, self.dev),
            action,
            arrow(&before, &self.show()),
            script,
        )])
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        facts
            .addrs
            .iter()
            .filter(|a| a.ip == self.ip && a.dev == self.dev)
            .map(|a| {
                Change::new(
                    format!("address {} on {}", self.ip, self.dev),
                    Action::Delete,
                    arrow(&format!("{}/{} on {}", a.ip, a.prefix, a.label), "absent"),
                    sh!("ip addr del {}/{} dev {}", a.ip, a.prefix, self.dev),
                )
            })
            .collect()
    }
}
