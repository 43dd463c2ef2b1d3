//! The run: every selected host through connect → facts → plan → (apply), concurrently up to
//! `--forks`. A host that fails is reported and never stops the others.

use crate::apply::{self, Outcome};
use crate::facts;
use crate::inventory::{Host, Inventory};
use crate::plan::{self, Mode};
use crate::playbook::Playbooks;
use crate::report::{HostReport, Report, Status};
use crate::resources::Change;
use crate::ssh::{Session, SshError};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Up,
    Check,
    Down,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Up => "up",
            Command::Check => "check",
            Command::Down => "down",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub command: Command,
    pub forks: usize,
    pub accept_new_host_keys: bool,
    pub purge: bool,
    pub playbooks: Playbooks,
    pub verbose: bool,
    /// Write each host's raw facts here (`<name>.txt`): how plan tests get recorded facts.
    pub dump_facts: Option<std::path::PathBuf>,
    /// `drain` (true) / `undrain` (false) this real server: recorded on each director as the
    /// first change of its plan, and its weight planned as 0 (or back) from then on.
    pub drain: Option<(String, bool)>,
}

/// A line per host with its phase: bars on a TTY, plain lines on stderr otherwise.
#[derive(Clone)]
struct Progress {
    bar: Option<ProgressBar>,
    name: String,
    verbose: bool,
}

impl Progress {
    fn phase(&self, phase: &str) {
        match &self.bar {
            Some(b) => b.set_message(phase.to_string()),
            None if self.verbose => eprintln!("{}: {phase}", self.name),
            None => {}
        }
    }
    fn finish(&self, status: Status) {
        let word = format!("{status:?}").to_lowercase();
        match &self.bar {
            Some(b) => b.finish_with_message(word),
            None => eprintln!("{}: {word}", self.name),
        }
    }
}

pub async fn run(inv: Arc<Inventory>, hosts: Vec<Host>, opts: Options) -> Report {
    let started = Instant::now();
    let tty = console::Term::stderr().is_term();
    let multi = MultiProgress::with_draw_target(if tty {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let width = hosts.iter().map(|h| h.name.len()).max().unwrap_or(0);
    let style = ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}} {{msg}}"))
        .expect("a valid template");
    let forks = Arc::new(Semaphore::new(opts.forks.max(1)));
    let opts = Arc::new(opts);
    let mut tasks = Vec::new();
    for host in hosts {
        let progress = Progress {
            bar: tty.then(|| {
                let b = multi.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(host.name.clone()),
                );
                b.enable_steady_tick(Duration::from_millis(120));
                b.set_message("waiting");
                b
            }),
            name: host.name.clone(),
            verbose: opts.verbose,
        };
        let (inv, opts, forks) = (inv.clone(), opts.clone(), forks.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = forks
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let report = converge(&inv, &host, &opts, &progress).await;
            progress.finish(report.status);
            report
        }));
    }
    let mut reports = Vec::new();
    for t in tasks {
        reports.push(t.await.expect("a host task never panics"));
    }
    let _ = multi.clear();
    Report::new(opts.command.name(), reports, started.elapsed().as_millis())
}

async fn converge(inv: &Inventory, host: &Host, opts: &Options, progress: &Progress) -> HostReport {
    let mut report = HostReport {
        name: host.name.clone(),
        address: host.address.to_string(),
        role: host.role.name().to_string(),
        status: Status::Failed,
        changes: vec![],
        error: None,
    };
    progress.phase("connect");
    let session = match Session::connect(host.address, &host.ssh, opts.accept_new_host_keys).await {
        Ok(s) => s,
        Err(SshError::Unreachable(m)) => {
            report.status = Status::Unreachable;
            report.error = Some(m);
            return report;
        }
        Err(SshError::Failed(m)) => {
            report.error = Some(m);
            return report;
        }
    };
    let result = plan_and_apply(inv, host, opts, progress, &session, &mut report).await;
    session.close().await;
    match result {
        Ok(()) => {
            report.status = if report.changes.is_empty() {
                Status::Unchanged
            } else {
                Status::Changed
            }
        }
        Err(e) => {
            report.status = Status::Failed;
            report.error = Some(e);
        }
    }
    report
}

