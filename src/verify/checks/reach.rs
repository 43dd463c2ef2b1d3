//! ECMP: the routers spread a VIP's new flows over every director that announces it. A router
//! that sends them all to one director (multipath off, or hashing on addresses only, so one
//! client is one path) passes every other check and leaves the cluster one director wide. Each
//! director's IPVS service counts the connections it took (`ipvsadm -Ln --stats`), so its
//! counter before and after `verify`'s requests shows whether the router reached it.

use super::{check, Check};

/// Requests enough that, spread at random over `directors`, every one of them gets at least one
/// but once in 10,000 runs: n·(1 − 1/n)^r ≤ 10⁻⁴ (15 for two directors, 37 for four).
pub fn requests_for(directors: usize) -> usize {
    if directors < 2 {
        return 1;
    }
    let n = directors as f64;
    ((1e-4 / n).ln() / (1.0 - 1.0 / n).ln()).ceil() as usize
}

/// `took`: the connections the director's service counted while the requests ran (None: its
/// counters could not be read, with why). A drained director has withdrawn the VIP and must
/// take none.
pub fn run(
    service: &str,
    director: &str,
    took: Result<u64, String>,
    drained: bool,
    requests: usize,
) -> Check {
    let name = format!("{service} reaches {director}");
    match took {
        Err(e) => check(name, false, "its IPVS counters", e),
        Ok(n) if drained => check(
            name,
            n == 0,
            "no new connection (drained: its announcement withdrawn)",
            format!("{n}: is a router still sending it the VIP's flows?"),
        ),
        Ok(0) => check(
            name,
            false,
            format!("≥ 1 of {requests} new connections (the routers hash each flow to a director)"),
            "0: is the router using every path (multipath on, hashing on ports)?",
        ),
        Ok(n) => check(
            name,
            true,
            format!("≥ 1 of {requests} new connections (the routers hash each flow to a director)"),
            format!("{n}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_requests_that_a_healthy_router_reaches_every_director() {
        assert_eq!(requests_for(1), 1);
        assert_eq!(requests_for(2), 15);
        assert_eq!(requests_for(4), 37);
        for n in 2..=16 {
            let r = requests_for(n) as f64;
            let miss = n as f64 * (1.0 - 1.0 / n as f64).powf(r);
            assert!(miss <= 1e-4, "{n} directors, {r} requests: {miss}");
        }
    }

    #[test]
    fn a_director_the_router_never_chose_fails_and_a_drained_one_must_take_none() {
        let svc = "192.168.100.10:80";
        assert!(run(svc, "lvs01", Ok(9), false, 20).ok);
        let never = run(svc, "lvs02", Ok(0), false, 20);
        assert!(!never.ok && never.seen.contains("multipath"), "{never:?}");
        assert!(run(svc, "lvs02", Ok(0), true, 20).ok);
        assert!(!run(svc, "lvs02", Ok(3), true, 20).ok);
        assert!(!run(svc, "lvs01", Err("unreachable".into()), false, 20).ok);
    }
}
