//! `lvsprov verify`: proof that the cluster balances, with the evidence. Runs where lvsprov runs
//! (the vantage point: a client on the VIP's segment, never a director). It observes the selected
//! hosts through the same fleet fan-out as every command (`--limit`, `--forks`) while it sends
//! the requests through each VIP (they need no facts), then judges with pure checks (`checks/`):
//! IPVS tables, the VIP holder, each real server as its own steps say it should be, the
//! distribution of requests through each VIP, who answers ARP, and failover.

use crate::exit::Exit;
use crate::facts::Facts;
use crate::fleet::{self, Finish};
use crate::inventory::{Host, Inventory, Role, Service};
use crate::pipeline::Loaded;
use crate::resources::Step;
use checks::{bgp, check, ipvs_table, real_server, sync, vip_holder, Check};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod checks;
mod dns;
mod ecmp;
pub mod failover;
mod ndp;
pub mod net;
mod report;
mod routers;
mod traffic;

pub use report::{Distribution, VerifyReport};
use traffic::through_vips;

/// One host as observed: its facts and, for a real server, the steps `up` would apply to it.
struct Observed {
    host: Host,
    facts: Facts,
    steps: Result<Vec<Step>, String>,
}

impl Observed {
    /// A director drained itself (`lvsprov drain DIRECTOR`): with ECMP it withdrew its VIPs.
    fn drained_itself(&self) -> bool {
        self.facts.drained.contains(&self.host.name)
    }
}

impl Finish for Observed {
    fn word(&self) -> String {
        "observed".into()
    }
}

/// What the selection covers: `--limit web01` verifies web01 and the services it serves.
struct Scope<'a> {
    inv: &'a Inventory,
    seen: &'a [Observed],
    selected: BTreeSet<String>,
    any_director: bool,
}

impl Scope<'_> {
    fn directors(&self) -> impl Iterator<Item = &Observed> {
        self.seen.iter().filter(|o| o.host.role() == Role::Director)
    }
    fn real_servers(&self) -> impl Iterator<Item = &Observed> {
        self.seen
            .iter()
            .filter(|o| o.host.role() == Role::RealServer)
    }
    fn services(&self) -> impl Iterator<Item = &Service> {
        in_scope(self.inv, &self.selected, self.any_director)
    }
    /// Every director of the inventory is selected: what holds between them can be judged.
    fn all_directors(&self) -> bool {
        self.inv
            .directors()
            .all(|d| self.selected.contains(&d.name))
    }
    fn judged(&self, name: &str) -> bool {
        self.any_director || self.selected.contains(name)
    }
    /// Real servers drained on the observed directors.
    fn drained(&self) -> BTreeSet<String> {
        self.directors()
            .flat_map(|d| d.facts.drained.iter().cloned())
            .collect()
    }
    fn holders(&self, svc: &Service) -> Vec<&Observed> {
        self.directors()
            .filter(|d| d.facts.addrs.iter().any(|a| a.ip == svc.vip))
            .collect()
    }
    fn host_of_mac(&self, mac: &str) -> Option<String> {
        self.seen
            .iter()
            .find(|o| o.facts.macs.values().any(|m| m == mac))
            .map(|o| o.host.name.clone())
    }
}

/// The services a selection covers: every one when a director is selected, else those the
/// selected real servers serve.
fn in_scope<'a>(
    inv: &'a Inventory,
    selected: &'a BTreeSet<String>,
    any_director: bool,
) -> impl Iterator<Item = &'a Service> {
    inv.services
        .iter()
        .filter(move |s| any_director || s.real_servers.iter().any(|m| selected.contains(&m.name)))
}

