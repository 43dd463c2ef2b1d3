//! A step the inventory no longer asks for, undone as `down` would undo it. Turning a feature
//! off (`health_check.through_vip`) then takes away what it had put on the host at the next
//! `up`, instead of leaving it, working, until `down`. A playbook writes `{"retired": STEP}`;
//! what is already gone plans nothing.

use super::{Change, DownOptions, Owed, Refusal, Resource, Step};
use crate::facts::{Facts, Probe};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Retired(pub Box<Step>);

impl Resource for Retired {
    fn probe(&self, probe: &mut Probe) {
        if let Some(r) = self.0.resource() {
            r.probe(probe);
        }
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        Ok(self.down(facts, DownOptions::default()))
    }

    fn down(&self, facts: &Facts, opts: DownOptions) -> Vec<Change> {
        self.0
            .resource()
            .map(|r| r.down(facts, opts))
            .unwrap_or_default()
    }
}
