//! ECMP mode: every director serves every VIP at once. Each announces the VIPs to the routers by
//! BGP (BIRD 2) while it can serve them; the routers spread flows over the directors by ECMP, and
//! every director maps a flow to the same real server (IPVS `mh` over address and port), so a
//! director that goes or comes moves flows without breaking them (`sloppy_tcp` lets a director
//! take over a connection it never saw open). No VRRP: keepalived runs for its health checks.

use super::raw::{RawInventory, RawService, RawSsh};
use super::validate::Validator;
use super::{Host, Scheduler, SshTarget};
use crate::secret::Secret;
use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// `"ecmp"` as written.
#[derive(Deserialize, Serialize, JsonSchema, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ecmp")]
pub struct RawEcmp {
    /// The directors' AS number: each director announces the VIPs from it (eBGP to the routers).
    #[schemars(range(min = 1))]
    pub asn: u32,
    /// The BGP routers in front of the directors, on the inventory's network.
    pub routers: Vec<RawRouter>,
    /// Healthy real servers (by keepalived's checks) each service of a VIP needs on a director
    /// before that director announces the VIP. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub quorum: Option<u32>,
    /// Seconds a router waits without hearing from a director before it stops sending it flows
    /// (BGP hold time; BFD, where on, notices sooner). Default 9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 3, max = 65535))]
    pub hold_time: Option<u16>,
    /// Seconds a drained director keeps announcing each VIP with the graceful-shutdown community
    /// (65535:0, RFC 8326) before it withdraws it: a router that honours the community moves the
    /// flows to the other directors while the route is still there. 0: withdraw at once. Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 600))]
    pub graceful_shutdown: Option<u16>,
}

#[derive(Deserialize, Serialize, JsonSchema, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Router")]
pub struct RawRouter {
    /// The router's address on the network (the directors peer with it directly).
    pub address: String,
    /// The router's AS number; not the directors' own.
    #[schemars(range(min = 1))]
    pub asn: u32,
    /// BFD on the session (the router must run it too): a dead director is noticed in about 1.5 s
    /// instead of the hold time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bfd: bool,
    /// The session's password (TCP MD5, RFC 2385), as the router has it: 1 to 80 printable
    /// characters, no spaces, quotes or backslashes. Never shown in diffs, scripts or output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// How to log in to the router (a Linux router: BIRD, FRR or any daemon that puts its routes
    /// in the kernel's main table), so that `verify` reads each VIP's route there and checks that
    /// it leads to every serving director and no other host. The inventory's `ssh` applies, this
    /// block overrides it (`{}`: as the inventory says); no `sudo`, reading routes needs no root.
    /// Leave it out for a router you cannot log in to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<RawSsh>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ecmp {
    pub asn: u32,
    pub routers: Vec<Router>,
    pub quorum: u32,
    pub hold_time: u16,
    pub graceful_shutdown: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Router {
    pub address: Ipv4Addr,
    pub asn: u32,
    pub bfd: bool,
    pub password: Option<Secret>,
    /// Where `verify` reads the router's routes; None: it does not.
    #[serde(skip)]
    pub ssh: Option<SshTarget>,
}

impl Ecmp {
    /// Whether any session runs BFD (then each director runs BIRD's BFD protocol).
    pub fn bfd(&self) -> bool {
        self.routers.iter().any(|r| r.bfd)
    }

    /// BIRD's name for the session with the `i`th router (bird.conf, `verify`, `status`).
    pub fn peer_protocol(i: usize) -> String {
        format!("lvsprov_peer{i}")
    }
}

impl super::Inventory {
    /// BIRD's name for `vip`'s announcement (bird.conf, the announcer, `verify`, `status`): by
    /// its place among the VIPs.
    pub fn vip_protocol(&self, vip: super::Vip) -> String {
        let i = self.vips().iter().position(|v| *v == vip).unwrap_or(0);
        format!("lvsprov_vip{i}")
    }
}

/// AS 23456 stands in for 4-byte AS numbers on old speakers; 0 and 4294967295 are reserved.
fn valid_asn(asn: u32) -> bool {
    asn != 0 && asn != 23456 && asn != u32::MAX
}

impl Validator {
    /// `$.ecmp`, and what ECMP mode asks of the rest: no VRRP block, no masters, IPv4 VIPs, `mh`.
    pub(super) fn ecmp(
        &mut self,
        raw: &RawInventory,
        hosts: &[Host],
        network: Option<Ipv4Net>,
    ) -> Option<Ecmp> {
        let e = raw.ecmp.as_ref()?;
        if !valid_asn(e.asn) {
            self.problem(
                "$.ecmp.asn",
                format!(
                    "{} is not an AS number you can announce from; use a private one, e.g. 65010",
                    e.asn
                ),
            );
        }
        if e.routers.is_empty() {
            self.problem("$.ecmp.routers", "no routers: the directors announce the VIPs to them; add at least one, e.g. {\"address\": \"192.168.100.254\", \"asn\": 65000}");
        }
        if raw.keepalived.is_some() {
            self.problem("$.keepalived", "ECMP directors run no VRRP (the routers choose among them); keepalived runs for the health checks with no settings of its own: remove \"keepalived\"");
        }
        let mut routers: Vec<Router> = Vec::new();
        for (i, r) in e.routers.iter().enumerate() {
            routers.extend(self.router(i, r, raw, hosts, network, &routers));
        }
        self.ecmp_services(&raw.services);
        Some(Ecmp {
            asn: e.asn,
            routers,
            quorum: e.quorum.unwrap_or(1),
            hold_time: e.hold_time.unwrap_or(9),
            graceful_shutdown: self.graceful_shutdown(e.graceful_shutdown),
        })
    }