async fn plan_and_apply(
    inv: &Inventory,
    host: &Host,
    opts: &Options,
    progress: &Progress,
    session: &Session,
    report: &mut HostReport,
) -> Result<(), String> {
    progress.phase("facts");
    let mut facts = read_facts(inv, host, opts, session).await?;
    let drain_mark = opts
        .drain
        .as_ref()
        .and_then(|(name, on)| drain_change(&mut facts, name, *on));
    progress.phase("plan");
    let steps = opts.playbooks.render(inv, host, &facts)?;
    let mode = match opts.command {
        Command::Down => Mode::Down(crate::resources::DownOptions { purge: opts.purge }),
        _ => Mode::Up,
    };
    let mut changes = plan::plan(&steps, &facts, mode)?;
    changes.splice(0..0, drain_mark);
    mask_secrets(inv, &mut changes);
    report.changes = changes;
    if opts.command == Command::Check || report.changes.is_empty() {
        return Ok(());
    }
    progress.phase(&format!("apply ({} changes)", report.changes.len()));
    let out = session
        .run(&apply::script(&report.changes))
        .await
        .map_err(|e| e.to_string())?;
    match apply::outcome(&out.stdout, &out.stderr) {
        Outcome::Done => Ok(()),
        Outcome::Failed { step, output } => {
            let name = report
                .changes
                .get(step)
                .map(|c| c.resource.clone())
                .unwrap_or_default();
            // Only what ran is reported as changed; the failed step and the rest did not happen.
            report.changes.truncate(step);
            Err(format!(
                "step {} ({name}) failed: {output}; the steps before it were applied, none after",
                step + 1
            ))
        }
    }
}

/// The one facts exec.
pub async fn read_facts(
    inv: &Inventory,
    host: &Host,
    opts: &Options,
    session: &Session,
) -> Result<facts::Facts, String> {
    let probe = opts.playbooks.probe(inv, host)?;
    let script = facts::script(&probe);
    let out = session.run(&script).await.map_err(|e| e.to_string())?;
    if out.status != 0 && !out.stdout.contains("@@end") {
        return Err(format!(
            "reading facts failed (exit {}): {}",
            out.status,
            out.stderr.trim()
        ));
    }
    if let Some(dir) = &opts.dump_facts {
        let path = dir.join(format!("{}.txt", host.name));
        std::fs::write(&path, &out.stdout)
            .map_err(|e| format!("--dump-facts {}: {e}", path.display()))?;
    }
    facts::parse(&out.stdout)
}

/// The drain mark on a director, as a change; `facts` then reads as if it were already there,
/// so the plan renders the weight the mark asks for.
fn drain_change(facts: &mut facts::Facts, name: &str, on: bool) -> Option<Change> {
    use crate::resources::Action;
    let file = format!("{}/drained", facts::STATE_DIR);
    let mark = crate::shell::quote(name);
    let was = facts.drained.contains(name);
    if was == on {
        return None;
    }
    if on {
        facts.drained.insert(name.to_string());
        Some(Change::new(
            format!("drain {name}"),
            Action::Create,
            "serving → drained (weight 0: open connections finish, new ones go elsewhere)",
            format!("mkdir -p {}\necho {mark} >> {file}", facts::STATE_DIR),
        ))
    } else {
        facts.drained.remove(name);
        Some(Change::new(
            format!("drain {name}"),
            Action::Delete,
            "drained → serving (the inventory's weight)",
            format!("grep -vxF {mark} {file} > {file}.new || true\nmv -f {file}.new {file}"),
        ))
    }
}

/// keepalived's auth_pass is never printed, not even in a diff.
fn mask_secrets(inv: &Inventory, changes: &mut [Change]) {
    if let Some(k) = &inv.keepalived {
        for c in changes {
            c.diff = c.diff.replace(&k.auth_pass, "********");
        }
    }
}
