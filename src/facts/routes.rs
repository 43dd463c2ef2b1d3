//! A router's own view of the VIPs (ECMP): the route its kernel holds for each VIP, read over SSH
//! with `ip -j route show exact VIP/32`. BIRD, FRR and most Linux routing daemons install what
//! they chose in the kernel's main table, so this is what the router forwards by, whichever daemon
//! chose it.

use crate::sh;
use crate::shell::Script;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Where a router sends a VIP's packets: the gateways of its route's live next hops (one for a
/// single path, several for ECMP); empty when it has no route for the VIP.
pub type Routes = BTreeMap<Ipv4Addr, Vec<Ipv4Addr>>;

/// The tag of a VIP's section in what [`script`] prints (read by [`super::sections`]).
const TAG: &str = "route ";

/// One script for every VIP: its `@@route VIP` line, then the route as iproute2's JSON (an empty
/// list when there is none).
pub fn script(vips: &[Ipv4Addr]) -> Script {
    Script::lines(vips.iter().map(|vip| {
        sh!(
            "echo {}\nip -j -4 route show exact {}/32",
            format!("@@{TAG}{vip}"),
            *vip
        )
    }))
}

#[derive(Deserialize)]
struct Route {
    gateway: Option<Ipv4Addr>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    nexthops: Vec<Hop>,
}

#[derive(Deserialize)]
struct Hop {
    gateway: Option<Ipv4Addr>,
    #[serde(default)]
    flags: Vec<String>,
}

/// A next hop the kernel skips: its link is down, or it was declared dead.
fn dead(flags: &[String]) -> bool {
    flags.iter().any(|f| f == "dead" || f == "linkdown")
}

/// What [`script`] printed, per VIP; an error names the VIP whose answer was not iproute2's JSON
/// (an `ip` without `-j`: iproute2 older than 4.14).
pub fn parse(out: &str) -> Result<Routes, String> {
    super::sections(out)
        .into_iter()
        .filter_map(|(tag, lines)| Some((tag.strip_prefix(TAG)?, lines)))
        .map(|(vip, lines)| {
            let vip: Ipv4Addr = vip
                .parse()
                .map_err(|_| format!("unexpected line \"@@{TAG}{vip}\""))?;
            Ok((vip, gateways(vip, &lines.concat())?))
        })
        .collect()
}

fn gateways(vip: Ipv4Addr, json: &str) -> Result<Vec<Ipv4Addr>, String> {
    let list: Vec<Route> = serde_json::from_str(json).map_err(|e| {
        format!("`ip -j route show exact {vip}/32` did not print iproute2's JSON ({e}); the router needs iproute2 4.14 or later")
    })?;
    let mut out: Vec<Ipv4Addr> = list
        .iter()
        .flat_map(|r| {
            let single = r.gateway.filter(|_| !dead(&r.flags));
            let multi = r
                .nexthops
                .iter()
                .filter(|h| !dead(&h.flags))
                .filter_map(|h| h.gateway);
            single.into_iter().chain(multi)
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// As iproute2 6.1 prints them (Debian 12), for a BIRD multipath route, a single path and none.
    #[test]
    fn multipath_single_and_missing_routes() {
        let out = r#"@@route 192.168.100.10
[{"dst":"192.168.100.10","protocol":"bird","metric":32,"flags":[],"nexthops":[{"gateway":"192.168.100.11","dev":"eth0","weight":1,"flags":[]},{"gateway":"192.168.100.12","dev":"eth0","weight":1,"flags":[]}]}]
@@route 192.168.100.30
[{"dst":"192.168.100.30","gateway":"192.168.100.12","dev":"eth0","protocol":"bird","flags":[]}]
@@route 192.168.100.40
[]
"#;
        let r = parse(out).unwrap();
        assert_eq!(
            r[&ip("192.168.100.10")],
            vec![ip("192.168.100.11"), ip("192.168.100.12")]
        );
        assert_eq!(r[&ip("192.168.100.30")], vec![ip("192.168.100.12")]);
        assert!(r[&ip("192.168.100.40")].is_empty());
    }

    #[test]
    fn dead_next_hops_do_not_count() {
        let out = r#"@@route 10.0.0.10
[{"dst":"10.0.0.10","flags":[],"nexthops":[{"gateway":"10.0.0.11","flags":["dead","linkdown"]},{"gateway":"10.0.0.12","flags":[]}]}]
"#;
        assert_eq!(parse(out).unwrap()[&ip("10.0.0.10")], vec![ip("10.0.0.12")]);
    }

    #[test]
    fn an_ip_without_json_is_said_with_the_fix() {
        let out = "@@route 10.0.0.10\nOption \"-j\" is unknown, try \"ip -help\".\n";
        let e = parse(out).unwrap_err();
        assert!(
            e.contains("10.0.0.10/32") && e.contains("iproute2 4.14"),
            "{e}"
        );
    }

    /// The script asks for each VIP as one quoted marker and one exact /32 route.
    #[test]
    fn the_script_asks_for_each_vip_exactly() {
        let s = script(&[ip("192.168.100.10"), ip("192.168.100.30")]);
        assert_eq!(
            s.as_str(),
            "echo '@@route 192.168.100.10'\nip -j -4 route show exact 192.168.100.10/32\n\
             echo '@@route 192.168.100.30'\nip -j -4 route show exact 192.168.100.30/32"
        );
    }
}
