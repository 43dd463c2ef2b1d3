//! A service enabled and running, by systemd or, on hosts without it, by the init script. A reload
//! owed by a changed config file (this run's or a failed earlier run's) is done once, here.

use super::{arrow, Action, Change, DownOptions, Owed, Resource};
use crate::facts::{Facts, Probe, STATE_DIR};
use crate::shell::quote;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    /// `down` stops and disables it (keepalived: it owns the VIP); otherwise it keeps running.
    #[serde(default)]
    pub stop_on_down: bool,
}

impl Service {
    fn cmd(&self, facts: &Facts, verb: &str) -> String {
        let n = quote(&self.name);
        match (facts.has_systemd(), verb) {
            (true, "reload") => format!("systemctl reload-or-restart {n}"),
            (true, v) => format!("systemctl {v} {n}"),
            (false, "enable") => {
                format!("update-rc.d {n} defaults >/dev/null 2>&1 || update-rc.d {n} enable")
            }
            (false, "disable") => format!("update-rc.d {n} disable >/dev/null 2>&1 || true"),
            (false, "reload") => format!("service {n} reload || service {n} restart"),
            (false, v) => format!("service {n} {v}"),
        }
    }

    fn clear_marker(&self) -> String {
        format!(
            "rm -f {}",
            quote(&format!("{STATE_DIR}/reload/{}", self.name))
        )
    }
}

impl Resource for Service {
    fn probe(&self, probe: &mut Probe) {
        probe.services.insert(self.name.clone());
    }

    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, String> {
        let now = facts.services.get(&self.name).copied().unwrap_or_default();
        let resource = format!("service {}", self.name);
        let mut out = Vec::new();
        if !now.enabled {
            out.push(Change::new(
                &resource,
                Action::Update,
                arrow("disabled", "enabled"),
                self.cmd(facts, "enable"),
            ));
        }
        let owes = owed.reloads.remove(&self.name) || facts.pending_reloads.contains(&self.name);
        if !now.active {
            out.push(Change::new(
                &resource,
                Action::Update,
                arrow("stopped", "running"),
                format!("{}\n{}", self.cmd(facts, "start"), self.clear_marker()),
            ));
        } else if owes {
            out.push(Change::new(
                &resource,
                Action::Update,
                arrow("running with an old config", "reloaded"),
                format!("{}\n{}", self.cmd(facts, "reload"), self.clear_marker()),
            ));
        }
        Ok(out)
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let now = facts.services.get(&self.name).copied().unwrap_or_default();
        if !self.stop_on_down || (!now.active && !now.enabled) {
            return vec![];
        }
        vec![Change::new(
            format!("service {}", self.name),
            Action::Update,
            arrow("running", "stopped"),
            format!(
                "{} || true\n{}\n{}",
                self.cmd(facts, "stop"),
                self.cmd(facts, "disable"),
                self.clear_marker()
            ),
        )]
    }
}
