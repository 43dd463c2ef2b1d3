//! The IPv6 part of the inventory: the segment's prefix (`network6`), each host's `address6`, and
//! what an IPv6 VIP needs of its hosts and services. DR over IPv6 works as over IPv4 (the VIP on
//! the holder's NIC and on every real server's `lo`), but IPVS sends a packet only to a real
//! server of the VIP's family, so every host an IPv6 VIP touches needs an address in `network6`.

use super::raw::{RawHost, RawInventory, RawService};
use super::validate::Validator;
use super::{Host, Vip};
use ipnet::Ipv6Net;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

impl Validator {
    pub(super) fn network6(&mut self, raw: &RawInventory) -> Option<Ipv6Net> {
        let text = raw.network6.as_deref()?;
        match text.parse::<Ipv6Net>() {
            Ok(n) => Some(n.trunc()),
            Err(_) => {
                self.network6_invalid = true;
                self.problem(
                    "$.network6",
                    format!(
                        "{text:?} is not an IPv6 prefix; write it as CIDR, e.g. \"fd00:100::/64\""
                    ),
                );
                None
            }
        }
    }

    pub(super) fn address6(&mut self, at: &str, h: &RawHost) -> Option<Ipv6Addr> {
        let text = h.address6.as_deref()?;
        let Ok(a) = text.parse::<Ipv6Addr>() else {
            self.bad_address6.push(h.name.clone());
            self.problem(
                format!("{at}.address6"),
                format!("{text:?} is not an IPv6 address, e.g. \"fd00:100::201\""),
            );
            return None;
        };
        match self.network6 {
            None if self.network6_invalid => {}
            None => self.problem(
                format!("{at}.address6"),
                "an address6 needs $.network6, the segment's IPv6 prefix; add it (e.g. \"fd00:100::/64\")",
            ),
            Some(net) if !net.contains(&a) => self.problem(
                format!("{at}.address6"),
                format!("{a} is outside $.network6 {net}; LVS-DR needs every host on one segment"),
            ),
            Some(_) => {}
        }
        Some(a)
    }

    /// No two hosts share an `address6`.
    pub(super) fn unique6(&mut self, raw: &RawInventory) {
        let mut seen: HashMap<Ipv6Addr, String> = HashMap::new();
        let groups = [
            ("directors", &raw.directors),
            ("real_servers", &raw.real_servers),
        ];
        for (group, list) in groups {
            for (i, h) in list.iter().enumerate() {
                let Some(a) = h.address6.as_deref().and_then(|t| t.parse().ok()) else {
                    continue;
                };
                let at = format!("$.{group}[{i}]");
                if let Some(first) = seen.insert(a, at.clone()) {
                    self.problem(
                        format!("{at}.address6"),
                        format!("{a} is also {first}.address6; every host needs its own address"),
                    );
                }
            }
        }
    }

    /// An IPv6 VIP: in `network6`, no host's `address6`.
    pub(super) fn vip6(&mut self, at: &str, vip: Ipv6Addr, hosts: &[Host]) -> Vip {
        match self.network6 {
            None if self.network6_invalid => {}
            None => self.problem(
                format!("{at}.vip"),
                format!("{vip} is an IPv6 VIP; add $.network6, the segment's IPv6 prefix (e.g. \"fd00:100::/64\"), and an address6 to each host"),
            ),
            Some(net) if !net.contains(&vip) => self.problem(
                format!("{at}.vip"),
                format!("{vip} is outside $.network6 {net}; DR needs the VIP on the directors' segment"),
            ),
            Some(_) => {}
        }
        if let Some(h) = hosts.iter().find(|h| h.address6 == Some(vip)) {
            self.problem(
                format!("{at}.vip"),
                format!(
                    "{vip} is the address6 of {}; the VIP must be a free address",
                    h.name
                ),
            );
        }
        Vip(IpAddr::V6(vip))
    }

    /// What an IPv6 VIP needs beyond its own address: every director (the holder and its
    /// checks) with an `address6`, and the features that are IPv4-only refused by name.
    pub(super) fn service6(&mut self, at: &str, s: &RawService, hosts: &[Host]) {
        // Without network6 the VIP's own problem already asks for every address6.
        let asked = self.network6.is_none();
        for d in hosts.iter().filter(|h| h.role() == super::Role::Director) {
            if d.address6.is_none() && !asked && !self.bad_address6.contains(&d.name) {
                self.problem(
                    format!("{at}.vip"),
                    format!("director {} has no address6; an IPv6 VIP is held and checked from the directors' IPv6 addresses, so give each one (in $.network6)", d.name),
                );
            }
        }
        if s.ports.is_some() {
            self.problem(
                format!("{at}.ports"),
                "firewall-mark services are IPv4 only for now; give an IPv6 VIP one \"port\" per service",
            );
        }
        if s.health_check.through_vip {
            self.problem(
                format!("{at}.health_check.through_vip"),
                "a check through the VIP is IPv4 only for now; leave it out on an IPv6 VIP",
            );
        }
    }

    /// A member's address in the VIP's family: IPVS in DR mode sends to real servers of the
    /// service's own family only.
    pub(super) fn member_address(&mut self, at: &str, h: &Host, vip: Vip) -> IpAddr {
        match vip.0 {
            IpAddr::V4(_) => IpAddr::V4(h.address),
            IpAddr::V6(_) => match h.address6 {
                Some(a) => IpAddr::V6(a),
                None if self.network6.is_none() || self.bad_address6.contains(&h.name) => {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                }
                None => {
                    self.problem(
                        at,
                        format!("{} has no address6; an IPv6 VIP's real servers need one (in $.network6)", h.name),
                    );
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                }
            },
        }
    }
}
