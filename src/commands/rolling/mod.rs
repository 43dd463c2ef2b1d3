//! `up --rolling`: the directors first, then the real servers a batch at a time — drained (their
//! open connections finish), converged, their page checked on their own address, given their
//! weight back and seen back in every director's table before the next batch starts. A change
//! that restarts a web server then never meets a client. The first failure stops the roll: the
//! real servers not yet touched keep serving, and a host that failed stays drained.

mod wait;
use wait::{back, page};

use super::converge::{self, UpArgs};
use super::drain::Drain;
use super::{drain_wait, election, load, print, runtime, Loaded};
use crate::exit::Exit;

use crate::inventory::{Host, Role};
use crate::plan::Mode;
use crate::report::election::Elected;
use crate::report::roll::{Batch, Roll};
use crate::report::{Command, HostReport, Report, Status};

use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(a: UpArgs) -> Exit {
    let c = &a.common;
    let batch = a.batch.unwrap_or(1);
    if batch == 0 {
        eprintln!("lvsprov: --batch must be at least 1");
        return Exit::Usage;
    }
    let inv = match super::inventory(c) {
        Ok(i) => i,
        Err(code) => return code,
    };
    // A drain is an `up` on the directors: they are always part of a roll.
    let mut names: Vec<String> = match inv.select(c.limit.as_deref()) {
        Ok(hosts) => hosts.iter().map(|h| h.name.clone()).collect(),
        Err(e) => {
            eprintln!("lvsprov: {e}");
            return Exit::Usage;
        }
    };
    for d in inv.directors() {
        if !names.contains(&d.name) {
            names.push(d.name.clone());
        }
    }
    let loaded = match load(c, inv, Some(&names.join(","))) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let output = loaded.output;
    let limit = Duration::from_secs(a.drain_timeout);
    let mut report = runtime().block_on(roll(loaded, batch, limit));
    report.diff_lines = c.diff_lines;
    if a.plan.show_scripts {
        super::offline::show_scripts(&mut report);
    }
    print(output, &report, || report.human());
    report.exit()
}

fn only(loaded: &Loaded, keep: impl Fn(&Host) -> bool) -> Loaded {
    let mut l = loaded.clone();
    l.hosts.retain(keep);
    l
}

fn failed(r: &Report) -> Vec<String> {
    r.hosts
        .iter()
        .filter(|h| matches!(h.status, Status::Failed | Status::Unreachable))
        .map(|h| h.name.clone())
        .collect()
}

pub async fn roll(loaded: Loaded, size: usize, drain_limit: Duration) -> Report {
    let started = Instant::now();
    let directors = only(&loaded, |h| h.role() == Role::Director);
    let reals = only(&loaded, |h| h.role() == Role::RealServer);
    let mut roll = Roll {
        batch_size: size,
        batches: vec![],
        stopped: None,
    };
    let mut hosts: Vec<HostReport> = Vec::new();
    let finish = |hosts: Vec<HostReport>, roll: Roll, elections: Vec<Elected>| {
        let mut r = Report::new(Command::Up, hosts, started.elapsed().as_millis());
        r.rolling = Some(roll);
        r.elections = elections;
        r.warn();
        r
    };

    let up = converge::converge(directors.clone(), Command::Up, Mode::Up, None).await;
    let bad = failed(&up);
    let moved = !up.vrrp_transport_moved().is_empty();
    hosts.extend(up.hosts);
    if !bad.is_empty() {
        roll.stopped = Some(format!(
            "director {} failed; no real server was touched",
            bad.join(", ")
        ));
        return finish(hosts, roll, vec![]);
    }
    // The directors' reload started keepalived's election again: no real server is drained
    // while the VIP is on its way.
    let elections = match moved {
        true => election::wait(&loaded.inv, &loaded.fleet).await,
        false => vec![],
    };

    let RealPlan {
        todo,
        mut pending,
        unchanged,
        bad,
    } = plan_reals(reals).await;
    hosts.extend(unchanged);
    if !bad.is_empty() {
        roll.stopped = Some(format!(
            "real server {} could not be read; no real server was touched",
            bad.join(", ")
        ));
        hosts.extend(pending);
        return finish(hosts, roll, elections);
    }

    let chunks: Vec<Vec<String>> = todo.chunks(size).map(<[String]>::to_vec).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let (batch, step) = one_batch(&loaded, &directors, chunk, drain_limit).await;
        roll.batches.push(batch);
        pending.retain(|p| !chunk.contains(&p.name));
        hosts.extend(step.reports);
        if let Some(why) = step.stopped {
            let rest: Vec<String> = chunks[i + 1..].concat();
            let untouched = if rest.is_empty() {
                String::new()
            } else {
                format!("; not changed, still serving: {}", rest.join(", "))
            };
            roll.stopped = Some(format!("{why}{untouched}"));
            // What was never rolled is reported as its plan, not as done.
            hosts.extend(pending.into_iter().map(|mut p| {
                p.changes.clear();
                p.status = Status::Unchanged;
                p
            }));
            return finish(hosts, roll, elections);
        }
    }
    finish(hosts, roll, elections)
}

/// The real servers' plan: only those with something to change are drained.
struct RealPlan {
    /// Their names, in inventory order: the batches.
    todo: Vec<String>,
    /// Their plans, reported as such for any batch a failure stops before it.
    pending: Vec<HostReport>,
    unchanged: Vec<HostReport>,
    /// Real servers that could not be read: nothing is rolled.
    bad: Vec<String>,
}

