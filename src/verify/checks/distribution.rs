//! Requests through a VIP land on the real servers in the scheduler's shape: rr/wrr are
//! deterministic for sequential new connections (±1 of each share), a hash over the client's
//! port is a binomial draw (4 standard deviations), the others within 15 %.

use super::{check, Check};
use crate::inventory::Service;
use std::collections::BTreeMap;

/// Per real server: the share of `n` requests it should get, and how far off is still right, for
/// the service as the directors run it (drained servers at weight 0).
pub fn expected_shape(service: &Service, n: usize) -> BTreeMap<String, (f64, f64)> {
    let total: u32 = service.real_servers.iter().map(|m| m.weight).sum();
    let exact = service.scheduler.is_deterministic();
    service
        .real_servers
        .iter()
        .map(|m| {
            let want = if total == 0 {
                0.0
            } else {
                n as f64 * m.weight as f64 / total as f64
            };
            // Hashing on the client's port (ECMP's mh) sends each new connection to a server at
            // random, in proportion to its weight: a binomial count, held to 4 standard
            // deviations (wrong about a healthy cluster once in some 16,000 runs).
            let p = want / n.max(1) as f64;
            let slack = match (m.weight, exact, service.hash_port) {
                (0, _, _) => 0.0,
                (_, true, _) => 1.0,
                (_, false, true) => (4.0 * (n as f64 * p * (1.0 - p)).sqrt()).max(2.0),
                (_, false, false) => (want * 0.15).max(2.0),
            };
            (m.name.clone(), (want, slack))
        })
        .collect()
}

/// `answers`: requests per real server (and `other`, `failed`); `judged`: the real servers whose
/// share is checked (those selected with `--limit`, or all when a director is).
pub fn run(
    service: &Service,
    requests: usize,
    answers: &BTreeMap<String, usize>,
    judged: &dyn Fn(&str) -> bool,
) -> Vec<Check> {
    let shape = expected_shape(service, requests);
    let mut out = Vec::new();
    if let Some(secs) = service.persistence_timeout {
        out.push(sticky(service, secs, requests, answers, &shape));
    }
    let shares = shape
        .iter()
        .filter(|(n, _)| judged(n) && service.persistence_timeout.is_none());
    for (name, (want, slack)) in shares {
        let got = answers.get(name).copied().unwrap_or(0) as f64;
        out.push(check(
            format!("{}:{} → {name}", service.vip, service.port),
            (got - want).abs() <= *slack,
            format!(
                "{want:.0} ± {slack:.0} of {requests} ({})",
                service.scheduler
            ),
            format!("{got:.0}"),
        ));
    }
    let stray: usize = answers
        .iter()
        .filter(|(k, _)| !shape.contains_key(*k))
        .map(|(_, v)| v)
        .sum();
    out.push(check(
        format!(
            "{}:{} every request answered by a real server",
            service.vip, service.port
        ),
        stray == 0,
        "0 failed or unknown answers",
        format!("{stray}"),
    ));
    out
}

/// With persistence, one client is one real server's for `secs`: every request from here lands on
/// the same one (any that takes new connections), whatever the scheduler would share out.
fn sticky(
    service: &Service,
    secs: u32,
    requests: usize,
    answers: &BTreeMap<String, usize>,
    shape: &BTreeMap<String, (f64, f64)>,
) -> Check {
    let served: Vec<(&String, &usize)> = answers.iter().filter(|(_, n)| **n > 0).collect();
    let ok = matches!(served[..], [(name, n)] if *n == requests && shape.get(name).is_some_and(|(want, _)| *want > 0.0));
    let seen = served
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    check(
        format!(
            "{}:{} one real server for this client",
            service.vip, service.port
        ),
        ok,
        format!("{requests} of {requests} from one real server (persistence {secs} s)"),
        seen,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::parse;

    #[test]
    fn rr_is_held_to_one_request_and_strays_fail() {
        let inv = parse(include_str!("../../../inventories/lab.json")).unwrap();
        let svc = &inv.services[0];
        let all = |_: &str| true;
        let even = BTreeMap::from([("web01".to_string(), 10), ("web02".to_string(), 10)]);
        assert!(run(svc, 20, &even, &all).iter().all(|c| c.ok));
        let skewed = BTreeMap::from([("web01".to_string(), 12), ("web02".to_string(), 8)]);
        let checks = run(svc, 20, &skewed, &all);
        assert_eq!(checks.iter().filter(|c| !c.ok).count(), 2);
        let only_web01 = run(svc, 20, &skewed, &|n: &str| n == "web01");
        assert_eq!(only_web01.len(), 2, "one share + the stray check");
        let failed = BTreeMap::from([("web01".to_string(), 10), ("failed".to_string(), 10)]);
        assert!(!run(svc, 20, &failed, &all).last().unwrap().ok);
        let drained = svc.with_drained(&["web01".to_string()].into());
        assert_eq!(expected_shape(&drained, 20)["web01"], (0.0, 0.0));
    }

    #[test]
    fn with_persistence_one_client_stays_on_one_real_server() {
        let inv = parse(include_str!("../../../inventories/lab.json")).unwrap();
        let mut svc = inv.services[0].clone();
        svc.persistence_timeout = Some(300);
        let all = |_: &str| true;
        let one = BTreeMap::from([("web02".to_string(), 20), ("web01".to_string(), 0)]);
        assert!(run(&svc, 20, &one, &all).iter().all(|c| c.ok));
        let even = BTreeMap::from([("web01".to_string(), 10), ("web02".to_string(), 10)]);
        assert!(!run(&svc, 20, &even, &all)[0].ok);
        let drained = svc.with_drained(&["web02".to_string()].into());
        assert!(
            !run(&drained, 20, &one, &all)[0].ok,
            "a drained server takes no new client"
        );
    }

    #[test]
    fn a_hash_over_the_clients_port_is_held_to_a_binomial_spread() {
        let inv = parse(include_str!("../../../inventories/lab-ecmp.json")).unwrap();
        let svc = &inv.services[0];
        assert!(svc.hash_port);
        let all = |_: &str| true;
        let shares =
            |a: usize| BTreeMap::from([("web01".to_string(), a), ("web02".to_string(), 20 - a)]);
        // 4 standard deviations of 20 fair coin flips: 8.9.
        assert!(run(svc, 20, &shares(14), &all).iter().all(|c| c.ok));
        assert!(run(svc, 20, &shares(2), &all).iter().all(|c| c.ok));
        assert!(
            !run(svc, 20, &shares(0), &all).iter().all(|c| c.ok),
            "a server that got nothing"
        );
    }
}
