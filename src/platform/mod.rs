//! Platforms are code, playbooks are intent. A playbook says what a role needs (a web server, the
//! VIP persisted on a device, IPVS rules restored at boot); the host's platform says how its OS
//! does each: package manager and names, service verbs, where the VIP and the rules persist.
//! A platform is detected from the facts; an OS lvsprov does not know is refused with the reason,
//! never treated as the nearest known one. A new platform is one file here, one arm in
//! [`PlatformId`], a recorded facts file and its plan tests.

use crate::facts::{Boot, Firewall, Init, OsRelease};
use crate::resources::file::File;
use crate::resources::service::Service;
use crate::resources::Step;
use crate::sh;
use crate::shell::Script;

pub mod debian;
pub mod rhel7;
pub mod rhel8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformId {
    Debian,
    Rhel7,
    Rhel8,
}

impl PlatformId {
    pub const ALL: [PlatformId; 3] = [PlatformId::Debian, PlatformId::Rhel7, PlatformId::Rhel8];

    pub fn ops(self) -> &'static dyn Platform {
        match self {
            PlatformId::Debian => &debian::Debian,
            PlatformId::Rhel7 => &rhel7::Rhel7,
            PlatformId::Rhel8 => &rhel8::Rhel8,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Enable,
    Disable,
    Start,
    Stop,
    /// Reload, or restart when the service cannot reload.
    Reload,
}

pub trait Platform: Sync {
    fn id(&self) -> PlatformId;
    /// The package and service that serve the real server's page.
    fn web_server(&self) -> &'static str;
    fn install(&self, names: &[&str]) -> Script;
    /// Finishes a package database left mid-change, where the platform can.
    fn repair_packages(&self) -> Option<Script> {
        None
    }
    fn remove(&self, names: &[&str]) -> Script;
    /// Service verbs without systemd (containers, old init): the platform's own init scripts.
    fn sysv(&self, name: &str, verb: Verb) -> Script;
    /// The steps that bring the VIP(s) back on `dev` at boot (the live address is its own step),
    /// through what this host really runs at boot. Err: nothing it runs would; the reason and fix.
    fn persist_vip(&self, boot: Boot, dev: &str, _vips: &[String]) -> Result<Vec<Step>, String> {
        match boot.init {
            Init::Systemd => Ok(vip_unit(dev)),
            _ => Err(nothing_at_boot(boot, "the VIP")),
        }
    }
    /// Where `ipvsadm-save` output must be for the boot-time restore to read it.
    fn ipvs_rules_file(&self) -> &'static str;
    /// The steps that restore the saved IPVS rules at boot.
    fn persist_ipvs(&self, boot: Boot) -> Result<Vec<Step>, String>;
    /// The steps that keep any saved IPVS table from coming back at boot where keepalived owns
    /// the table. Debian's restore is off unless `/etc/default/ipvsadm` turns it on.
    fn no_ipvs_restore(&self) -> Vec<Step> {
        vec![]
    }
    /// The keyword keepalived's HTTP_GET takes for its retry count.
    fn keepalived_http_retry(&self) -> &'static str {
        "retry"
    }

    fn service(&self, init: Init, name: &str, verb: Verb) -> Script {
        match init {
            Init::Systemd => systemctl(name, verb),
            Init::Sysv | Init::None => self.sysv(name, verb),
        }
    }

    /// Opening a port in the firewall that is active (never turning a firewall off).
    fn open_port(&self, firewall: Firewall, spec: &str) -> Option<Script> {
        match firewall {
            Firewall::None => None,
            // ufw has no rule for IP protocol 112.
            Firewall::Ufw if spec == "vrrp" => None,
            Firewall::Ufw => Some(sh!("ufw allow {} >/dev/null", spec)),
            // The same on every platform, zone by zone: `resources::firewall` does them.
            Firewall::Firewalld | Firewall::Nftables | Firewall::Unread => None,
        }
    }
}

/// lvsprov's own unit that puts the VIP back on `dev` at boot: the same on every systemd host,
/// whatever manages its network (ifupdown, NetworkManager, networkd or nothing).
pub fn vip_unit(dev: &str) -> Vec<Step> {
    let mut unit = File::templated(
        "/etc/systemd/system/lvsprov-vip.service",
        "lvsprov-vip.service.j2",
        serde_json::json!({ "dev": dev }),
    );
    unit.reload = Some("lvsprov-vip".into());
    vec![
        Step::File(unit),
        Step::Service(Service {
            stop_on_down: true,
            ..Service::named("lvsprov-vip")
        }),
    ]
}