pub async fn run(loaded: Loaded, requests: usize, failover: bool) -> VerifyReport {
    let started = Instant::now();
    let selected: BTreeSet<String> = loaded.hosts.iter().map(|h| h.name.clone()).collect();
    let any_director = loaded.hosts.iter().any(|h| h.role() == Role::Director);
    // ECMP counts each director's connections before and after the requests, so they wait for
    // the facts; otherwise the requests (and arping's 2 s) run while the facts are read.
    let ecmp = loaded.inv.ecmp.is_some() && any_director;
    let services: Vec<Service> = in_scope(&loaded.inv, &selected, any_director)
        .cloned()
        .collect();
    let ((seen, mut checks), asked) = tokio::join!(observe(&loaded), async {
        match ecmp {
            true => None,
            false => Some(traffic::ask(&loaded.inv, &services, requests).await),
        }
    });
    let scope = Scope {
        inv: &loaded.inv,
        seen: &seen,
        selected,
        any_director,
    };
    checks.extend(directors(&scope));
    checks.extend(real_servers(&scope).await);
    let (distribution, through) = match asked {
        None => through_every_director(&scope, &loaded, requests).await,
        Some(asked) => traffic::judge(&scope, asked, requests),
    };
    checks.extend(through);
    checks.extend(routers::checks(&scope, &loaded.fleet).await);
    let (found, failover_seconds, failover_report) = if failover {
        failover_checks(&scope, &loaded).await
    } else {
        (vec![], None, None)
    };
    checks.extend(found);
    let mut report = VerifyReport::new(
        checks,
        distribution,
        failover_seconds,
        started.elapsed().as_millis(),
    );
    report.failover = failover_report;
    report
}

/// Stops keepalived on the first in-scope service's VIP holder and measures (see `failover`).
async fn failover_checks(
    scope: &Scope<'_>,
    loaded: &Loaded,
) -> (Vec<Check>, Option<f64>, Option<failover::Failover>) {
    let target = scope.services().next().and_then(|svc| {
        let holder = scope.holders(svc).first().map(|o| o.host.clone())?;
        Some((holder, svc.clone()))
    });
    match target {
        Some((holder, svc)) => {
            let backups = scope
                .directors()
                .filter(|d| d.host.name != holder.name)
                .map(|d| d.host.clone())
                .collect();
            failover::run(loaded.pipeline.clone(), holder, backups, svc, &loaded.fleet).await
        }
        None => (
            vec![check(
                "failover",
                false,
                "a director holding the VIP (select the directors)",
                "none",
            )],
            None,
            None,
        ),
    }
}

/// Facts (and real servers' steps) from every selected host; a failure is a failed check.
async fn observe(loaded: &Loaded) -> (Vec<Observed>, Vec<Check>) {
    let pipeline = loaded.pipeline.clone();
    let lock = Arc::new(loaded.lock("verify"));
    let results = fleet::each(
        loaded.hosts.clone(),
        &loaded.fleet,
        move |host, session, progress| {
            let (pipeline, lock) = (pipeline.clone(), lock.clone());
            async move {
                progress.phase("facts");
                // The lock is held while reading only: no run changes the host mid-read.
                let (facts, shell) = pipeline.open(&host, &session, Some(&lock)).await?;
                shell.close().await;
                let steps = pipeline.steps(&host, &facts).map_err(|e| e.to_string());
                Ok(Observed { host, facts, steps })
            }
        },
    )
    .await;
    let mut seen = Vec::new();
    let mut failed = Vec::new();
    for (host, r) in results {
        match r {
            Ok(o) => seen.push(o),
            Err(e) => failed.push(check(
                format!("{}: reachable", host.name),
                false,
                "facts over SSH",
                e.to_string(),
            )),
        }
    }
    (seen, failed)
}

