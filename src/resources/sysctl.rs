//! Kernel parameters, live (`sysctl -w`) and persisted (a sysctl.d file). The value each key had
//! before lvsprov first changed it is recorded on the host, so `down` restores exactly that.

use super::file::{plan_file, plan_file_down};
use super::{arrow, Action, Change, DownOptions, Owed, Resource};
use crate::facts::{Facts, Probe, STATE_DIR};
use crate::shell::quote;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sysctl {
    pub file: String,
    /// Ordered: the playbook decides which key goes first.
    pub values: Vec<(String, String)>,
    pub template: Option<String>,
    pub content: Option<String>,
}

impl Sysctl {
    fn file_content(&self) -> String {
        match &self.content {
            Some(c) => c.clone(),
            None => self
                .values
                .iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect(),
        }
    }
}

impl Resource for Sysctl {
    fn probe(&self, probe: &mut Probe) {
        for (k, _) in &self.values {
            match k
                .strip_prefix("net.ipv4.conf.")
                .and_then(|r| r.split_once('.'))
            {
                Some((_, leaf)) => probe.conf_leaves.insert(leaf.to_string()),
                None => probe.sysctls.insert(k.clone()),
            };
        }
        probe.files.insert(self.file.clone());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, String> {
        let mut out = Vec::new();
        for (key, want) in &self.values {
            let Some(now) = facts.sysctls.get(key) else {
                return Err(format!("sysctl {key} does not exist on this host; check the interface name (set \"nic\" in the inventory)"));
            };
            if now == want {
                continue;
            }
            let (k, v) = (quote(key), quote(want));
            let record = if facts.sysctl_orig.contains_key(key) {
                String::new()
            } else {
                format!(
                    "mkdir -p {STATE_DIR}\ngrep -q '^'{k}'=' {STATE_DIR}/sysctl.orig 2>/dev/null || echo {}={} >> {STATE_DIR}/sysctl.orig\n",
                    k,
                    quote(now)
                )
            };
            out.push(Change::new(
                format!("sysctl {key}"),
                Action::Update,
                arrow(now, want),
                format!("{record}sysctl -q -w {k}={v}"),
            ));
        }
        out.extend(plan_file(
            &self.file,
            &self.file_content(),
            Some("0644"),
            facts,
        ));
        Ok(out)
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let mut out: Vec<Change> = plan_file_down(&self.file, facts).into_iter().collect();
        for (key, _) in self.values.iter().rev() {
            let (Some(orig), Some(now)) = (facts.sysctl_orig.get(key), facts.sysctls.get(key))
            else {
                continue;
            };
            if orig != now {
                out.push(Change::new(
                    format!("sysctl {key}"),
                    Action::Update,
                    arrow(now, orig),
                    format!("sysctl -q -w {}={}", quote(key), quote(orig)),
                ));
            }
        }
        out
    }
}
