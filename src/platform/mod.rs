//! Platforms are code, playbooks are intent. A playbook says what a role needs (a web server, the
//! VIP persisted on a device, IPVS rules restored at boot); the host's platform says how its OS
//! does each: package manager and names, service verbs, where the VIP and the rules persist.
//! A platform is detected from the facts; an OS lvsprov does not know is refused with the reason,
//! never treated as the nearest known one. A new platform is one file here, one arm in
//! [`crate::os::PlatformId`] (with its package manager and init), a recorded facts file and its
//! plan tests.

pub use crate::os::{Boot, Init, PlatformId};
use crate::resources::file::File;
use crate::resources::service::Service;
use crate::resources::Step;

pub mod debian;
pub mod rhel7;
pub mod rhel8;

/// The platform's persistence steps for `id`.
pub fn ops(id: PlatformId) -> &'static dyn Platform {
    match id {
        PlatformId::Debian => &debian::Debian,
        PlatformId::Rhel7 => &rhel7::Rhel7,
        PlatformId::Rhel8 => &rhel8::Rhel8,
    }
}

pub trait Platform: Sync {
    fn id(&self) -> PlatformId;
    /// The package and service that serve the real server's page.
    fn web_server(&self) -> &'static str;
    /// Where lvsprov's `Listen` lines for the services' other ports go: a file of its own that
    /// the web server reads with its configuration, so the packaged files stay the package's.
    fn web_server_listen_conf(&self) -> &'static str;
    /// The steps that bring the VIP(s) back on `dev` at boot (the live address is its own step),
    /// through what this host really runs at boot. Err: nothing it runs would; the reason and fix.
    fn persist_vip(&self, boot: Boot, dev: &str, _vips: &[String]) -> Result<Vec<Step>, String> {
        match boot.init {
            Init::Systemd => Ok(vip_unit(dev)),
            _ => Err(nothing_at_boot(boot, "the VIP")),
        }
    }
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
    /// Whether its keepalived has UDP_CHECK (2.1 and later).
    fn keepalived_udp_check(&self) -> bool {
        true
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

/// A director's IPVS sync daemons at boot (systemd hosts), before keepalived so its first
/// failover already syncs. Enabled, not started: `up` starts the daemons itself (`ipvs_sync`).
pub fn ipvs_sync_unit(boot: Boot, interface: &str, id: u8) -> Result<Vec<Step>, String> {
    if boot.init != Init::Systemd {
        return Err(nothing_at_boot(boot, "the IPVS sync daemons"));
    }
    Ok(vec![
        Step::File(File::templated(
            "/etc/systemd/system/lvsprov-ipvs-sync.service",
            "lvsprov-ipvs-sync.service.j2",
            serde_json::json!({ "interface": interface, "id": id }),
        )),
        Step::Service(Service::at_boot("lvsprov-ipvs-sync")),
    ])
}

/// Alias files (ifupdown's `dev:N`, ifcfg's `DEV:N`) carry IPv4 addresses only: an IPv6 VIP on
/// such a host would be up now and gone at the next boot, so the plan is refused instead.
pub fn alias_files_take_ipv4(vips: &[String], how: &str) -> Result<(), String> {
    match vips.iter().find(|v| v.contains(':')) {
        Some(v6) => Err(format!("the IPv6 VIP {v6} cannot be kept at boot here: {how} alias files take IPv4 addresses only; run this host with systemd (lvsprov's unit keeps both families) or leave the IPv6 service out")),
        None => Ok(()),
    }
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
