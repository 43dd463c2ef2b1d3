//! RHEL 8 and later (and its rebuilds, and Fedora): dnf, httpd, network-scripts gone, so the VIP
//! is put back at boot by a small systemd unit of lvsprov's; IPVS rules restored by
//! `ipvsadm.service` from `/etc/sysconfig/ipvsadm`.

use super::rhel7::Rhel7;
use super::{Boot, Platform, PlatformId};
use crate::resources::Step;

pub struct Rhel8;

impl Platform for Rhel8 {
    fn id(&self) -> PlatformId {
        PlatformId::Rhel8
    }

    fn web_server(&self) -> &'static str {
        Rhel7.web_server()
    }

    fn web_server_listen_conf(&self) -> &'static str {
        Rhel7.web_server_listen_conf()
    }

    fn persist_ipvs(&self, boot: Boot) -> Result<Vec<Step>, String> {
        Rhel7.persist_ipvs(boot)
    }

    fn no_ipvs_restore(&self) -> Vec<Step> {
        Rhel7.no_ipvs_restore()
    }
}
