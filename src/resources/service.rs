//! A service enabled and running, by the platform's own verbs (systemd, or init scripts on hosts
//! without it). A reload owed by a changed config file (this run's or a failed earlier run's) is
//! done once, here.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::host_state::{self, reload_marker};
use crate::os::Verb;
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    /// `down` stops and disables it (keepalived: it owns the VIP); otherwise it keeps running.
    #[serde(default)]
    pub stop_on_down: bool,
    /// Enabled for the next boot, never started by `up` (ipvsadm's restore: the rules it would
    /// restore are live already, and restoring them again fails on every one).
    #[serde(default)]
    pub boot_only: bool,
    /// Disabled at boot, never stopped (`ipvsadm` on a keepalived director: at boot it would
    /// restore whatever table was saved at shutdown, and stopping it clears the live table). If
    /// lvsprov disabled it, `down` enables it again.
    #[serde(default)]
    pub off_at_boot: bool,
}

impl Service {
    pub fn named(name: &str) -> Service {
        Service {
            name: name.into(),
            stop_on_down: false,
            boot_only: false,
            off_at_boot: false,
        }
    }

    pub fn off_at_boot(name: &str) -> Service {
        Service {
            off_at_boot: true,
            ..Service::named(name)
        }
    }

    fn record_key(&self) -> String {
        format!("service.{}", self.name)
    }

    pub fn at_boot(name: &str) -> Service {
        Service {
            boot_only: true,
            stop_on_down: true,
            ..Service::named(name)
        }
    }

    fn cmd(&self, facts: &Facts, verb: Verb) -> Script {
        facts.platform.service(facts.boot.init, &self.name, verb)
    }

    fn clear_marker(&self) -> Script {
        sh!("rm -f {}", reload_marker(&self.name))
    }
}

impl Resource for Service {
    fn probe(&self, probe: &mut Probe) {
        probe.services.insert(self.name.clone());
    }

    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let now = facts.services.get(&self.name).copied().unwrap_or_default();
        let resource = format!("service {}", self.name);
        let mut out = Vec::new();
        if self.off_at_boot {
            if now.enabled {
                let record =
                    host_state::remember(&facts.sysctl_orig, &self.record_key(), "enabled");
                out.push(Change::new(
                    &resource,
                    Action::Update,
                    arrow("enabled at boot", "disabled at boot (left running)"),
                    record.then(self.cmd(facts, Verb::Disable)),
                ));
            }
            return Ok(out);
        }
        if !now.enabled {
            out.push(Change::new(
                &resource,
                Action::Update,
                arrow("disabled", "enabled"),
                self.cmd(facts, Verb::Enable),
            ));
        }
        let owes = owed.reloads.remove(&self.name) || facts.pending_reloads.contains(&self.name);
        if self.boot_only {
            return Ok(out);
        }
        if !now.active {
            // A package installed by this run may have started it already, with the packaged
            // config: then only a reload reads the files this run wrote.
            let verb = if owes { Verb::Reload } else { Verb::Start };
            out.push(Change::new(
                &resource,
                Action::Update,
                arrow("stopped", "running"),
                self.cmd(facts, verb).then(self.clear_marker()),
            ));
        } else if owes {
            out.push(
                Change::new(
                    &resource,
                    Action::Update,
                    arrow("running with an old config", "reloaded"),
                    self.cmd(facts, Verb::Reload).then(self.clear_marker()),
                )
                .interrupting(),
            );
        }
        Ok(out)
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let now = facts.services.get(&self.name).copied().unwrap_or_default();
        if self.off_at_boot {
            let was = facts.sysctl_orig.get(&self.record_key());
            if now.enabled || was.map(String::as_str) != Some("enabled") {
                return vec![];
            }
            return vec![Change::new(
                format!("service {}", self.name),
                Action::Update,
                arrow("disabled at boot", "enabled at boot, as before `up`"),
                self.cmd(facts, Verb::Enable),
            )];
        }
        if !self.stop_on_down || (!now.active && !now.enabled) {
            return vec![];
        }
        if self.boot_only {
            if !now.enabled {
                return vec![];
            }
            return vec![Change::new(
                format!("service {}", self.name),
                Action::Update,
                arrow("enabled", "disabled"),
                self.cmd(facts, Verb::Disable),
            )];
        }
        vec![Change::new(
            format!("service {}", self.name),
            Action::Update,
            arrow("running", "stopped"),
            sh!("{} || true", self.cmd(facts, Verb::Stop))
                .then(self.cmd(facts, Verb::Disable))
                .then(self.clear_marker()),
        )]
    }
}
