//! `verify --failover`: what users feel when the VIP holder's keepalived stops. Before the stop,
//! K keep-alive sessions are opened through the VIP, each making a request every 100 ms on its
//! one connection; with sync on, the stop waits until every backup director's IPVS table holds
//! all K (read from its `/proc/net/ip_vs_conn`), so the measurement is of the failover and not of
//! how far sync was behind. New connections are then tried until the backup answers (the
//! outage), and the sessions are counted intact only if every request on them succeeded.
//! keepalived is started again only after the sessions have ended, so one failover is measured,
//! not the failback; verify returns once the VIP's master holds it again and no other director
//! does, so whatever runs next does not meet the move back.

use super::checks::{check, failover::judge, sync::known, Check};
use super::net::{get, keep_alive, open};
use crate::error::HostError;
use crate::facts::addresses;
use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{Host, Service, Vip};
use crate::os::Verb;
use crate::pipeline::Pipeline;
use crate::sh;
use crate::shell::Script;
use crate::ssh::Session;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Established sessions opened before the stop.
const SESSIONS: usize = 10;
/// Requests each session makes once the backup serves the VIP (100 ms apart).
const AFTER: usize = 20;
/// The longest wait for the backups to hold every session. IPVS syncs a connection at its third
/// packet, but the master's sync thread sends its buffer only every 2 s: under emulation, 7 of 10
/// sessions were still unknown to the backup 3 s after they opened, once.
const SYNC_WAIT: Duration = Duration::from_secs(15);
/// Without sync there is nothing to wait for; the sessions still run a while before the stop.
const UNSYNCED_WAIT: Duration = Duration::from_secs(5);
/// The longest wait, beyond its preempt_delay, for the restarted master to hold the VIP again:
/// keepalived starts it as MASTER at once without a delay, but emulated labs start slowly.
const FAILBACK_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Serialize)]
pub struct Established {
    pub opened: usize,
    pub survived: usize,
    /// How each broken session ended.
    pub broken: Vec<String>,
    /// With sync on: how many of the sessions every backup director held when keepalived was
    /// stopped (None: no backup could be asked). A session a backup did not hold breaks.
    pub known_to_backups: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failover {
    pub outage_ms: Option<u64>,
    pub established: Established,
    /// The directors run the IPVS sync daemon (keepalived.sync).
    pub sync: bool,
    /// From keepalived's restart on the stopped director until it held the VIP again and no other
    /// director did; None when it is not the VIP's master, or the move back was not over within
    /// its preempt_delay + 20 s, or a backup could not be asked.
    pub failback_ms: Option<u64>,
}

struct Observed {
    samples: Vec<(Duration, bool)>,
    broken: Vec<String>,
    known: Option<usize>,
    failback_ms: Option<u64>,
}

impl Finish for Observed {
    fn word(&self) -> String {
        "failed over".into()
    }
}

/// The backups' SSH sessions, opened once for both waits on them (the sync before the stop, the
/// move back after it): under emulation a login costs seconds. None: that backup cannot be asked.
async fn connect_backups(backups: &[Host], opts: &FleetOptions) -> Vec<Option<Session>> {
    let mut out = Vec::new();
    for b in backups {
        out.push(
            Session::connect(&b.ssh, &opts.creds, opts.limits)
                .await
                .ok(),
        );
    }
    out
}

/// Polls the backups' IPVS tables until each holds every one of `clients`' connections to `vip`
/// or [`SYNC_WAIT`] has passed; the fewest any backup held. None when a backup cannot be asked.
async fn synced(
    backups: &[Option<Session>],
    vip: SocketAddr,
    clients: &[SocketAddr],
) -> Option<usize> {
    let sessions: Vec<&Session> = backups.iter().map(Option::as_ref).collect::<Option<_>>()?;
    let deadline = Instant::now() + SYNC_WAIT;
    loop {
        let mut fewest = clients.len();
        for s in &sessions {
            let table = s.run(&sh!("cat /proc/net/ip_vs_conn")).await.ok()?;
            fewest = fewest.min(known(&table.stdout, vip, clients));
        }
        if fewest == clients.len() || Instant::now() >= deadline {
            return Some(fewest);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
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

/// Opens [`SESSIONS`] keep-alive sessions to `ip:port`, each running until `stopped` and then
/// [`AFTER`] more requests; their client ends (for the backups' tables) and their outcomes.
async fn open_sessions(
    ip: std::net::IpAddr,
    port: u16,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> (
    Vec<SocketAddr>,
    Vec<tokio::task::JoinHandle<Result<(), String>>>,
) {
    let mut clients = Vec::new();
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let s = open(ip, port).await;
        if let Ok(Ok(a)) = s.as_ref().map(|s| s.local_addr()) {
            clients.push(a);
        }
        let stopped = stopped.clone();
        sessions.push(tokio::spawn(async move {
            let s = s?;
            tokio::time::timeout(
                Duration::from_secs(90),
                keep_alive(s, ip, Duration::from_millis(100), stopped, AFTER),
            )
            .await
            .unwrap_or_else(|_| Err("not done in 90 s".into()))
        }));
    }
    (clients, sessions)
}

/// Stops keepalived on the holder with the sessions running; returns what was seen.
async fn observe(
    pipeline: &Pipeline,
    host: &Host,
    session: &crate::ssh::Session,
    svc: &Service,
    backups: &[Host],
    opts: &FleetOptions,
    sync: bool,
) -> Result<Observed, HostError> {
    let (facts, shell) = pipeline.open(host, session, None).await?;
    shell.close().await;
    let (platform, init) = (facts.platform, facts.boot.init);
    let (ip, port) = (svc.vip.0, svc.port);
    let peers = connect_backups(backups, opts).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (clients, sessions) = open_sessions(ip, port, stopped).await;
    let known = if backups.is_empty() || !sync {
        tokio::time::sleep(UNSYNCED_WAIT).await;
        None
    } else {
        let known = synced(&peers, SocketAddr::new(ip, port), &clients).await;
        if known.is_none() {
            tokio::time::sleep(UNSYNCED_WAIT).await;
        }
        known
    };
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
    let _ = stop.send(true);
    let mut broken = Vec::new();
    for s in sessions {
        match s.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => broken.push(e),
            Err(e) => broken.push(e.to_string()),
        }
    }
    let start = platform.service(init, "keepalived", Verb::Start);
    let failback_ms = restart(pipeline, host, session, svc, start, &peers).await;
    for s in peers.iter().flatten() {
        s.close().await;
    }
    Ok(Observed {
        samples,
        broken,
        known,
        failback_ms,
    })
}

/// Starts the stopped keepalived again (`start`) and returns how long until the move back was
/// over (after the master's preempt_delay): the VIP's master holds it and no backup does. verify
/// waits for that before anything else runs, its own requests included: a connection whose
/// handshake went through the backup and whose end through the master leaves the backup an
/// ESTABLISHED entry for the TCP timeout, and one in flight at the move is reset by the master.
/// Any other holder stays a backup (None). Then waits until new connections are answered.
async fn restart(
    pipeline: &Pipeline,
    host: &Host,
    session: &Session,
    svc: &Service,
    start: Script,
    backups: &[Option<Session>],
) -> Option<u64> {
    let _ = session.run(&start).await;
    let restarted = Instant::now();
    let failback_ms = if pipeline.inv.master_of(svc.vip) == Some(host.name.as_str()) {
        let delay = pipeline
            .inv
            .keepalived
            .as_ref()
            .map_or(0, |k| k.preempt_delay);
        let deadline = restarted + Duration::from_secs(u64::from(delay)) + FAILBACK_WAIT;
        let mut over = holds(session, svc.vip, true, deadline).await;
        for b in backups {
            over &= match b {
                Some(s) => holds(s, svc.vip, false, deadline).await,
                None => false,
            };
        }
        over.then(|| restarted.elapsed().as_millis() as u64)
    } else {
        None
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && get(svc.vip.0, svc.port, Duration::from_millis(500))
            .await
            .is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    failback_ms
}

/// Polls `session`'s host until it holds `vip` (`want` true) or no longer does (false), or
/// `deadline` passes; whether it got there (a host that does not answer never does).
async fn holds(session: &Session, vip: Vip, want: bool, deadline: Instant) -> bool {
    loop {
        let now = session
            .run(&addresses::listing())
            .await
            .ok()
            .map(|o| addresses::held(&o.stdout).contains(&vip.0));
        if now == Some(want) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `backups`: the other directors, whose IPVS tables must hold the sessions before the stop.
pub async fn run(
    pipeline: Arc<Pipeline>,
    holder: Host,
    backups: Vec<Host>,
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
    let opts = fleet_opts.clone();
    let results = fleet::each(vec![holder], &one, move |host, session, _| {
        let (pipeline, svc) = (pipeline.clone(), svc.clone());
        let (backups, opts) = (backups.clone(), opts.clone());
        async move { observe(&pipeline, &host, &session, &svc, &backups, &opts, sync).await }
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
            known_to_backups: observed.known,
        },
        sync,
        failback_ms: observed.failback_ms,
    };
    let mut checks = vec![outage];
    if sync {
        checks.push(survived(&name, &observed));
    }
    (checks, secs, Some(report))
}

/// With sync on, every session must survive the failover; the message says where to look.
fn survived(name: &str, observed: &Observed) -> Check {
    check(
        format!("failover from {name}: established connections survive"),
        observed.broken.is_empty(),
        format!("{SESSIONS} of {SESSIONS} keep-alive sessions intact (IPVS sync)"),
        match observed.broken.first() {
            None => format!("{SESSIONS} of {SESSIONS}"),
            Some(how) => format!(
                "{} of {SESSIONS} ({how}); {}",
                SESSIONS - observed.broken.len(),
                match observed.known {
                    Some(k) if k < SESSIONS => format!("the backup held only {k} of them after {} s: is the sync daemon running on both directors (`ipvsadm -L --daemon`), and is udp 8848 open between them?", SYNC_WAIT.as_secs()),
                    Some(k) => format!("the backup held all {k} before the stop"),
                    None => "the backup's table could not be read".into(),
                }
            ),
        },
    )
}
