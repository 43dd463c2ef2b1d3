//! A directory with a mode. `down` removes it only when empty: what others put there stays.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub path: String,
    /// e.g. "0755"
    pub mode: String,
}

impl Resource for Directory {
    fn probe(&self, probe: &mut Probe) {
        probe.dirs.insert(self.path.clone());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let want = self.mode.trim_start_matches('0');
        let chmod = sh!("chmod {} {}", self.mode, self.path);
        Ok(match facts.dirs.get(&self.path) {
            None => vec![Change::new(
                format!("directory {}", self.path),
                Action::Create,
                arrow("absent", &format!("mode {}", self.mode)),
                sh!("mkdir -p {}\n{}", self.path, chmod),
            )],
            Some(m) if m.trim_start_matches('0') != want => {
                vec![Change::new(
                    format!("directory {}", self.path),
                    Action::Update,
                    arrow(&format!("mode {m}"), &format!("mode {}", self.mode)),
                    chmod,
                )]
            }
            Some(_) => vec![],
        })
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        if !facts.dirs.contains_key(&self.path) {
            return vec![];
        }
        vec![Change::new(
            format!("directory {}", self.path),
            Action::Delete,
            arrow("present", "absent if empty"),
            sh!("rmdir {} 2>/dev/null || true", self.path),
        )]
    }
}
