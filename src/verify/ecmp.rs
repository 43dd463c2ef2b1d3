//! ECMP's part of `verify`: every director's IPVS connection counters read before and after the
//! requests through the VIPs, judged by [`reach`].

use super::checks::{reach, Check};
use crate::error::HostError;
use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{HealthKind, Host, Protocol, Service};
use crate::ipvs::stats::{self, Row};
use crate::resources::ipvs::VirtualService;
use crate::sh;
use crate::shell::Script;
use std::collections::{BTreeMap, BTreeSet};

/// Per director: its IPVS counters ([`stats::COMMAND`]), or why they could not be read.
pub type Counters = BTreeMap<String, Result<BTreeMap<Row, [u64; 5]>, String>>;

struct Read(BTreeMap<Row, [u64; 5]>);

impl Finish for Read {
    fn word(&self) -> String {
        "counted".into()
    }
}

/// Services whose requests `verify` sends (HTTP, or a DNS check's query): the others' counters
/// say nothing about the routers.
pub fn sends_requests(svc: &Service) -> bool {
    svc.protocol == Protocol::Tcp || svc.health_check.kind == HealthKind::Dns
}

/// `settle`: read after the requests. IPVS sums its per-CPU counters into what `ipvsadm` prints
/// every 2 s (its rate estimator's period), so the read waits that period out first.
pub async fn counters(directors: Vec<Host>, opts: &FleetOptions, settle: bool) -> Counters {
    let wait = if settle { "sleep 2.5" } else { ":" };
    let script = sh!(
        "{}\nPATH=$PATH:/usr/sbin:/sbin {}",
        Script::lit(wait),
        Script::lit(stats::COMMAND)
    );
    let results = fleet::each(directors, opts, move |_, session, progress| {
        let script = script.clone();
        async move {
            progress.phase("counters");
            let out = session.run(&script).await?;
            if out.status != 0 {
                return Err(HostError::Facts(format!(
                    "`ipvsadm -Ln --stats` exited {}: {}",
                    out.status,
                    out.stderr.trim()
                )));
            }
            Ok(Read(stats::five(&out.stdout)))
        }
    })
    .await;
    results
        .into_iter()
        .map(|(h, r)| (h.name, r.map(|x| x.0).map_err(|e| e.to_string())))
        .collect()
}

/// One check per director read: the connections `svc` took on it between the two readings.
pub fn checks(
    svc: &Service,
    (before, after): (&Counters, &Counters),
    drained: &BTreeSet<String>,
    requests: usize,
) -> Vec<Check> {
    let key = VirtualService::from(svc).key();
    let conns = |c: &Counters, d: &str| -> Result<u64, String> {
        match c.get(d) {
            Some(Ok(rows)) => Ok(rows.get(&(key, None)).map_or(0, |n| n[0])),
            Some(Err(e)) => Err(e.clone()),
            None => Err("not read".into()),
        }
    };
    let service = format!("{}:{}", svc.vip, svc.port);
    after
        .keys()
        .map(|d| {
            let took = conns(before, d).and_then(|b| Ok(conns(after, d)?.saturating_sub(b)));
            reach::run(&service, d, took, drained.contains(d), requests)
        })
        .collect()
}