    fn graceful_shutdown(&mut self, seconds: Option<u16>) -> u16 {
        let s = seconds.unwrap_or(5);
        if s > 600 {
            self.problem("$.ecmp.graceful_shutdown", format!("{s} s would hold a drain that long before the withdrawal; give 0 to 600 (a router moves the flows within a few seconds)"));
        }
        s.min(600)
    }

    fn router(
        &mut self,
        i: usize,
        r: &RawRouter,
        raw: &RawInventory,
        hosts: &[Host],
        network: Option<Ipv4Net>,
        seen: &[Router],
    ) -> Option<Router> {
        let (asn, defaults) = (raw.ecmp.as_ref().map_or(0, |e| e.asn), &raw.ssh);
        let at = format!("$.ecmp.routers[{i}]");
        let why = "the directors peer with their routers directly, on the one segment";
        let address = self.address_on(
            &format!("{at}.address"),
            &r.address,
            "192.168.100.254",
            network,
            why,
        )?;
        if let Some(h) = hosts.iter().find(|h| h.address == address) {
            self.problem(
                format!("{at}.address"),
                format!("{address} is {}'s address; give the router's own", h.name),
            );
        }
        if seen.iter().any(|s| s.address == address) {
            self.problem(
                format!("{at}.address"),
                format!("{address} is listed twice; name each router once"),
            );
        }
        if !valid_asn(r.asn) {
            self.problem(
                format!("{at}.asn"),
                format!(
                    "{} is not an AS number; give the router's, e.g. 65000",
                    r.asn
                ),
            );
        } else if r.asn == asn {
            self.problem(format!("{at}.asn"), format!("{} is the directors' own AS ($.ecmp.asn): lvsprov peers over eBGP; give the directors an AS of their own", r.asn));
        }
        let password = r.password.as_ref().filter(|p| {
            let fits = (1..=80).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
            if !fits {
                self.problem(format!("{at}.password"), "give 1 to 80 printable characters with no spaces, quotes or backslashes (TCP MD5 keys are at most 80 bytes; BIRD reads it as one quoted word); set the same on the router");
            }
            fits
        });
        let ssh = r.ssh.as_ref().map(|own| {
            if own.sudo.is_some() {
                self.problem(
                    format!("{at}.ssh.sudo"),
                    "a router's routes are read without root; remove \"sudo\"",
                );
            }
            SshTarget {
                sudo: false,
                ..self.target(&at, defaults, own, address)
            }
        });
        Some(Router {
            address,
            asn: r.asn,
            bfd: r.bfd,
            password: password.map(|p| Secret::new(p.clone())),
            ssh,
        })
    }

    fn ecmp_services(&mut self, services: &[RawService]) {
        for (i, s) in services.iter().enumerate() {
            let at = format!("$.services[{i}]");
            if s.master.is_some() {
                self.problem(
                    format!("{at}.master"),
                    "with ECMP every director serves every VIP; remove \"master\"",
                );
            }
            if s.vip.parse::<Ipv4Addr>().is_err() && s.vip.contains(':') {
                self.problem(
                    format!("{at}.vip"),
                    "ECMP mode announces IPv4 VIPs only; serve this IPv6 VIP from a VRRP cluster",
                );
            }
            if s.scheduler.parse::<Scheduler>() != Ok(Scheduler::Mh) {
                self.problem(format!("{at}.scheduler"), format!("{:?}: with ECMP every director must send a flow to the same real server, which only consistent hashing does; use \"mh\"", s.scheduler));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_asn;

    #[test]
    fn reserved_as_numbers_are_refused() {
        assert!(valid_asn(65010) && valid_asn(4_200_000_000));
        assert!(!valid_asn(0) && !valid_asn(23456) && !valid_asn(u32::MAX));
    }
}
