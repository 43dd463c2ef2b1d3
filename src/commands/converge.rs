//! `up`, `check` and `down`: the pipeline on every selected host; `check` stops after the plan.

use super::offline::{self, PlanArgs};
use super::{load, print, runtime, Common, Loaded};
use crate::error::HostError;
use crate::exit::Exit;
use crate::facts::lock::Lock;
use crate::facts::Facts;
use crate::fleet::{self, Progress};
use crate::inventory::Host;
use crate::pipeline::{self, Pipeline};
use crate::plan::Mode;
use crate::report::{Command, HostReport, Report};
use crate::resources::{Change, DownOptions};
use crate::ssh::{Session, Shell};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub plan: PlanArgs,
}

#[derive(clap::Args, Debug)]
pub struct DownArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Also remove the packages `up` installed
    #[arg(long)]
    pub purge: bool,
}

/// A change made before the plan on every host, which the plan then sees as done (a drain mark).
pub trait Mark: Send + Sync {
    fn change(&self, facts: &mut Facts) -> Vec<Change>;
}

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Directors first, then the real servers a batch at a time: each drained (its open
    /// connections finish), converged, its page checked on its own address, then serving again
    #[arg(long)]
    pub rolling: bool,
    /// Real servers changed at once in a rolling up (implies --rolling)
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Rolling up: seconds a drain may wait for open connections before the roll stops
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub drain_timeout: u64,
}

pub fn up(a: UpArgs) -> Exit {
    if (a.rolling || a.batch.is_some()) && a.plan.facts_from.is_none() {
        return super::rolling::run(a);
    }
    run(&a.common, &a.plan, Command::Up, Mode::Up)
}

pub fn check(a: CheckArgs) -> Exit {
    run(&a.common, &a.plan, Command::Check, Mode::Up)
}

pub fn down(a: DownArgs) -> Exit {
    let mode = Mode::Down(DownOptions { purge: a.purge });
    run(&a.common, &a.plan, Command::Down, mode)
}

/// Loads, converges the selected hosts, prints the report; with `--facts-from`, only plans.
fn run(c: &Common, p: &PlanArgs, command: Command, mode: Mode) -> Exit {
    if let Some(dir) = &p.facts_from {
        return offline::run(c, p, dir, command, mode);
    }
    let loaded = match super::inventory(c).and_then(|inv| load(c, inv, None)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let output = loaded.output;
    let (inv, fleet_opts) = (loaded.inv.clone(), loaded.fleet.clone());
    let mut report = runtime().block_on(converge(loaded, command, mode, None));
    report.diff_lines = c.diff_lines;
    report.warn();
    if command == Command::Up && !report.vrrp_transport_moved().is_empty() {
        report.elections = runtime().block_on(super::election::wait(&inv, &fleet_opts));
    }
    if p.show_scripts {
        offline::show_scripts(&mut report);
    }
    print(output, &report, || report.human());
    report.exit()
}

pub async fn converge(
    loaded: Loaded,
    command: Command,
    mode: Mode,
    mark: Option<Arc<dyn Mark>>,
) -> Report {
    let started = Instant::now();
    let pipeline = loaded.pipeline.clone();
    let lock = Arc::new(loaded.lock(command.name()));
    let results = fleet::each(
        loaded.hosts,
        &loaded.fleet,
        move |host, session, progress| {
            let (pipeline, mark, lock) = (pipeline.clone(), mark.clone(), lock.clone());
            async move {
                let (mut changes, mut notes) = (Vec::new(), Vec::new());
                let run = Run {
                    pipeline: &pipeline,
                    lock: &lock,
                    host: &host,
                    session: &session,
                    progress: &progress,
                };
                let result = run
                    .go(command, mode, mark.as_deref(), &mut changes, &mut notes)
                    .await;
                let mut report = HostReport::new(&host, changes, result.err());
                report.notes = notes;
                Ok(report)
            }
        },
    )
    .await;
    let hosts = results
        .into_iter()
        .map(|(host, r)| r.unwrap_or_else(|e| HostReport::new(&host, vec![], Some(e))))
        .collect();
    Report::new(command, hosts, started.elapsed().as_millis())
}

struct Run<'a> {
    pipeline: &'a Pipeline,
    lock: &'a Lock,
    host: &'a Host,
    session: &'a Session,
    progress: &'a Progress,
}

impl Run<'_> {
    /// `changes` ends as what was applied (or, for `check`, what would be).
    async fn go(
        &self,
        command: Command,
        mode: Mode,
        mark: Option<&dyn Mark>,
        changes: &mut Vec<Change>,
        notes: &mut Vec<String>,
    ) -> Result<(), HostError> {
        self.progress.phase("facts");
        let (mut facts, mut shell) = self
            .pipeline
            .open(self.host, self.session, Some(self.lock))
            .await?;
        if let Some(from) = facts.lock_taken_from.take() {
            let note = format!(
                "took the host's lock from an abandoned run (held past its lease; its session on the host was ended): {from}"
            );
            self.progress.note(&note);
            notes.push(note);
        }
        let marked = mark.map(|m| m.change(&mut facts)).unwrap_or_default();
        let result = self
            .plan_and_apply(&facts, &mut shell, command, mode, marked, changes)
            .await;
        // The lock goes with the shell, whatever happened in it.
        shell.close().await;
        result
    }

    async fn plan_and_apply(
        &self,
        facts: &Facts,
        shell: &mut Shell,
        command: Command,
        mode: Mode,
        marked: Vec<Change>,
        changes: &mut Vec<Change>,
    ) -> Result<(), HostError> {
        self.progress.phase("plan");
        *changes = self.pipeline.plan(self.host, facts, mode)?;
        changes.splice(0..0, marked);
        if command == Command::Check || changes.is_empty() {
            return Ok(());
        }
        self.progress
            .phase(&format!("apply ({} changes)", changes.len()));
        pipeline::apply(shell, changes, self.progress).await
    }
}
