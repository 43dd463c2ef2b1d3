//! Plans an operator can audit before a maintenance window: `--facts-from DIR` plans `check`, `up`
//! or `down` from recorded facts (`DIR/<host>.txt`, as `--dump-facts` writes them) without
//! contacting any host, and `--show-scripts` prints under each change the exact shell it runs.
//! Both take the same pipeline stages as a live run (the same playbooks, the same plan), so what
//! they show is what `up` would do on hosts that answer those facts.

use super::{print, Common, Output};
use crate::exit::Exit;
use crate::facts;
use crate::pipeline::Pipeline;
use crate::plan::Mode;
use crate::playbook::Playbooks;
use crate::report::{Command, HostReport, Report};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct PlanArgs {
    /// Plan from recorded facts (DIR/<host>.txt, as --dump-facts writes them) instead of
    /// connecting: no host is contacted, nothing is changed
    #[arg(long, value_name = "DIR")]
    pub facts_from: Option<PathBuf>,
    /// Show under each change the exact shell it runs (secrets masked; JSON: `script`)
    #[arg(long)]
    pub show_scripts: bool,
}

/// The shell of every change in `report`, its secrets masked by the one rule.
pub fn show_scripts(report: &mut Report) {
    for c in report.hosts.iter_mut().flat_map(|h| h.changes.iter_mut()) {
        c.shown_script = Some(crate::secret::mask(c.script.as_str()).into_owned());
    }
}

/// `check`, `up` or `down` planned from `DIR/<host>.txt`: the plan's report (exit 2 when there
/// are changes, 0 when none), or exit 3 naming a facts file that is missing or not facts.
pub fn run(c: &Common, p: &PlanArgs, dir: &std::path::Path, command: Command, mode: Mode) -> Exit {
    let usage = |m: String| super::usage(m);
    let started = Instant::now();
    let inv = match super::inventory(c) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let hosts = match inv.select(c.limit.as_deref()) {
        Ok(h) => h.into_iter().cloned().collect::<Vec<_>>(),
        Err(e) => return usage(e),
    };
    let inv = Arc::new(inv);
    let books = Playbooks::new(c.playbooks.clone());
    let pipeline = match Pipeline::prepare(inv.clone(), &hosts, books, None) {
        Ok(p) => p,
        Err(e) => return usage(format!("{e}\nfix the playbook and run again")),
    };
    let mut reports = Vec::new();
    for host in &hosts {
        let path = dir.join(format!("{}.txt", host.name));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return usage(format!(
                "--facts-from: {}: {e}; record it with `lvsprov check --limit {} --dump-facts {}`, or leave the host out with --limit",
                path.display(),
                host.name,
                dir.display()
            )),
        };
        let facts = match facts::parse(&text) {
            Ok(f) => f,
            Err(e) => {
                return usage(format!(
                    "--facts-from: {} is not lvsprov facts: {e}",
                    path.display()
                ))
            }
        };
        let (changes, err) = match pipeline.plan(host, &facts, mode) {
            Ok(ch) => (ch, None),
            Err(e) => (vec![], Some(e)),
        };
        reports.push(HostReport::new(host, changes, err));
    }
    // The command the operator ran, planned only: `up --facts-from` says "up", not "check".
    let mut report = Report::new(command, reports, started.elapsed().as_millis());
    report.dry_run = true;
    report.diff_lines = c.diff_lines;
    report.warn();
    if p.show_scripts {
        show_scripts(&mut report);
    }
    print(c.output, &report, || report.human());
    if c.output == Output::Human {
        eprintln!(
            "lvsprov: planned from the facts in {}; no host was contacted",
            dir.display()
        );
    }
    report.exit()
}
