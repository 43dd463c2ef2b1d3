//! `verify`'s traffic: requests through each VIP, told apart by the page each real server
//! serves, and who answers ARP for the VIP while they run.

use super::checks::{arp, distribution, Check};
use super::dns;
use super::report::Distribution;
use super::{net, Scope};
use crate::inventory::{Inventory, Protocol, Service};
use std::collections::BTreeMap;
use std::time::Duration;

/// What was asked through one VIP, before it is judged against the hosts' facts.
pub(super) struct Asked {
    svc: Service,
    /// HTTP answers counted per real server by page, or a UDP service's own checks.
    answers: Answers,
    /// MACs that answered ARP (or neighbour discovery) for the VIP while the requests ran.
    macs: Vec<String>,
}

enum Answers {
    /// Each real server's answers, told apart by its page.
    Http(BTreeMap<String, usize>),
    /// The DNS check's own query through the VIP (the only UDP request lvsprov knows an answer
    /// to; a plain `udp` check's service gets its table and ARP checks only).
    Udp(Vec<Check>),
}

/// Requests through each of `services`' VIPs, and who answers ARP for it meanwhile. Needs no
/// facts, so `verify` asks while the hosts' facts are read.
pub(super) async fn ask(inv: &Inventory, services: &[Service], requests: usize) -> Vec<Asked> {
    let mut out = Vec::new();
    for svc in services {
        // ARP is asked while the requests run: arping waits for its replies (about 2 s), which
        // the requests need not wait for.
        let (answers, macs) = tokio::join!(
            async {
                match svc.protocol {
                    Protocol::Udp => Answers::Udp(dns::through_vip(svc, requests).await),
                    _ => Answers::Http(count_answers(inv, svc, requests).await),
                }
            },
            net::arp_answers(svc.vip.0)
        );
        out.push(Asked {
            svc: svc.clone(),
            answers,
            macs,
        });
    }
    out
}

/// [`ask`], then [`judge`].
pub(super) async fn through_vips(
    scope: &Scope<'_>,
    requests: usize,
) -> (Vec<Distribution>, Vec<Check>) {
    let services: Vec<Service> = scope.services().cloned().collect();
    judge(scope, ask(scope.inv, &services, requests).await, requests)
}

/// Each VIP's answers counted per real server (drained ones must get none), and who answered
/// ARP for it, against the hosts' facts.
pub(super) fn judge(
    scope: &Scope<'_>,
    asked: Vec<Asked>,
    requests: usize,
) -> (Vec<Distribution>, Vec<Check>) {
    let drained = scope.drained();
    let (mut dists, mut out) = (Vec::new(), Vec::new());
    for Asked { svc, answers, macs } in asked {
        let svc = &svc;
        match answers {
            Answers::Udp(checks) => out.extend(checks),
            Answers::Http(answers) => {
                out.extend(distribution::run(
                    &svc.with_drained(&drained),
                    requests,
                    &answers,
                    &|n| scope.judged(n),
                ));
                dists.push(Distribution {
                    service: format!("{}:{}", svc.vip, svc.port),
                    requests,
                    answers,
                });
            }
        }
        let answered: Vec<(String, Option<String>)> = macs
            .into_iter()
            .map(|mac| {
                let host = scope.host_of_mac(&mac);
                (mac, host)
            })
            .collect();
        out.push(arp_check(scope, svc, &answered));
    }
    (dists, out)
}

/// ECMP: the routers bring the VIP's traffic, so no host may answer ARP for it; otherwise the
/// VIP's holder alone (with directors selected), or none of its real servers.
fn arp_check(scope: &Scope<'_>, svc: &Service, answered: &[(String, Option<String>)]) -> Check {
    let macs_of = |o: &super::Observed| -> (String, Vec<String>) {
        (
            o.host.name.clone(),
            o.facts.macs.values().cloned().collect(),
        )
    };
    if scope.inv.ecmp.is_some() {
        let all: Vec<(String, Vec<String>)> = scope.seen.iter().map(macs_of).collect();
        arp::none_of(svc.vip, &all, answered)
    } else if scope.any_director {
        let holder = scope.holders(svc).into_iter().next().and_then(|d| {
            let dev = &d.facts.addrs.iter().find(|a| a.ip == svc.vip)?.dev;
            Some((d.host.name.as_str(), d.facts.macs.get(dev)?.as_str()))
        });
        arp::holder_only(svc.vip, holder, answered)
    } else {
        let reals: Vec<(String, Vec<String>)> = scope
            .real_servers()
            .filter(|o| svc.has_member(&o.host.name))
            .map(macs_of)
            .collect();
        arp::none_of(svc.vip, &reals, answered)
    }
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