async fn plan_reals(reals: Loaded) -> RealPlan {
    let plan = converge::converge(reals, Command::Check, Mode::Up, None).await;
    let bad = failed(&plan);
    let (pending, unchanged): (Vec<HostReport>, Vec<HostReport>) = plan
        .hosts
        .into_iter()
        .partition(|h| h.status == Status::Changed);
    RealPlan {
        todo: pending.iter().map(|h| h.name.clone()).collect(),
        pending,
        unchanged,
        bad,
    }
}

struct Step {
    reports: Vec<HostReport>,
    stopped: Option<String>,
}

async fn set_drain(directors: &Loaded, names: &[String], on: bool) -> (Arc<Drain>, Vec<String>) {
    let mark = Arc::new(Drain::new(names.to_vec(), on));
    let command = if on { Command::Drain } else { Command::Undrain };
    let r = converge::converge(directors.clone(), command, Mode::Up, Some(mark.clone())).await;
    let errors = r
        .hosts
        .iter()
        .filter_map(|h| Some(format!("{}: {}", h.name, h.error.as_ref()?)))
        .collect();
    (mark, errors)
}

/// Stops the roll before anything changed on the batch: the weight back where the roll took it.
async fn abandon(directors: &Loaded, to_serve: &[String], why: String) -> Step {
    set_drain(directors, to_serve, false).await;
    Step {
        reports: vec![],
        stopped: Some(why),
    }
}

/// Drain → converge → page → undrain → back in the tables, for one batch of real servers.
async fn one_batch(
    loaded: &Loaded,
    directors: &Loaded,
    names: &[String],
    drain_limit: Duration,
) -> (Batch, Step) {
    let mut batch = Batch {
        hosts: names.to_vec(),
        ..Batch::default()
    };
    let t = Instant::now();
    let to_serve = match drain_batch(loaded, directors, names, drain_limit, &mut batch).await {
        Ok(to_serve) => to_serve,
        Err(why) => return (batch, why),
    };
    batch.drained_ms = t.elapsed().as_millis();
    let (reports, bad) = converge_batch(loaded, names).await;
    let good: Vec<String> = to_serve
        .iter()
        .filter(|n| !bad.iter().any(|(b, _)| b == *n))
        .cloned()
        .collect();
    batch.converged = bad.is_empty();
    let t = Instant::now();
    let stopped = match give_back(loaded, directors, &good).await {
        Err(why) => Some(why),
        Ok(()) => {
            batch.back_ms = Some(t.elapsed().as_millis());
            (!bad.is_empty()).then(|| {
                let failed: Vec<String> =
                    bad.iter().map(|(n, why)| format!("{n} ({why})")).collect();
                format!(
                    "{} failed and stays drained; fix it, run `up` on it, then `lvsprov undrain`",
                    failed.join(", ")
                )
            })
        }
    };
    (batch, Step { reports, stopped })
}

/// Drains the batch and waits until no director gives it new connections and no session is
/// left open on it. Ok: the ones to give their weight back afterwards (not those drained before
/// the roll). Err: the roll stops, their weight given back.
async fn drain_batch(
    loaded: &Loaded,
    directors: &Loaded,
    names: &[String],
    drain_limit: Duration,
    batch: &mut Batch,
) -> Result<Vec<String>, Step> {
    let (mark, errors) = set_drain(directors, names, true).await;
    let before = mark.already_drained();
    let (left, to_serve): (Vec<String>, Vec<String>) =
        names.iter().cloned().partition(|n| before.contains(n));
    batch.left_drained = left;
    if !errors.is_empty() {
        let why = format!(
            "draining {} failed ({}); its weight was given back",
            names.join(", "),
            errors.join("; ")
        );
        return Err(abandon(directors, &to_serve, why).await);
    }
    // One after the other: while the first is waited for, the others drain too.
    let mut busy = Vec::new();
    for n in names {
        let host = loaded.inv.host(n).expect("a selected host");
        let dirs = directors.hosts.clone();
        let w = drain_wait::wait(&loaded.inv, host, dirs, &directors.fleet, drain_limit).await;
        if !w.drained {
            let mut why = vec![format!("{} sessions open", w.active_left)];
            why.extend(w.errors.iter().cloned());
            busy.push(format!("{} ({})", w.host, why.join("; ")));
        }
    }
    if !busy.is_empty() {
        let why = format!(
            "not drained within --drain-timeout: {}; nothing was changed on them and they serve again",
            busy.join(", ")
        );
        return Err(abandon(directors, &to_serve, why).await);
    }
    Ok(to_serve)
}

/// `up` on the batch, then each converged one's page on its own address. The reports, and the
/// hosts that failed with why (their own report says more for a failed apply).
async fn converge_batch(
    loaded: &Loaded,
    names: &[String],
) -> (Vec<HostReport>, Vec<(String, String)>) {
    let these = only(loaded, |h| names.contains(&h.name));
    let up = converge::converge(these, Command::Up, Mode::Up, None).await;
    let mut bad: Vec<(String, String)> = failed(&up)
        .into_iter()
        .map(|n| (n, "its up failed".to_string()))
        .collect();
    for h in &up.hosts {
        if bad.iter().any(|(n, _)| *n == h.name) {
            continue;
        }
        let host = loaded.inv.host(&h.name).expect("a selected host");
        if let Err(e) = page(loaded, host).await {
            bad.push((h.name.clone(), format!("its page: {e}")));
        }
    }
    (up.hosts, bad)
}

/// Undrains `good` and waits until every director lists them with their weight again.
async fn give_back(loaded: &Loaded, directors: &Loaded, good: &[String]) -> Result<(), String> {
    let (_, errors) = set_drain(directors, good, false).await;
    if !errors.is_empty() {
        return Err(format!(
            "giving {} its weight back failed ({}); run `lvsprov undrain` for it",
            good.join(", "),
            errors.join("; ")
        ));
    }
    back(loaded, directors, good).await
}