/// Each observed director's IPVS table; exactly one VIP holder when every director is observed.
fn directors(scope: &Scope) -> Vec<Check> {
    let drained = scope.drained();
    let all_directors = scope.all_directors();
    let mut out = Vec::new();
    for svc in scope.services() {
        let as_run = svc.with_drained(&drained);
        for d in scope.directors() {
            out.push(ipvs_table::run(&d.host.name, &d.facts.ipvs, svc, &as_run));
        }
        if let Some(ecmp) = &scope.inv.ecmp {
            let announcement = scope.inv.vip_protocol(svc.vip);
            for d in scope.directors() {
                let vip = (svc.vip, announcement.as_str());
                out.push(bgp::announces(
                    &d.host.name,
                    ecmp,
                    vip,
                    &d.facts.bgp,
                    d.drained_itself(),
                ));
            }
        } else if all_directors {
            let holders: Vec<String> = scope
                .holders(svc)
                .iter()
                .map(|d| d.host.name.clone())
                .collect();
            let master = scope.inv.master_of(svc.vip).unwrap_or_default();
            out.push(vip_holder::run(svc.vip, &holders, master));
            // A drained master (`lvsprov drain DIRECTOR`) has handed its VIPs over on purpose.
            if svc.master.is_some() && !drained.contains(master) {
                out.push(vip_holder::by_master(svc.vip, &holders, master));
            }
        }
    }
    out.extend(sync_daemons(scope, all_directors));
    out
}

/// With sync on and every director observed: each runs the daemons it must ([`sync::wanted`]).
fn sync_daemons(scope: &Scope, all_directors: bool) -> Vec<Check> {
    let synced = scope
        .inv
        .keepalived
        .as_ref()
        .is_some_and(|k| k.sync.is_some());
    let Some(svc) = scope
        .inv
        .services
        .first()
        .filter(|_| synced && all_directors)
    else {
        return vec![];
    };
    let holders: Vec<&str> = scope
        .holders(svc)
        .iter()
        .map(|d| d.host.name.as_str())
        .collect();
    scope
        .directors()
        .map(|d| {
            let holder = holders.contains(&d.host.name.as_str());
            sync::run(
                &d.host.name,
                sync::wanted(d.facts.boot.init, holder),
                &d.facts.sync_daemons,
            )
        })
        .collect()
}

/// Each observed real server against its own steps, and its page on its own address.
async fn real_servers(scope: &Scope<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    for o in scope.real_servers() {
        match &o.steps {
            Ok(steps) => out.extend(real_server::run(&o.host.name, steps, &o.facts)),
            Err(e) => out.push(check(
                format!("{}: steps", o.host.name),
                false,
                "the real server's steps",
                e.clone(),
            )),
        }
        let ports = scope.inv.services_of(&o.host).flat_map(Service::web_ports);
        for port in ports {
            let got = net::get(o.host.address.into(), *port, Duration::from_secs(3)).await;
            let at = format!("{}:{port}", o.host.address);
            out.push(real_server::page(&o.host.name, &at, o.host.page(), &got));
        }
    }
    out
}

/// ECMP: [`through_vips`] between two readings of the directors' counters, so each director's
/// share of the new connections is judged too, with requests enough to reach every one.
async fn through_every_director(
    scope: &Scope<'_>,
    loaded: &Loaded,
    requests: usize,
) -> (Vec<Distribution>, Vec<Check>) {
    let hosts: Vec<Host> = scope.directors().map(|d| d.host.clone()).collect();
    let drained: BTreeSet<String> = scope
        .directors()
        .filter(|d| d.drained_itself())
        .map(|d| d.host.name.clone())
        .collect();
    let serving = scope.inv.directors().count() - drained.len();
    let requests = requests.max(checks::reach::requests_for(serving));
    let before = ecmp::counters(hosts.clone(), &loaded.fleet, false).await;
    let (dists, mut out) = through_vips(scope, requests).await;
    let after = ecmp::counters(hosts, &loaded.fleet, true).await;
    for svc in scope.services().filter(|s| ecmp::sends_requests(s)) {
        out.extend(ecmp::checks(svc, (&before, &after), &drained, requests));
    }
    (dists, out)
}

impl VerifyReport {
    pub fn exit(&self) -> Exit {
        if self.checks.iter().all(|c| c.ok) {
            Exit::Ok
        } else {
            Exit::HostFailed
        }
    }
}