/// A lone director's IPVS timeouts at boot (systemd hosts): keepalived directors get them from
/// keepalived.conf, and ipvsadm's saved rules never hold them. Enabled, not started: `up` sets
/// them live itself.
pub fn ipvs_timeouts_unit(t: &crate::inventory::IpvsTuning) -> Vec<Step> {
    vec![
        Step::File(File::templated(
            "/etc/systemd/system/lvsprov-ipvs-timeouts.service",
            "lvsprov-ipvs-timeouts.service.j2",
            serde_json::json!({ "tcp": t.tcp, "tcpfin": t.tcpfin, "udp": t.udp }),
        )),
        Step::Service(Service::at_boot("lvsprov-ipvs-timeouts")),
    ]
}

/// Why `what` cannot be persisted on a host that boots nothing lvsprov can hook, and the fix.
pub fn nothing_at_boot(boot: Boot, what: &str) -> String {
    let init = match boot.init {
        Init::Systemd => "systemd",
        Init::Sysv => "sysvinit without ifupdown sourcing /etc/network/interfaces.d",
        Init::None => "no init system (PID 1 is not systemd or sysvinit: a container?)",
    };
    format!(
        "nothing this host runs at boot would bring back {what}: it boots with {init}; boot it with \
         systemd, or set \"persist\": false for this host in the inventory to converge the live \
         state only (lost at its next restart); nothing was changed on this host"
    )
}

pub fn systemctl(name: &str, verb: Verb) -> Script {
    match verb {
        Verb::Enable => sh!("systemctl enable {}", name),
        Verb::Disable => sh!("systemctl disable {}", name),
        Verb::Start => sh!("systemctl start {}", name),
        Verb::Stop => sh!("systemctl stop {}", name),
        // A changed unit file is read only after daemon-reload.
        Verb::Reload => sh!(
            "systemctl daemon-reload\nsystemctl reload-or-restart {}",
            name
        ),
    }
}

/// Which platform a host is, from /etc/os-release. Err: the reason it is refused.
pub fn detect(os: &OsRelease) -> Result<PlatformId, String> {
    let like = |w: &str| os.id == w || os.id_like.split_whitespace().any(|l| l == w);
    if os.id == "ubuntu" || like("ubuntu") {
        return Err(format!(
            "{} {}: Ubuntu keeps addresses in netplan, which never reads /etc/network/interfaces.d, \
             so lvsprov cannot persist the VIP there yet; nothing was changed on this host",
            os.id, os.version_id
        ));
    }
    if like("debian") {
        return Ok(PlatformId::Debian);
    }
    if ["rhel", "centos", "rocky", "almalinux", "ol", "fedora"]
        .iter()
        .any(|w| like(w))
    {
        return match (os.id.as_str(), os.major) {
            ("fedora", _) => Ok(PlatformId::Rhel8),
            (_, 7) => Ok(PlatformId::Rhel7),
            (_, m) if m >= 8 => Ok(PlatformId::Rhel8),
            (_, m) => Err(format!(
                "{} {m}: lvsprov supports RHEL 7 and later (systemd, firewalld); nothing was changed on this host",
                os.id
            )),
        };
    }
    Err(format!(
        "unsupported OS {:?} (ID_LIKE {:?}): lvsprov knows Debian, RHEL 7 and RHEL 8+ and their rebuilds; nothing was changed on this host",
        os.id, os.id_like
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, like: &str, version: &str) -> OsRelease {
        OsRelease {
            id: id.into(),
            id_like: like.into(),
            version_id: version.into(),
            major: version.split('.').next().unwrap().parse().unwrap_or(0),
        }
    }

    #[test]
    fn known_systems_map_to_their_platform_and_others_are_refused() {
        assert_eq!(detect(&os("debian", "", "12")), Ok(PlatformId::Debian));
        assert_eq!(
            detect(&os("centos", "rhel fedora", "7")),
            Ok(PlatformId::Rhel7)
        );
        assert_eq!(
            detect(&os("rocky", "rhel centos fedora", "9.4")),
            Ok(PlatformId::Rhel8)
        );
        assert!(detect(&os("ubuntu", "debian", "24.04"))
            .unwrap_err()
            .contains("netplan"));
        assert!(detect(&os("centos", "rhel fedora", "6"))
            .unwrap_err()
            .contains("RHEL 7 and later"));
        assert!(detect(&os("alpine", "", "3.20"))
            .unwrap_err()
            .contains("unsupported OS"));
    }
}
