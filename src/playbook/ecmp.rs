//! What an ECMP director's templates see: its BGP sessions and, per VIP, BIRD's protocol that
//! announces it and the IPVS services that must be able to serve it (`lvsprov-announce` enables
//! the protocol while they can). Apart from `context` so that the VRRP shape reads as before.

use crate::inventory::{Ecmp, Inventory, Keepalived, VrrpHooks};
use crate::resources::ipvs::VirtualService;
use serde::Serialize;
use std::net::Ipv4Addr;

#[derive(Serialize, Clone)]
pub(super) struct EcmpView {
    asn: u32,
    routers: Vec<RouterView>,
    quorum: u32,
    hold_time: u16,
    /// BGP keepalives: a third of the hold time, as routers default to.
    keepalive_time: u16,
    /// Seconds a drained director announces a VIP with the graceful-shutdown community first.
    graceful_shutdown: u16,
    bfd: bool,
    vips: Vec<Announced>,
}

/// One BGP session: BIRD's protocol `name`.
#[derive(Serialize, Clone)]
struct RouterView {
    name: String,
    address: Ipv4Addr,
    asn: u32,
    bfd: bool,
    /// Only bird.conf's `password "…";` line may carry it ([`EcmpView::masked`]).
    password: Option<String>,
}

/// One VIP: BIRD's static protocol `name` carries its /32, and it is announced while each of
/// `services` (as `ipvsadm -Ln` names them: `TCP 192.168.100.10:80`, `FWM 1`) has quorum.
#[derive(Serialize, Clone)]
struct Announced {
    vip: String,
    name: String,
    /// Its second static protocol: the route with the graceful-shutdown community.
    gshut: String,
    services: Vec<String>,
}

pub(super) fn view(inv: &Inventory, e: &Ecmp) -> EcmpView {
    let vips = inv
        .vips()
        .into_iter()
        .map(|vip| (vip, inv.vip_protocol(vip)))
        .map(|(vip, name)| Announced {
            vip: vip.to_string(),
            gshut: crate::facts::bgp::graceful(&name),
            name,
            services: inv
                .services
                .iter()
                .filter(|s| s.vip == vip)
                .map(|s| VirtualService::from(s).key().listed())
                .collect(),
        })
        .collect();
    EcmpView {
        asn: e.asn,
        routers: e
            .routers
            .iter()
            .enumerate()
            .map(|(i, r)| RouterView {
                name: Ecmp::peer_protocol(i),
                address: r.address,
                asn: r.asn,
                bfd: r.bfd,
                password: r.password.as_ref().map(|p| p.expose().to_string()),
            })
            .collect(),
        quorum: e.quorum,
        hold_time: e.hold_time,
        keepalive_time: (e.hold_time / 3).max(1),
        graceful_shutdown: e.graceful_shutdown,
        bfd: e.bfd(),
        vips,
    }
}

impl EcmpView {
    /// Every session's password replaced by [`MASK`](crate::secret::MASK): what a diff may show.
    pub(super) fn masked(&mut self) {
        for r in &mut self.routers {
            if let Some(p) = &mut r.password {
                *p = crate::secret::MASK.into();
            }
        }
    }
}

/// keepalived on an ECMP director: its checks and the IPVS table, no VRRP instance, no sync
/// (every director maps a flow alike, so none needs another's connections).
pub(super) fn checks_only() -> Keepalived {
    Keepalived {
        virtual_router_id: 0,
        auth_pass: String::new(),
        advert_int: crate::inventory::AdvertInt(100),
        vrrp_version: 2,
        unicast: false,
        sync: None,
        hooks: VrrpHooks::default(),
        preempt_delay: 0,
    }
}
