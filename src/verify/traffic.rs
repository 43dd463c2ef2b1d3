//! `verify`'s traffic: requests through each VIP, told apart by the page each real server
//! serves, and who answers ARP for the VIP while they run.

use super::checks::{arp, distribution, Check};
use super::dns;
use super::report::Distribution;
use super::{net, Scope};
use crate::inventory::{Inventory, Protocol, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Requests through each VIP in scope, counted per real server by its page, and who answers ARP.
pub(super) async fn through_vips(
    scope: &Scope<'_>,
    requests: usize,
) -> (Vec<Distribution>, Vec<Check>) {
    let drained = scope.drained();
    let (mut dists, mut out) = (Vec::new(), Vec::new());
    for svc in scope.services() {
        // ARP is asked while the requests run: arping waits for its replies (about 2 s), which
        // the requests need not wait for.
        let ((dist, checks), macs) = tokio::join!(
            traffic(scope, svc, requests, &drained),
            net::arp_answers(svc.vip.0)
        );
        out.extend(checks);
        dists.extend(dist);
        let answered: Vec<(String, Option<String>)> = macs
            .into_iter()
            .map(|mac| {
                let host = scope.host_of_mac(&mac);
                (mac, host)
            })
            .collect();
        if scope.inv.ecmp.is_some() {
            // ECMP: the routers bring the VIP's traffic; no host may answer ARP for it.
            let all: Vec<(String, Vec<String>)> = scope
                .seen
                .iter()
                .map(|o| {
                    (
                        o.host.name.clone(),
                        o.facts.macs.values().cloned().collect(),
                    )
                })
                .collect();
            out.push(arp::none_of(svc.vip, &all, &answered));
        } else if scope.any_director {
            let holder = scope.holders(svc).into_iter().next().and_then(|d| {
                let dev = &d.facts.addrs.iter().find(|a| a.ip == svc.vip)?.dev;
                Some((d.host.name.as_str(), d.facts.macs.get(dev)?.as_str()))
            });
            out.push(arp::holder_only(svc.vip, holder, &answered));
        } else {
            let reals: Vec<(String, Vec<String>)> = scope
                .real_servers()
                .filter(|o| svc.has_member(&o.host.name))
                .map(|o| {
                    (
                        o.host.name.clone(),
                        o.facts.macs.values().cloned().collect(),
                    )
                })
                .collect();
            out.push(arp::none_of(svc.vip, &reals, &answered));
        }
    }
    (dists, out)
}

/// Requests through `svc`'s VIP: HTTP answers counted per real server by their pages, or, for a
/// UDP service, the DNS check's own query (the only UDP request lvsprov knows an answer to; a
/// plain `udp` check's service gets its table and ARP checks only).
async fn traffic(
    scope: &Scope<'_>,
    svc: &Service,
    requests: usize,
    drained: &BTreeSet<String>,
) -> (Option<Distribution>, Vec<Check>) {
    if svc.protocol == Protocol::Udp {
        return (None, dns::through_vip(svc, requests).await);
    }
    let answers = count_answers(scope.inv, svc, requests).await;
    let checks = distribution::run(&svc.with_drained(drained), requests, &answers, &|n| {
        scope.judged(n)
    });
    let dist = Distribution {
        service: format!("{}:{}", svc.vip, svc.port),
        requests,
        answers,
    };
    (Some(dist), checks)
}

async fn count_answers(inv: &Inventory, svc: &Service, requests: usize) -> BTreeMap<String, usize> {
    let mut pages: Vec<(String, String)> = Vec::new();
    for h in svc.real_servers.iter().filter_map(|m| inv.host(&m.name)) {
        // A page-less server serves the operator's page: learn it from the server's own address,
        // so its answers through the VIP can still be told from the others'.
        let page = match h.page() {
            Some(p) => p.trim().to_string(),
            None => match net::get(h.address.into(), svc.port, Duration::from_secs(3)).await {
                Ok(body) => body,
                Err(_) => continue,
            },
        };
        pages.push((page, h.name.clone()));
    }
    let mut answers: BTreeMap<String, usize> = svc
        .real_servers
        .iter()
        .map(|m| (m.name.clone(), 0))
        .collect();
    for _ in 0..requests {
        let who = match net::get(svc.vip.0, svc.port, Duration::from_secs(2)).await {
            Ok(body) => pages
                .iter()
                .find(|(p, _)| *p == body)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| "other".into()),
            Err(_) => "failed".into(),
        };
        *answers.entry(who).or_default() += 1;
    }
    answers
}
