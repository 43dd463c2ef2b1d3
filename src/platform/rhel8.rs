//! RHEL 8 and later (and its rebuilds, and Fedora): dnf, httpd, network-scripts gone, so the VIP
//! is put back at boot by a small systemd unit of lvsprov's; IPVS rules restored by
//! `ipvsadm.service` from `/etc/sysconfig/ipvsadm`.

use super::rhel7::{yum_like, Rhel7};
use super::{Platform, PlatformId, Verb};
use crate::resources::file::File;
use crate::resources::service::Service;
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

    fn persist_vip(&self, dev: &str, _vips: &[String]) -> Vec<Step> {
        vec![
            Step::File(File::templated(
                "/etc/systemd/system/lvsprov-vip.service",
                "lvsprov-vip.service.j2",
                serde_json::json!({ "dev": dev }),
            )),
            Step::Service(Service::named("lvsprov-vip")),
        ]
    }

    /// The same file and unit as RHEL 7: the ipvsadm package did not change.
    fn ipvs_rules_file(&self) -> &'static str {
        Rhel7.ipvs_rules_file()
    }

    fn persist_ipvs(&self) -> Vec<Step> {
        Rhel7.persist_ipvs()
    }
}
