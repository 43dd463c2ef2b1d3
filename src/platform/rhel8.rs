//! RHEL 8 and later (and its rebuilds, and Fedora): dnf, httpd, network-scripts gone, so the VIP
//! is put back at boot by a small systemd unit of lvsprov's; IPVS rules restored by
//! `ipvsadm.service` from `/etc/sysconfig/ipvsadm`.

use super::rhel7::{yum_like, Rhel7};
use super::{Platform, PlatformId, Verb};
use crate::facts::Boot;
use crate::resources::Step;
use crate::shell::Script;

pub struct Rhel8;

impl Platform for Rhel8 {
    fn id(&self) -> PlatformId {
        PlatformId::Rhel8
    }

    fn web_server(&self) -> &'static str {
        Rhel7.web_server()
    }

    fn install(&self, names: &[&str]) -> Script {
        yum_like("dnf", "install", names)
    }

    fn remove(&self, names: &[&str]) -> Script {
        yum_like("dnf", "remove", names)
    }

    fn sysv(&self, name: &str, verb: Verb) -> Script {
        Rhel7.sysv(name, verb)
    }

    /// The same file and unit as RHEL 7: the ipvsadm package did not change.
    fn ipvs_rules_file(&self) -> &'static str {
        Rhel7.ipvs_rules_file()
    }

    fn persist_ipvs(&self, boot: Boot) -> Result<Vec<Step>, String> {
        Rhel7.persist_ipvs(boot)
    }

    fn no_ipvs_restore(&self) -> Vec<Step> {
        Rhel7.no_ipvs_restore()
    }
}
