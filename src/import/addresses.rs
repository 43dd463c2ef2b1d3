//! Where an imported host is reached and what it is called: its LVS address (IPv4 and, for IPv6
//! VIPs, IPv6) and its inventory name.

use super::Read;
use crate::inventory::valid_hostname;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Each host's LVS address: the target itself when it is one of its addresses, else one on a
/// VIP's subnet (where the cluster talks), else the first global address that is not a VIP.
pub(super) fn address(r: &Read, vips: &BTreeSet<IpAddr>) -> Option<(Ipv4Addr, u8)> {
    let mine: Vec<_> = r
        .seen
        .facts
        .addrs
        .iter()
        .filter_map(|a| match a.ip {
            std::net::IpAddr::V4(ip) => Some((a, ip)),
            std::net::IpAddr::V6(_) => None,
        })
        .filter(|(a, ip)| a.dev != "lo" && !vips.contains(&(*ip).into()) && !ip.is_loopback())
        .collect();
    let target: Option<Ipv4Addr> = r.seen.target.parse().ok();
    let on_vip_subnet = |(a, ip): &&(&crate::facts::Addr, Ipv4Addr)| {
        vips.iter()
            .any(|v| ipnet::IpNet::new((*ip).into(), a.prefix).is_ok_and(|n| n.trunc().contains(v)))
    };
    mine.iter()
        .find(|(_, ip)| Some(*ip) == target)
        .or_else(|| mine.iter().find(on_vip_subnet))
        .or(mine.first())
        .map(|(a, ip)| (*ip, a.prefix))
}

/// A host's IPv6 address on an IPv6 VIP's segment (global, on its NIC, not a VIP), with its
/// prefix: what an IPv6 service reaches it at. None when no VIP is IPv6.
pub(super) fn address6(r: &Read, vips: &BTreeSet<IpAddr>) -> Option<(Ipv6Addr, u8)> {
    r.seen.facts.addrs.iter().find_map(|a| match a.ip {
        IpAddr::V6(ip)
            if a.dev != "lo"
                && !vips.contains(&a.ip)
                && (ip.segments()[0] & 0xffc0) != 0xfe80
                && vips.iter().any(|v| {
                    ipnet::IpNet::new(a.ip, a.prefix)
                        .is_ok_and(|n| v.is_ipv6() && n.trunc().contains(v))
                }) =>
        {
            Some((ip, a.prefix))
        }
        _ => None,
    })
}

/// Names by target: the host's own, when it is a valid and unique inventory name.
pub(super) fn names(reads: &[Read]) -> BTreeMap<String, String> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for r in reads {
        let own = r
            .seen
            .facts
            .hostname
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let name = [own, r.seen.target.replace('.', "-")]
            .into_iter()
            .find(|n| valid_hostname(n) && n != "localhost" && !taken.contains(n))
            .unwrap_or_else(|| format!("host{}", names.len() + 1));
        taken.insert(name.clone());
        names.insert(r.seen.target.clone(), name);
    }
    names
}
