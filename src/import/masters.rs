//! A master per VIP, read back. A cluster with several VIPs often runs one VRRP instance per
//! group of them, each with its own director at the top priority, so both directors carry
//! traffic. The inventory says that with each service's `master`; lvsprov names and numbers the
//! instances itself (`VI_LVSPROV`, then `VI_LVSPROV_<master>` with the next router ids), so a
//! numbering it would change is named: `up` would make the directors elect again for those VIPs.

use super::keepalived_conf::Vrrp;
use crate::inventory::Inventory;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One director's instances as its keepalived.conf has them.
pub(super) struct Held {
    pub director: String,
    pub instances: Vec<Vrrp>,
}

/// Each VIP whose instance puts another director on top than the one with the highest own
/// priority (its first instance's), with that director: the services on it get `master`.
pub(super) fn of(held: &[Held]) -> BTreeMap<IpAddr, String> {
    let own = |h: &Held| h.instances.first().and_then(|v| v.priority).unwrap_or(0);
    let Some(top) = held.iter().max_by_key(|h| own(h)).map(|h| &h.director) else {
        return BTreeMap::new();
    };
    let mut best: BTreeMap<IpAddr, (u16, &String)> = BTreeMap::new();
    for h in held {
        for v in &h.instances {
            let p = v.priority.unwrap_or(0);
            for vip in v.vips.iter().filter_map(|a| a.parse().ok()) {
                match best.get(&vip) {
                    Some((q, _)) if *q >= p => {}
                    _ => {
                        best.insert(vip, (p, &h.director));
                    }
                }
            }
        }
    }
    best.into_iter()
        .filter(|(_, (_, d))| *d != top)
        .map(|(vip, (_, d))| (vip, d.clone()))
        .collect()
}

/// The instances whose router id `up` would change, each named with the new one.
pub(super) fn renumbered(held: &[Held], inv: &Inventory) -> Vec<String> {
    let Some(first) = held.first() else {
        return vec![];
    };
    let mut out = Vec::new();
    for want in inv.vrrp_instances() {
        let vips: Vec<String> = want.vips.iter().map(|v| v.to_string()).collect();
        let wanted: BTreeSet<&String> = vips.iter().collect();
        let had = first
            .instances
            .iter()
            .find(|v| v.vips.iter().collect::<BTreeSet<_>>() == wanted);
        match had {
            Some(v) if v.virtual_router_id == Some(want.vrid) => {}
            Some(v) => out.push(format!(
                "{}: vrrp_instance {} (VIPs {}) has virtual_router_id {}; lvsprov numbers it {} ({}): `up` renumbers it, and the directors elect again for those VIPs (a second or so without them)",
                first.director,
                v.name,
                vips.join(", "),
                v.virtual_router_id.map_or("none".into(), |i| i.to_string()),
                want.vrid,
                want.name
            )),
            None => out.push(format!(
                "{}: no vrrp_instance carries exactly the VIPs {}; lvsprov puts them in one ({}, virtual_router_id {}): `up` regroups them, and the directors elect again for those VIPs",
                first.director,
                vips.join(", "),
                want.name,
                want.vrid
            )),
        }
    }
    out
}
