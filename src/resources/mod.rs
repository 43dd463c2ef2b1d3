//! One file per resource kind. A kind says what facts it needs ([`Resource::probe`]), what
//! differs from the desired state ([`Resource::plan`], pure) and how `down` undoes it
//! ([`Resource::down`]). A [`Change`] carries its own shell fragment, so `apply` only concatenates
//! and `check` shows exactly what `up` would run. A new kind is a new file plus one line in [`Step`].

use crate::facts::{Facts, Probe};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub mod address;
pub mod directory;
pub mod file;
pub mod firewall;
pub mod hostname;
pub mod ipvs;
pub mod ipvs_kernel;
pub mod line;
pub mod package;
pub mod service;
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
    /// A unified diff for files, `before → after` for values.
    pub diff: String,
    /// The shell that makes the change; run by `up`/`down`, never by `check`.
    #[serde(skip)]
    pub script: String,
}

impl Change {
    pub fn new(
        resource: impl Into<String>,
        action: Action,
        diff: impl Into<String>,
        script: impl Into<String>,
    ) -> Self {
        Change {
            resource: resource.into(),
            action,
            diff: diff.into(),
            script: script.into(),
        }
    }
}

/// What planning carries from one step to the next: service reloads owed by files changed earlier
/// in the same plan.
#[derive(Debug, Default)]
pub struct Owed {
    pub reloads: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DownOptions {
    /// Also remove the packages `up` installed.
    pub purge: bool,
}

pub trait Resource {
    fn probe(&self, probe: &mut Probe);
    /// Err is a refusal: this host cannot be converged, and nothing is changed on it.
    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, String>;
    fn down(&self, facts: &Facts, opts: DownOptions) -> Vec<Change>;
}

/// A playbook step: `{"<kind>": {...}}`.
#[derive(Debug, Clone, Deserialize)]
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
    FirewallPort(firewall::FirewallPort),
    Line(line::Line),
    Directory(directory::Directory),
}

impl Step {
    pub fn resource(&self) -> &dyn Resource {
        match self {
            Step::IpvsKernel(r) => r,
            Step::Hostname(r) => r,
            Step::Package(r) => r,
            Step::Sysctl(r) => r,
            Step::File(r) => r,
            Step::Address(r) => r,
            Step::Service(r) => r,
            Step::Ipvs(r) => r,
            Step::FirewallPort(r) => r,
            Step::Line(r) => r,
            Step::Directory(r) => r,
        }
    }

    /// The template a step's content comes from and where the rendered text goes; the playbook
    /// loader fills it in, with the step's own fields as `step` and its `vars` as `vars`.
    pub fn template_mut(&mut self) -> Option<(String, &mut Option<String>)> {
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
