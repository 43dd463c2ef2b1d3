//! RHEL / CentOS 7: yum, httpd, the VIP persisted as an `ifcfg-DEV:N` alias (network-scripts),
//! IPVS rules restored by `ipvsadm.service` from `/etc/sysconfig/ipvsadm`.

use super::{Boot, Platform, PlatformId};
use crate::resources::file::File;
use crate::resources::service::Service;
use crate::resources::Step;

pub struct Rhel7;

/// Enabled, not started: `ipvsadm.service` restores `/etc/sysconfig/ipvsadm` with
/// `ipvsadm-restore`, which fails on every rule that is already live.
fn ipvsadm_service() -> Vec<Step> {
    vec![Step::Service(Service::at_boot("ipvsadm"))]
}

impl Platform for Rhel7 {
    fn id(&self) -> PlatformId {
        PlatformId::Rhel7
    }

    fn web_server(&self) -> &'static str {
        "httpd"
    }

    /// httpd.conf includes `conf.d/*.conf`.
    fn web_server_listen_conf(&self) -> &'static str {
        "/etc/httpd/conf.d/lvsprov-listen.conf"
    }

    /// network-scripts read `ifcfg-DEV:N` at boot (RHEL 7 is systemd throughout).
    /// NetworkManager (RHEL 7.x's default) reads a changed ifcfg file only when told.
    fn persist_vip(&self, boot: Boot, dev: &str, vips: &[String]) -> Result<Vec<Step>, String> {
        super::alias_files_take_ipv4(vips, "network-scripts'")?;
        Ok(vips
            .iter()
            .enumerate()
            .map(|(i, vip)| {
                let device = format!("{dev}:{i}");
                let mut file = File::templated(
                    &format!("/etc/sysconfig/network-scripts/ifcfg-{device}"),
                    "ifcfg-vip.j2",
                    serde_json::json!({ "device": device, "vip": vip }),
                );
                if boot.network_manager {
                    file.notify = Some(["nmcli", "connection", "reload"].map(String::from).into());
                }
                Step::File(file)
            })
            .collect())
    }

    fn persist_ipvs(&self, _: Boot) -> Result<Vec<Step>, String> {
        Ok(ipvsadm_service())
    }

    /// `ipvsadm.service` restores `/etc/sysconfig/ipvsadm`, saved by its ExecStop at shutdown.
    fn no_ipvs_restore(&self) -> Vec<Step> {
        vec![Step::Service(Service::off_at_boot("ipvsadm"))]
    }

    /// keepalived 1.3.5, the one RHEL 7 ships, reads `nb_get_retry` in HTTP_GET and ignores
    /// `retry` there (2.x renamed it).
    fn keepalived_http_retry(&self) -> &'static str {
        "nb_get_retry"
    }

    /// UDP_CHECK came with keepalived 2.1; 1.3.5 has DNS_CHECK.
    fn keepalived_udp_check(&self) -> bool {
        false
    }
}
