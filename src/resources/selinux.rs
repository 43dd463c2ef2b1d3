//! An SELinux boolean, persistent (`setsebool -P`), set only where SELinux is on and the loaded
//! policy has the boolean. Its value before lvsprov first changed it is recorded on the host
//! beside the sysctls' (`selinux.NAME=off`), so `down` turns back exactly what `up` turned.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::host_state;
use crate::sh;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SelinuxBoolean {
    pub name: String,
    /// `on` or `off`.
    pub value: String,
}

impl SelinuxBoolean {
    fn record_key(&self) -> String {
        format!("selinux.{}", self.name)
    }

    fn now<'a>(&self, facts: &'a Facts) -> Option<&'a str> {
        if !facts.selinux.labels() {
            return None;
        }
        facts.selinux.booleans.get(&self.name).map(String::as_str)
    }
}

impl Resource for SelinuxBoolean {
    fn probe(&self, probe: &mut Probe) {
        probe.selinux_booleans.insert(self.name.clone());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let Some(now) = self.now(facts).filter(|now| *now != self.value) else {
            return Ok(vec![]);
        };
        let record = host_state::remember(&facts.sysctl_orig, &self.record_key(), now);
        Ok(vec![Change::new(
            format!("selinux boolean {}", self.name),
            Action::Update,
            arrow(now, &self.value),
            record.then(sh!("setsebool -P {} {}", self.name, self.value)),
        )])
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let (Some(now), Some(orig)) = (self.now(facts), facts.sysctl_orig.get(&self.record_key()))
        else {
            return vec![];
        };
        if now == orig {
            return vec![];
        }
        vec![Change::new(
            format!("selinux boolean {}", self.name),
            Action::Update,
            arrow(now, orig),
            sh!("setsebool -P {} {}", self.name, orig),
        )]
    }
}
