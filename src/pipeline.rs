//! One host through the pipeline: facts (ONE exec) → steps (playbook × platform) → plan (pure)
//! → apply (ONE exec). Commands compose these; `check` stops after the plan, so it cannot drift
//! from `up`.

use crate::apply::{self, Outcome};
use crate::error::HostError;
use crate::facts::lock::{Lock, LockFact};
use crate::facts::{self, Facts, Probe};
use crate::inventory::{Host, Inventory};
use crate::plan::{self, Mode};
use crate::playbook::Playbooks;
use crate::resources::{Change, Step};
use crate::ssh::{Session, Shell, SshError};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub struct Pipeline {
    pub inv: Arc<Inventory>,
    pub playbooks: Playbooks,
    /// Each selected host's facts probe, rendered before any connection.
    probes: BTreeMap<String, Probe>,
    /// Write each host's raw facts here (`<name>.txt`): how plan tests get recorded facts.
    pub dump_facts: Option<PathBuf>,
}

impl Pipeline {
    /// Renders every host's playbook (for every platform) before anything is contacted: Err
    /// names the broken playbook or template, and the command exits 3.
    pub fn prepare(
        inv: Arc<Inventory>,
        hosts: &[Host],
        playbooks: Playbooks,
        dump_facts: Option<PathBuf>,
    ) -> Result<Pipeline, String> {
        let mut probes = BTreeMap::new();
        for h in hosts {
            probes.insert(h.name.clone(), playbooks.probe(&inv, h)?);
        }
        Ok(Pipeline {
            inv,
            playbooks,
            probes,
            dump_facts,
        })
    }

    /// Opens the host's shell, takes its lock (with `lock`), reads its facts. The shell is
    /// returned open: the lock lasts until it is closed, so apply runs in it.
    pub async fn open(
        &self,
        host: &Host,
        session: &Session,
        lock: Option<&Lock>,
    ) -> Result<(Facts, Shell), HostError> {
        let mut shell = session.shell().await?;
        match self.facts(host, &mut shell, lock).await {
            Ok(f) => Ok((f, shell)),
            Err(e) => {
                shell.close().await;
                Err(e)
            }
        }
    }

    async fn facts(
        &self,
        host: &Host,
        shell: &mut Shell,
        lock: Option<&Lock>,
    ) -> Result<Facts, HostError> {
        let probe = self.probes.get(&host.name).cloned().unwrap_or_default();
        let mut script = lock.map(facts::lock::fragment).unwrap_or_default();
        script.push(facts::script(&probe));
        shell.send(&script).await?;
        let out = shell
            .read(Some("@@end"))
            .await
            .map_err(|e| timed_out(e, |_| "reading facts".into()))?;
        let sections = facts::sections(&out.stdout);
        let mut taken_from = None;
        match facts::lock::parse(sections.get("lock").map(Vec::as_slice).unwrap_or_default()) {
            LockFact::Held(holder) => return Err(HostError::Locked(holder)),
            LockFact::TakenOver(holder) => taken_from = Some(holder),
            LockFact::Unavailable => return Err(HostError::Refused(
                "this host has no flock (util-linux), which lvsprov needs to hold its one-run-at-a-time lock; install util-linux".into(),
            )),
            LockFact::Acquired | LockFact::Missing => {}
        }
        if out.status != 0 && !out.stdout.contains("@@end") {
            return Err(HostError::Facts(format!(
                "reading facts failed (exit {}): {}",
                out.status,
                out.stderr.trim()
            )));
        }
        if let Some(dir) = &self.dump_facts {
            let path = dir.join(format!("{}.txt", host.name));
            std::fs::write(&path, facts::files::mask_secrets(&out.stdout))
                .map_err(|e| HostError::Facts(format!("--dump-facts {}: {e}", path.display())))?;
        }
        let mut facts = facts::parse(&out.stdout)?;
        facts.lock_taken_from = taken_from;
        Ok(facts)
    }

    pub fn steps(&self, host: &Host, facts: &Facts) -> Result<Vec<Step>, HostError> {
        Ok(self.playbooks.render(&self.inv, host, facts)?)
    }

    pub fn plan(&self, host: &Host, facts: &Facts, mode: Mode) -> Result<Vec<Change>, HostError> {
        Ok(plan::plan(&self.steps(host, facts)?, facts, mode)?)
    }
}

/// A timeout named by where it happened (from what the script printed until then).
fn timed_out(e: SshError, during: impl FnOnce(&str) -> String) -> HostError {
    match e {
        SshError::Timeout { secs, stdout } => HostError::TimedOut {
            secs,
            during: during(&stdout),
        },
        other => HostError::Ssh(other),
    }
}

/// Runs the changes as one script in the host's open shell (under its lock). On a failed step,
/// `changes` keeps only what was applied.
pub async fn apply(
    shell: &mut Shell,
    changes: &mut Vec<Change>,
    progress: &crate::fleet::Progress,
) -> Result<(), HostError> {
    shell.send(&apply::script(changes)).await?;
    let names: Vec<String> = changes.iter().map(|c| c.resource.clone()).collect();
    let mut on_line = |line: &str| {
        if let Some(k) = apply::last_step(line) {
            progress.step(k, names.len(), names.get(k).map_or("", |n| n.as_str()));
        }
    };
    let out = shell.read_watching(Some("@@done"), &mut on_line).await;
    let out = out.map_err(|e| {
        timed_out(e, |stdout| {
            let step = apply::last_step(stdout).unwrap_or(0);
            let name = changes
                .get(step)
                .map(|c| c.resource.clone())
                .unwrap_or_default();
            changes.truncate(step);
            format!(
                "step {} ({name}); the steps before it were applied, none after",
                step + 1
            )
        })
    })?;
    match apply::outcome(&out.stdout, &out.stderr) {
        Outcome::Done => Ok(()),
        Outcome::Failed { step, output } => {
            let resource = changes
                .get(step)
                .map(|c| c.resource.clone())
                .unwrap_or_default();
            changes.truncate(step);
            Err(HostError::Step {
                number: step + 1,
                resource,
                output,
            })
        }
    }
}

/// A command ready to contact hosts: everything checked, every playbook rendered.
#[derive(Clone)]
pub struct Loaded {
    pub inv: Arc<Inventory>,
    pub hosts: Vec<Host>,
    pub pipeline: Arc<Pipeline>,
    pub fleet: crate::fleet::FleetOptions,
    pub output: crate::report::Output,
    pub wait_lock: u64,
}

impl Loaded {
    /// The host lock this run takes, saying who holds it: run id, user@controller, command.
    pub fn lock(&self, command: &str) -> crate::facts::lock::Lock {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "root".into());
        let controller = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "controller".into());
        let since = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        crate::facts::lock::Lock {
            holder: format!(
                "run {secs}-{} by {user}@{controller} ({command}) since {since}",
                std::process::id()
            ),
            wait_secs: self.wait_lock,
            // Past this, this run's own limits would have ended it: it was abandoned.
            lease_secs: self.fleet.limits.connect.as_secs()
                + 2 * self.fleet.limits.exec.as_secs()
                + 15,
        }
    }
}
