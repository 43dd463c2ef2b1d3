//! `status` of an ECMP director: the VIPs its BIRD announces and its BGP sessions.

use crate::facts::{bgp, Facts};
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
    d.holds = inv
        .vips()
        .into_iter()
        .filter(|v| bgp::announced(&f.bgp, &inv.vip_protocol(*v)))
        .map(|v| v.to_string())
        .collect();
    for (i, r) in e.routers.iter().enumerate() {
        let state = bgp::session(&f.bgp, &Ecmp::peer_protocol(i));
        if state != "Established" {
            problems.push(format!(
                "{}: BGP session with {} is {state} (`birdc show protocols all` there; is the router peering with it?)",
                d.name, r.address
            ));
        }
        d.bgp.insert(r.address.to_string(), state);
    }
}
