//! `verify --failover`: what users feel when the VIP holder's keepalived stops. Before the stop,
//! K keep-alive sessions are opened through the VIP, each making a request every 100 ms on its
//! one connection; new connections are then tried until the backup answers (the outage), and
//! the sessions are counted intact only if every request on them succeeded. keepalived is
//! started again only after the sessions have ended, so one failover is measured, not the
//! failback.

use super::checks::{check, failover::judge, Check};
use super::net::{get, keep_alive};
use crate::error::HostError;
use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{Host, Service};
use crate::pipeline::Pipeline;
use crate::platform::Verb;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Established sessions opened before the stop, and requests made on each.
const SESSIONS: usize = 10;
const REQUESTS: usize = 80;

#[derive(Debug, Clone, Serialize)]
pub struct Established {
    pub opened: usize,
    pub survived: usize,
    /// How each broken session ended.
    pub broken: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failover {
    pub outage_ms: Option<u64>,
    pub established: Established,
    /// The directors run the IPVS sync daemon (keepalived.sync).
    pub sync: bool,
}

struct Observed {
    samples: Vec<(Duration, bool)>,
    broken: Vec<String>,
}

impl Finish for Observed {
    fn word(&self) -> String {
        "failed over".into()
    }
}

/// Samples new requests through the VIP after the stop: at most 30 s, until the backup answered
/// after a failure, or 20 answers without any failure.
async fn sample(svc: &Service) -> Vec<(Duration, bool)> {
    let stopped = Instant::now();
    let mut out = Vec::new();
    let mut failed = false;
    while stopped.elapsed() < Duration::from_secs(30) {
        let ok = get(svc.vip.0, svc.port, Duration::from_millis(500))
            .await
            .is_ok();
        out.push((stopped.elapsed(), ok));
        failed |= !ok;
        let answers = out.iter().filter(|(_, ok)| *ok).count();
        if (ok && failed) || (!failed && answers >= 20) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out
}

/// Stops keepalived on the holder with the sessions running; returns what was seen.
async fn observe(
    pipeline: &Pipeline,
    host: &Host,
    session: &crate::ssh::Session,
    svc: &Service,
) -> Result<Observed, HostError> {
    let (facts, shell) = pipeline.open(host, session, None).await?;
    shell.close().await;
    let (platform, init) = (facts.platform(), facts.boot.init);
    let sessions: Vec<_> = (0..SESSIONS)
        .map(|_| {
            let (ip, port) = (svc.vip.0, svc.port);
            tokio::spawn(tokio::time::timeout(
                Duration::from_secs(40),
                keep_alive(ip, port, REQUESTS, Duration::from_millis(100)),
            ))
        })
        .collect();
    // Long enough for every session to be synced to the backup: IPVS syncs a connection at its
    // third packet, but the master's sync thread sends its buffer only every 2 s. Stopping
    // sooner measures a connection the backup could not have known yet: after 3 s, 7 of 10
    // sessions were still unknown to the backup once in the real-kernel lab (under emulation), so
    // two full sync periods and a margin. The sessions last 8 s, so 3 s of them follow the stop.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let out = session
        .run(&platform.service(init, "keepalived", Verb::Stop))
        .await?;
    if out.status != 0 {
        return Err(HostError::Facts(format!(
            "stopping keepalived failed: {}",
            out.stderr.trim()
        )));
    }
    let samples = sample(svc).await;
    let mut broken = Vec::new();
    for s in sessions {
        match s.await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => broken.push(e),
            Ok(Err(_)) => broken.push("not done in 40 s".into()),
            Err(e) => broken.push(e.to_string()),
        }
    }
    let _ = session
        .run(&platform.service(init, "keepalived", Verb::Start))
        .await;
    // Let the restarted master take the VIP back before anything else runs.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && get(svc.vip.0, svc.port, Duration::from_millis(500))
            .await
            .is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Observed { samples, broken })
}

pub async fn run(
    pipeline: Arc<Pipeline>,
    holder: Host,
    svc: Service,
    fleet_opts: &FleetOptions,
) -> (Vec<Check>, Option<f64>, Option<Failover>) {
    let name = holder.name.clone();
    let sync = pipeline
        .inv
        .keepalived
        .as_ref()
        .is_some_and(|k| k.sync.is_some());
    let one = FleetOptions {
        forks: 1,
        ..fleet_opts.clone()
    };
    let results = fleet::each(vec![holder], &one, move |host, session, _| {
        let (pipeline, svc) = (pipeline.clone(), svc.clone());
        async move { observe(&pipeline, &host, &session, &svc).await }
    })
    .await;
    let observed = match results.into_iter().next() {
        Some((_, Ok(o))) => o,
        Some((_, Err(e))) => {
            let c = check(
                format!("failover from {name}"),
                false,
                "keepalived stopped",
                e.to_string(),
            );
            return (vec![c], None, None);
        }
        None => {
            return (
                vec![check(
                    "failover",
                    false,
                    "a director holding the VIP",
                    "none",
                )],
                None,
                None,
            )
        }
    };
    let (outage, secs) = judge(&name, &observed.samples);
    let report = Failover {
        outage_ms: secs.map(|s| (s * 1000.0).round() as u64),
        established: Established {
            opened: SESSIONS,
            survived: SESSIONS - observed.broken.len(),
            broken: observed.broken.clone(),
        },
        sync,
    };
    let mut checks = vec![outage];
    if sync {
        checks.push(check(
            format!("failover from {name}: established connections survive"),
            observed.broken.is_empty(),
            format!("{SESSIONS} of {SESSIONS} keep-alive sessions intact (IPVS sync)"),
            match observed.broken.first() {
                None => format!("{SESSIONS} of {SESSIONS}"),
                Some(how) => format!("{} of {SESSIONS} ({how})", SESSIONS - observed.broken.len()),
            },
        ));
    }
    (checks, secs, Some(report))
}
