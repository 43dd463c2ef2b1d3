//! ECMP: the directors say they announce each VIP (`bgp`); the router's own kernel says whether
//! it forwards by those announcements. A route over every serving director and no other host is
//! what spreads the flows: a missing director carries none, and a stale next hop (a host that
//! left the cluster, a drained director still routed to) receives flows it cannot serve.

use super::{check, listed, Check};
use std::net::Ipv4Addr;

/// Router `router`'s route for `vip`: its live next hops (`gateways`, empty for no route), against
/// the directors that should announce it (`serving`, by name and address) and those drained on
/// purpose (`drained`), which must not be there.
pub fn routes(
    router: Ipv4Addr,
    vip: Ipv4Addr,
    gateways: &[Ipv4Addr],
    serving: &[(String, Ipv4Addr)],
    drained: &[(String, Ipv4Addr)],
) -> Check {
    let name_of = |a: &Ipv4Addr| {
        serving
            .iter()
            .chain(drained)
            .find(|(_, d)| d == a)
            .map(|(n, _)| n.clone())
    };
    let mut wrong: Vec<String> = serving
        .iter()
        .filter(|(_, a)| !gateways.contains(a))
        .map(|(n, a)| format!("no next hop {a} ({n})"))
        .collect();
    for g in gateways {
        match name_of(g) {
            Some(n) if drained.iter().any(|(_, a)| a == g) => {
                wrong.push(format!("next hop {g} ({n}, drained)"))
            }
            Some(_) => {}
            None => wrong.push(format!("next hop {g}, which is no director")),
        }
    }
    let seen: Vec<String> = gateways
        .iter()
        .map(|g| match name_of(g) {
            Some(n) => format!("{g} ({n})"),
            None => g.to_string(),
        })
        .collect();
    let want: Vec<String> = serving.iter().map(|(n, a)| format!("{a} ({n})")).collect();
    check(
        format!("router {router} routes {vip} over its directors"),
        wrong.is_empty(),
        format!("next hops {}", listed(&want, "none")),
        if wrong.is_empty() {
            format!("next hops {}", listed(&seen, "none"))
        } else {
            format!("{}; next hops: {}", wrong.join(", "), listed(&seen, "none"))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }
    fn d(n: &str, a: &str) -> (String, Ipv4Addr) {
        (n.to_string(), ip(a))
    }

    #[test]
    fn every_serving_director_and_nothing_else() {
        let (rtr, vip) = (ip("192.168.100.254"), ip("192.168.100.10"));
        let both = [d("lvs01", "192.168.100.11"), d("lvs02", "192.168.100.12")];
        let ok = routes(
            rtr,
            vip,
            &[ip("192.168.100.11"), ip("192.168.100.12")],
            &both,
            &[],
        );
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.expected, ok.seen);
        assert_eq!(
            ok.seen,
            "next hops 192.168.100.11 (lvs01), 192.168.100.12 (lvs02)"
        );

        let one = routes(rtr, vip, &[ip("192.168.100.12")], &both, &[]);
        assert!(!one.ok);
        assert!(
            one.seen.starts_with("no next hop 192.168.100.11 (lvs01)"),
            "{}",
            one.seen
        );

        let none = routes(rtr, vip, &[], &both, &[]);
        assert!(!none.ok);
        assert!(none.seen.ends_with("next hops: none"), "{}", none.seen);

        let stale = routes(
            rtr,
            vip,
            &[
                ip("192.168.100.11"),
                ip("192.168.100.12"),
                ip("192.168.100.13"),
            ],
            &both,
            &[],
        );
        assert!(!stale.ok);
        assert!(
            stale
                .seen
                .contains("next hop 192.168.100.13, which is no director"),
            "{}",
            stale.seen
        );
    }

    #[test]
    fn a_drained_director_must_be_gone_from_the_route() {
        let (rtr, vip) = (ip("192.168.100.254"), ip("192.168.100.10"));
        let serving = [d("lvs02", "192.168.100.12")];
        let drained = [d("lvs01", "192.168.100.11")];
        assert!(routes(rtr, vip, &[ip("192.168.100.12")], &serving, &drained).ok);
        let still = routes(
            rtr,
            vip,
            &[ip("192.168.100.11"), ip("192.168.100.12")],
            &serving,
            &drained,
        );
        assert!(!still.ok);
        assert!(
            still
                .seen
                .contains("next hop 192.168.100.11 (lvs01, drained)"),
            "{}",
            still.seen
        );
    }
}
