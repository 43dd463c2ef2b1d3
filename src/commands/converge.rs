//! `up`, `check` and `down`: the pipeline on every selected host; `check` stops after the plan.

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
pub struct DownArgs {
    #[command(flatten)]
    pub common: Common,
    /// Also remove the packages `up` installed
    #[arg(long)]
    pub purge: bool,
}

/// A change made before the plan on every host, which the plan then sees as done (a drain mark).
pub trait Mark: Send + Sync {
    fn change(&self, facts: &mut Facts) -> Option<Change>;
}

pub fn up(c: Common) -> Exit {
    run(&c, Command::Up, Mode::Up)
}

pub fn check(c: Common) -> Exit {
    run(&c, Command::Check, Mode::Up)
}

pub fn down(a: DownArgs) -> Exit {
    let mode = Mode::Down(DownOptions { purge: a.purge });
    run(&a.common, Command::Down, mode)
}

/// Loads, converges the selected hosts, prints the report.
fn run(c: &Common, command: Command, mode: Mode) -> Exit {
    let loaded = match super::inventory(c).and_then(|inv| load(c, inv, None)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let output = loaded.output;
    let mut report = runtime().block_on(converge(loaded, command, mode, None));
    report.diff_lines = c.diff_lines;
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
                let mut changes = Vec::new();
                let run = Run {
                    pipeline: &pipeline,
                    lock: &lock,
                    host: &host,
                    session: &session,
                    progress: &progress,
                };
                let result = run.go(command, mode, mark.as_deref(), &mut changes).await;
                Ok(HostReport::new(&host, changes, result.err()))
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
    ) -> Result<(), HostError> {
        self.progress.phase("facts");
        let (mut facts, mut shell) = self
            .pipeline
            .open(self.host, self.session, Some(self.lock))
            .await?;
        let marked = mark.and_then(|m| m.change(&mut facts));
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
        marked: Option<Change>,
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
        pipeline::apply(shell, changes).await
    }
}
