//! One file per resource kind. A kind says what facts it needs ([`Resource::probe`]), what
//! differs from the desired state ([`Resource::plan`], pure) and how `down` undoes it
//! ([`Resource::down`]). A [`Change`] carries its own [`Script`], so `apply` only concatenates
//! and `check` shows exactly what `up` would run. A new kind is a new file plus one line in [`Step`].

use crate::facts::{Facts, Probe};
use crate::shell::Script;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub mod address;
pub mod directory;
pub mod file;
pub mod firewall;
pub mod hostname;
pub mod ipvs;
pub mod ipvs_kernel;
pub mod ipvs_sync;
pub mod ipvs_timeouts;
pub mod line;
pub mod package;
pub mod persist;
pub mod retired;
pub mod selinux;
pub mod service;
pub mod stale_vips;
pub mod sysctl;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub resource: String,
    pub action: Action,
    /// A unified diff for files, `before → after` for values. Secrets are already masked here.
    pub diff: String,
    /// The shell that makes the change; run by `up`/`down`, never printed.
    #[serde(skip)]
    pub script: Script,
    /// It restarts or reloads a service that is serving: on real servers, a reason to roll.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupts: bool,
    /// `--show-scripts`: the script as shown, secrets masked.
    #[serde(rename = "script", skip_serializing_if = "Option::is_none")]
    pub shown_script: Option<String>,
}

impl Change {
    pub fn new(
        resource: impl Into<String>,
        action: Action,
        diff: impl Into<String>,
        script: Script,
    ) -> Self {
        Change {
            resource: resource.into(),
            action,
            diff: diff.into(),
            script,
            interrupts: false,
            shown_script: None,
        }
    }

    /// Marks a change that restarts or reloads a running service.
    pub fn interrupting(mut self) -> Self {
        self.interrupts = true;
        self
    }
}

/// What planning carries from one step to the next: service reloads owed by files changed earlier
/// in the same plan.
#[derive(Debug, Default)]
pub struct Owed {
    pub reloads: BTreeSet<String>,
    /// An earlier step installs packages, which may write files later steps manage.
    pub packages_changed: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DownOptions {
    /// Also remove the packages `up` installed.
    pub purge: bool,
}

/// Why a host cannot be converged: nothing is changed on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal(pub String);

impl Refusal {
    /// A step asks for facts that were not read (`Probe::ipvs`, `Probe::firewall`): planning on
    /// them would take "not read" for "absent". `plan::plan` checks this for every step.
    pub fn unread(what: &str) -> Refusal {
        Refusal(format!(
            "lvsprov did not read this host's {what}, which a step needs (a bug in lvsprov: \
             the step's probe must ask for it); nothing was changed on this host"
        ))
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub trait Resource {
    fn probe(&self, probe: &mut Probe);
    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, Refusal>;
    fn down(&self, facts: &Facts, opts: DownOptions) -> Vec<Change>;
}

/// A playbook step: `{"<kind>": {...}}`. The `persist_*` steps are intents: the
/// playbook loader replaces them by the host platform's own steps before planning.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    IpvsKernel(ipvs_kernel::IpvsKernel),
    Hostname(hostname::Hostname),
    Package(package::Package),
    Sysctl(sysctl::Sysctl),
    File(file::File),
    Address(address::Address),
    Service(service::Service),
    Ipvs(ipvs::Ipvs),
    IpvsSync(ipvs_sync::IpvsSync),
    IpvsSyncOff(ipvs_sync::IpvsSyncOff),
    IpvsTimeouts(ipvs_timeouts::IpvsTimeouts),
    FirewallPort(firewall::FirewallPort),
    StalePorts(firewall::StalePorts),
    StaleVips(stale_vips::StaleVips),
    Line(line::Line),
    Directory(directory::Directory),
    PersistVip(persist::PersistVip),
    PersistIpvs(persist::PersistIpvs),
    PersistIpvsSync(persist::PersistIpvsSync),
    NoIpvsRestore(persist::NoIpvsRestore),
    SelinuxBoolean(selinux::SelinuxBoolean),
    Retired(retired::Retired),
}

impl Step {
    /// The resource behind a concrete step; None for an intent the loader has not expanded.
    pub fn resource(&self) -> Option<&dyn Resource> {
        Some(match self {
            Step::IpvsKernel(r) => r,
            Step::Hostname(r) => r,
            Step::Package(r) => r,
            Step::Sysctl(r) => r,
            Step::File(r) => r,
            Step::Address(r) => r,
            Step::Service(r) => r,
            Step::Ipvs(r) => r,
            Step::IpvsSync(r) => r,
            Step::IpvsSyncOff(r) => r,
            Step::IpvsTimeouts(r) => r,
            Step::FirewallPort(r) => r,
            Step::StalePorts(r) => r,
            Step::StaleVips(r) => r,
            Step::Line(r) => r,
            Step::Directory(r) => r,
            Step::SelinuxBoolean(r) => r,
            Step::Retired(r) => r,
            Step::PersistVip(_)
            | Step::PersistIpvs(_)
            | Step::PersistIpvsSync(_)
            | Step::NoIpvsRestore(_) => return None,
        })
    }

    /// The template a step's content comes from and where the rendered text goes; the playbook
    /// loader fills it in, with the step's own fields as `step` and its `vars` as `vars`.
    pub fn template_mut(&mut self) -> Option<(String, &mut Option<file::Rendered>)> {
        match self {
            Step::File(f) => f.template.clone().map(|t| (t, &mut f.content)),
            Step::Sysctl(s) => s.template.clone().map(|t| (t, &mut s.content)),
            _ => None,
        }
    }
}

/// `before → after` for a value.
pub fn arrow(before: &str, after: &str) -> String {
    format!("{before} → {after}")
}
