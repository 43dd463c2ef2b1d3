//! What a template sees: the inventory and the few facts that decide a host's shape, as one
//! serialisable value. Kept apart from the loader so that a new template variable is one field
//! here and its line in `context`.

use crate::facts::{Boot, Facts, Init};
use crate::inventory::{Host, Inventory, IpvsTuning, Keepalived, Role, Service, Vip, WEB_PORT};
use crate::os::PlatformId;
use crate::resources::ipvs::VirtualService;
use crate::resources::Refusal;
use crate::secret::MASK;
use serde::Serialize;
use std::collections::BTreeSet;

/// The host as templates see it (`host.name`, `host.page`, `host.priority`, ...).
#[derive(Serialize)]
struct HostView<'a> {
    name: &'a str,
    address: std::net::Ipv4Addr,
    role: Role,
    nic: Option<&'a str>,
    priority: Option<u8>,
    page: Option<&'a str>,
    /// A real server's web server is lvsprov's to install and run (false: the operator's backend).
    web_server: bool,
}

/// What a template sees. Built from the inventory and the facts that decide the shape of a host
/// (platform, init, the NIC), never from anything else.
#[derive(Serialize, Clone)]
pub(super) struct Context<'a> {
    #[serde(skip)]
    pub(super) host_ref: &'a Host,
    pub(super) host: serde_json::Value,
    pub(super) platform: PlatformId,
    pub(super) web_server: &'static str,
    pub(super) init: Init,
    #[serde(skip)]
    pub(super) boot: Boot,
    pub(super) nic: String,
    /// A director's VRRP instances as it runs them (its state and priority in each).
    vrrp: Vec<InstanceView>,
    pub(super) keepalived: Option<Keepalived>,
    pub(super) ipvs: IpvsTuning,
    pub(super) services: Vec<Service>,
    pub(super) ipvs_services: Vec<VirtualService>,
    pub(super) vips: Vec<String>,
    /// The directors' addresses but this host's. A director's unicast VRRP peers and the only
    /// sources its firewall lets adverts in from; a real server's health checkers.
    pub(super) peers: Vec<String>,
    /// A real server whose services' checks come through the VIP (`health_check.through_vip`).
    pub(super) through_vip: bool,
    /// keepalived's HTTP_GET retry keyword on this platform's keepalived.
    pub(super) http_retry: &'static str,
    /// A health check connects to a port SELinux's keepalived policy does not allow by default.
    pub(super) keepalived_connect_any: bool,
    /// A real server's web server: the TCP ports it must listen on besides the packaged 80, and
    /// the file of lvsprov's that says so.
    pub(super) listen_ports: Vec<u16>,
    pub(super) listen_conf: &'static str,
    /// A director: whether any service is balanced by firewall mark.
    pub(super) fwmarks: bool,
    /// A director in ECMP mode: its BGP sessions and what it announces.
    pub(super) ecmp: Option<super::ecmp::EcmpView>,
}

/// One VRRP instance on one director.
#[derive(Serialize, Clone)]
struct InstanceView {
    name: String,
    vrid: u16,
    state: &'static str,
    priority: u16,
    /// Each IPv4 VIP with its place among all of them: its label's number on the NIC.
    vips: Vec<(String, usize)>,
    /// IPv6 VIPs, which have no labels.
    vips6: Vec<String>,
}

/// The ports of SELinux's `http_port_t`, the type keepalived may connect to without
/// `keepalived_connect_any` (RHEL 7–9 policies).
pub(super) const HTTP_PORT_T: [u16; 8] = [80, 81, 443, 488, 8008, 8009, 8443, 9000];

impl Context<'_> {
    /// The same context with every secret replaced by [`MASK`]: what a diff may show.
    pub(super) fn masked(&self) -> Option<Self> {
        let mut c = self.clone();
        if let Some(e) = c.ecmp.as_mut() {
            e.masked();
        }
        c.keepalived.as_mut()?.auth_pass = MASK.into();
        Some(c)
    }
}

/// The NIC the VIP's subnet is on: the inventory's, else the one the facts show.
pub fn nic(inv: &Inventory, host: &Host, facts: &Facts) -> Result<String, Refusal> {
    if let Some(n) = &host.nic {
        return Ok(n.clone());
    }
    inv.services
        .first()
        .and_then(|s| facts.nic_for(s.vip.0))
        .map(str::to_string)
        .ok_or_else(|| Refusal(format!(
            "no NIC on this host has an address in the VIP's subnet ({}); set \"nic\" for {} in the inventory",
            inv.network, host.name
        )))
}

