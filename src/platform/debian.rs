//! Debian (12 and later; the lab's hosts): apt, apache2. The VIP persisted by lvsprov's unit on
//! systemd hosts, by ifupdown (`/etc/network/interfaces.d`) on sysvinit hosts that use it; IPVS
//! rules restored by the ipvsadm package's init script (enabled) from `/etc/ipvsadm.rules` when
//! `/etc/default/ipvsadm` says AUTO.

use super::{alias_files_take_ipv4, nothing_at_boot, vip_unit, Boot, Init, Platform, PlatformId};
use crate::resources::file::File;
use crate::resources::service::Service;
use crate::resources::Step;

pub struct Debian;

impl Platform for Debian {
    fn id(&self) -> PlatformId {
        PlatformId::Debian
    }

    fn web_server(&self) -> &'static str {
        "apache2"
    }

    /// apache2.conf includes `conf-enabled/*.conf`; a2enconf's symlink would be one step more.
    fn web_server_listen_conf(&self) -> &'static str {
        "/etc/apache2/conf-enabled/lvsprov-listen.conf"
    }

    fn persist_vip(&self, boot: Boot, dev: &str, vips: &[String]) -> Result<Vec<Step>, String> {
        match boot {
            Boot {
                init: Init::Systemd,
                ..
            } => Ok(vip_unit(dev)),
            Boot {
                init: Init::Sysv,
                ifupdown: true,
                ..
            } => alias_files_take_ipv4(vips, "ifupdown's").map(|()| {
                vec![Step::File(File::templated(
                    "/etc/network/interfaces.d/lvsprov-vip",
                    "ifupdown-vip.j2",
                    serde_json::json!({ "dev": dev }),
                ))]
            }),
            _ => Err(nothing_at_boot(boot, "the VIP")),
        }
    }

    /// The init script restores at boot only when enabled (systemd runs it through its sysv
    /// generator); it is not started now: the rules are live already.
    fn persist_ipvs(&self, boot: Boot) -> Result<Vec<Step>, String> {
        if boot.init == Init::None {
            return Err(nothing_at_boot(boot, "the IPVS rules"));
        }
        Ok(vec![
            Step::File(File::templated(
                "/etc/default/ipvsadm",
                "ipvsadm-default.j2",
                serde_json::Value::Null,
            )),
            Step::Service(Service::at_boot("ipvsadm")),
        ])
    }
}
