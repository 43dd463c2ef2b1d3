//! `status` of an ECMP director: the VIPs its BIRD announces and its BGP sessions.

use crate::facts::Facts;
use crate::inventory::{Ecmp, Inventory};
use crate::report::status::DirectorStatus;

/// ECMP: what the director announces (its BIRD's VIP protocols that are up) and its sessions.
pub(super) fn announced(
    inv: &Inventory,
    e: &Ecmp,
    f: &Facts,
    d: &mut DirectorStatus,
    problems: &mut Vec<String>,
) {
    let up = |name: &str| f.bgp.iter().any(|p| p.name == name && p.is_up());
    d.holds = inv
        .vips()
        .iter()
        .enumerate()
        .filter(|(i, _)| up(&Ecmp::vip_protocol(*i)))
        .map(|(_, v)| v.to_string())
        .collect();
    for (i, r) in e.routers.iter().enumerate() {
        let name = Ecmp::peer_protocol(i);
        let state = match f.bgp.iter().find(|p| p.name == name) {
            Some(p) if p.info.is_empty() => p.state.clone(),
            Some(p) => p.info.clone(),
            None => "no session".into(),
        };
        if state != "Established" {
            problems.push(format!(
                "{}: BGP session with {} is {state} (`birdc show protocols all` there; is the router peering with it?)",
                d.name, r.address
            ));
        }
        d.bgp.insert(r.address.to_string(), state);
    }
}
