//! Kernel parameters, live (`sysctl -w`) and persisted (a sysctl.d file). The value each key had
//! before lvsprov first changed it is recorded on the host, so `down` restores exactly that.

use super::file::{plan_file, plan_file_down, Rendered};
use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::host_state::{self, SYSCTL_ORIG};
use crate::sh;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sysctl {
    pub file: String,
    /// Ordered: the playbook decides which key goes first.
    pub values: Vec<(String, String)>,
    /// Keys that exist only once a module is loaded (`net.ipv4.vs.*` with ip_vs), with the
    /// kernel's value: a step before this one loads the module in the same apply.
    #[serde(default)]
    pub module_defaults: std::collections::BTreeMap<String, String>,
    pub template: Option<String>,
    #[serde(skip_serializing)]
    pub content: Option<Rendered>,
}

/// The key as `sysctl -w` and sysctl.d read it. Both turn dots into path separators, so an
/// interface whose name has dots (`bond0.100`) is written with slashes in that segment
/// (`net.ipv4.conf.bond0/100.arp_ignore`), which they turn back into its dots.
pub fn conf_key(key: &str) -> String {
    match key
        .strip_prefix("net.ipv4.conf.")
        .and_then(|rest| rest.rsplit_once('.'))
    {
        Some((dev, leaf)) if dev.contains('.') => {
            format!("net.ipv4.conf.{}.{leaf}", dev.replace('.', "/"))
        }
        _ => key.to_string(),
    }
}

impl Sysctl {
    fn file_content(&self) -> Rendered {
        match &self.content {
            Some(c) => c.clone(),
            None => Rendered::from(
                self.values
                    .iter()
                    .map(|(k, v)| format!("{} = {v}\n", conf_key(k)))
                    .collect::<String>(),
            ),
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

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        super::file::refuse_link(&self.file, facts)?;
        let mut out: Vec<Change> = Vec::new();
        let mut unrecorded = Vec::new();
        for (key, want) in &self.values {
            let Some(now) = facts
                .sysctls
                .get(key)
                .or_else(|| self.module_defaults.get(key))
            else {
                return Err(Refusal(format!("sysctl {key} does not exist on this host; check the interface name (set \"nic\" in the inventory)")));
            };
            if now == want {
                continue;
            }
            if !facts.sysctl_orig.contains_key(key) {
                unrecorded.push(format!("{key}={now}"));
            }
            out.push(Change::new(
                format!("sysctl {key}"),
                Action::Update,
                arrow(now, want),
                sh!("sysctl -q -w {}={}", conf_key(key), want),
            ));
        }
        // Every value this step will change is recorded before the first change, in one write:
        // a run that dies after any of them leaves what `down` needs.
        if let Some(first) = out.first_mut() {
            let record = host_state::add_lines(SYSCTL_ORIG, &unrecorded);
            first.script = record.then(std::mem::take(&mut first.script));
        }
        out.extend(plan_file(
            &self.file,
            &self.file_content(),
            Some("0644"),
            super::file::Guard::none(),
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
                    sh!("sysctl -q -w {}={}", conf_key(key), orig),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::conf_key;

    #[test]
    fn a_vlan_nic_keeps_its_dots_as_slashes() {
        assert_eq!(
            conf_key("net.ipv4.conf.bond0.100.arp_ignore"),
            "net.ipv4.conf.bond0/100.arp_ignore"
        );
        assert_eq!(
            conf_key("net.ipv4.conf.eth0.arp_ignore"),
            "net.ipv4.conf.eth0.arp_ignore"
        );
        assert_eq!(conf_key("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(
            conf_key("net.ipv4.vs.conn_reuse_mode"),
            "net.ipv4.vs.conn_reuse_mode"
        );
    }
}