/// `drained`: real servers this director holds at weight 0 (`lvsprov drain`), kept by every `up`.
pub(super) fn context<'a>(
    inv: &'a Inventory,
    host: &'a Host,
    platform: PlatformId,
    boot: Boot,
    nic: String,
    drained: &BTreeSet<String>,
) -> Context<'a> {
    let services: Vec<Service> = match host.role() {
        Role::Director => inv
            .services
            .iter()
            .map(|s| s.with_drained(drained))
            .collect(),
        Role::RealServer => inv
            .services_ready_on(host)
            .map(|s| s.as_seen_by(&host.name))
            .collect(),
    };
    let mut vips: Vec<Vip> = Vec::new();
    for s in &services {
        if !vips.contains(&s.vip) {
            vips.push(s.vip);
        }
    }
    Vip::ipv4_first(&mut vips);
    let vips: Vec<String> = vips.iter().map(Vip::to_string).collect();
    let through_vip = services.iter().any(|s| s.health_check.through_vip);
    let listen_ports: BTreeSet<u16> = services
        .iter()
        .flat_map(|s| s.web_ports().iter().copied())
        .filter(|p| *p != WEB_PORT)
        .collect();
    let view = HostView {
        name: &host.name,
        address: host.address,
        role: host.role(),
        nic: host.nic.as_deref(),
        priority: host.priority(),
        page: host.page(),
        web_server: host.manages_web_server(),
    };
    Context {
        host_ref: host,
        host: serde_json::to_value(view).expect("a host view serialises"),
        platform,
        web_server: crate::platform::ops(platform).web_server(),
        init: boot.init,
        boot,
        nic,
        vrrp: vrrp_views(inv, host, drained),
        keepalived: match (&inv.ecmp, host.role()) {
            (Some(_), Role::Director) => Some(super::ecmp::checks_only()),
            _ => inv.keepalived.clone(),
        },
        ecmp: inv
            .ecmp
            .as_ref()
            .filter(|_| host.role() == Role::Director)
            .map(|e| super::ecmp::view(inv, e)),
        ipvs: inv.ipvs.clone(),
        ipvs_services: services.iter().map(VirtualService::from).collect(),
        keepalived_connect_any: services.iter().any(|s| !HTTP_PORT_T.contains(&s.port)),
        http_retry: crate::platform::ops(platform).keepalived_http_retry(),
        listen_ports: listen_ports.into_iter().collect(),
        fwmarks: services.iter().any(|s| s.fwmark.is_some()),
        listen_conf: crate::platform::ops(platform).web_server_listen_conf(),
        services,
        through_vip,
        vips,
        peers: inv
            .directors()
            .filter(|d| d.name != host.name)
            .map(|d| d.address.to_string())
            .collect(),
    }
}

/// `host`'s VRRP instances: MASTER in its own, its derived priority in each; a drained director
/// (`lvsprov drain DIRECTOR`) runs 1 in all of them, below every peer.
fn vrrp_views(inv: &Inventory, host: &Host, drained: &BTreeSet<String>) -> Vec<InstanceView> {
    let all_vips = inv.vips();
    let label = |v| all_vips.iter().position(|a| *a == v).unwrap_or(0);
    let delay = inv.keepalived.as_ref().map_or(0, |k| k.preempt_delay);
    inv.vrrp_instances()
        .into_iter()
        .map(|i| InstanceView {
            // keepalived's preempt_delay holds only in an instance that starts as BACKUP: then
            // the master-to-be waits for its peer's adverts like any backup, and takes over on
            // their silence at once, or from a lower priority after the delay.
            state: if i.master == host.name && delay == 0 {
                "MASTER"
            } else {
                "BACKUP"
            },
            priority: if drained.contains(&host.name) {
                1
            } else {
                inv.priority_in(&i, host)
            },
            vips: i
                .vips
                .iter()
                .filter(|v| !v.is_v6())
                .map(|v| (v.to_string(), label(*v)))
                .collect(),
            vips6: i
                .vips
                .iter()
                .filter(|v| v.is_v6())
                .map(Vip::to_string)
                .collect(),
            name: i.name,
            vrid: i.vrid,
        })
        .collect()
}
