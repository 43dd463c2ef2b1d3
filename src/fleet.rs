//! The one fan-out every command uses: for each selected host, connect → work → close, at most
//! `--forks` hosts at once, a progress line per host. A host that fails is reported in its own
//! result and never stops or delays the others.

use crate::error::HostError;
use crate::inventory::{Host, SshTarget};
use crate::ssh::{Credentials, Limits, Session};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Hosts at once, by default. A host's SSH handshake is the costly part of its run, on both ends;
/// a thousand at once on a 2-core controller all finished late together, and 44 to 91 of them
/// passed their 10 s connect timeout. Hosts wait their turn instead, and each one's connect
/// timeout starts with it. Raise it (`--forks`) for a large fleet far away, where a host's run is
/// mostly waiting on round trips.
pub const FORKS: usize = 100;

#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub forks: usize,
    pub limits: Limits,
    pub creds: Credentials,
    pub verbose: bool,
    /// Progress bars on a terminal; off where the command draws the screen itself
    /// (`status --watch`).
    pub bars: bool,
}

/// A line per host with its phase: bars on a TTY, plain lines on stderr otherwise.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    name: String,
    verbose: bool,
    /// When the current phase began (`-v` says how long each took).
    since: Arc<std::sync::Mutex<(String, std::time::Instant)>>,
}

impl Progress {
    pub fn phase(&self, phase: &str) {
        let (was, took) = {
            let mut s = self.since.lock().unwrap();
            let took = s.1.elapsed();
            let was = std::mem::replace(&mut s.0, phase.to_string());
            s.1 = std::time::Instant::now();
            (was, took)
        };
        if self.verbose && !was.is_empty() {
            self.note(&format!("{was} took {} ms", took.as_millis()));
        }
        match &self.bar {
            Some(b) => b.set_message(phase.to_string()),
            None if self.verbose && !phase.is_empty() => eprintln!("{}: {phase}", self.name),
            None => {}
        }
    }

    /// Apply has reached step `k` (from 0) of `n`, `name`: the bar says which, as the host runs
    /// it; `-v` off a terminal prints it as a line.
    pub fn step(&self, k: usize, n: usize, name: &str) {
        let line = format!("apply {}/{n}: {name}", k + 1);
        match &self.bar {
            Some(b) => b.set_message(line),
            None if self.verbose => eprintln!("{}: {line}", self.name),
            None => {}
        }
    }

    /// A line of its own under `-v` (above the bars on a terminal).
    pub fn note(&self, line: &str) {
        if !self.verbose {
            return;
        }
        match &self.bar {
            Some(b) => b.println(format!("{}: {line}", self.name)),
            None => eprintln!("{}: {line}", self.name),
        }
    }

    fn finish(&self, word: &str, done: &Option<ProgressBar>) {
        self.phase("");
        // Counted first, so the redraw the host's last word causes shows the count with it.
        if let Some(d) = done {
            d.inc(1);
        }
        match &self.bar {
            Some(b) => b.finish_with_message(word.to_string()),
            None => eprintln!("{}: {word}", self.name),
        }
    }
}

/// What a host's work ends as, in one word for its progress line.
pub trait Finish {
    fn word(&self) -> String;
}

/// The progress display of one fleet run: a line per host above an overall bar, on a terminal
/// only (hidden otherwise, where `-v` prints lines instead).
struct Bars {
    multi: MultiProgress,
    style: ProgressStyle,
    done: Option<ProgressBar>,
    tty: bool,
}

impl Bars {
    fn new(names: &[&str], opts: &FleetOptions) -> Bars {
        let tty = opts.bars && console::Term::stderr().is_term();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
        // Each host's time runs from when it starts (after waiting for a fork), as its bar shows.
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} {{prefix:<{width}}} {{elapsed:>4}} {{msg}}"
        ))
        .expect("a valid template");
        let done = tty.then(|| {
            multi.add(
                ProgressBar::new(names.len() as u64).with_style(
                    ProgressStyle::with_template(
                        "  {bar:30} {pos}/{len} hosts done, {elapsed} (--forks {msg})",
                    )
                    .expect("a valid template"),
                ),
            )
        });
        if let Some(d) = &done {
            d.set_message(opts.forks.to_string());
            d.enable_steady_tick(Duration::from_millis(500));
        }
        Bars {
            multi,
            style,
            done,
            tty,
        }
    }

    fn progress(&self, name: &str, verbose: bool) -> Progress {
        Progress {
            bar: self.tty.then(|| {
                let bar = ProgressBar::new_spinner()
                    .with_style(self.style.clone())
                    .with_prefix(name.to_string());
                // Every host above the overall bar, in the inventory's order.
                let b = match &self.done {
                    Some(d) => self.multi.insert_before(d, bar),
                    None => self.multi.add(bar),
                };
                b.enable_steady_tick(Duration::from_millis(120));
                b.set_message("waiting");
                b
            }),
            name: name.to_string(),
            verbose,
            since: Arc::new(std::sync::Mutex::new((
                String::new(),
                std::time::Instant::now(),
            ))),
        }
    }

    /// The last frame (every host counted) is drawn before the report replaces the bars.
    fn clear(self) {
        if let Some(d) = &self.done {
            d.finish();
        }
        let _ = self.multi.clear();
    }
}

/// What the fan-out logs in to: the cluster's hosts, and the routers whose routes `verify` reads.
pub trait Machine: Clone + Send + Sync + 'static {
    fn name(&self) -> &str;
    fn ssh(&self) -> &SshTarget;
}

impl Machine for Host {
    fn name(&self) -> &str {
        &self.name
    }
    fn ssh(&self) -> &SshTarget {
        &self.ssh
    }
}

/// Runs `work` on every host, in order of `hosts` in the result.
pub async fn each<H, T, F, Fut>(
    hosts: Vec<H>,
    opts: &FleetOptions,
    work: F,
) -> Vec<(H, Result<T, HostError>)>
where
    H: Machine,
    T: Finish + Send + 'static,
    F: Fn(H, Arc<Session>, Progress) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, HostError>> + Send + 'static,
{
    let names: Vec<&str> = hosts.iter().map(|h| h.name()).collect();
    let bars = Bars::new(&names, opts);
    let forks = Arc::new(Semaphore::new(opts.forks.max(1)));
    let work = Arc::new(work);
    let mut tasks = Vec::new();
    for host in hosts {
        let progress = bars.progress(host.name(), opts.verbose);
        let (forks, work, creds, limits, done) = (
            forks.clone(),
            work.clone(),
            opts.creds.clone(),
            opts.limits,
            bars.done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _slot = forks
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            if let Some(b) = &progress.bar {
                b.reset_elapsed();
            }
            progress.phase("connect");
            let result = match Session::connect(host.ssh(), &creds, limits).await {
                Err(e) => Err(HostError::Ssh(e)),
                Ok(session) => {
                    progress.note(&format!("connected: {}", session.about));
                    let session = Arc::new(session);
                    let r = work(host.clone(), session.clone(), progress.clone()).await;
                    session.close().await;
                    r
                }
            };
            let word = match &result {
                Ok(t) => t.word(),
                Err(e) if e.is_unreachable() => "unreachable".into(),
                Err(_) => "failed".into(),
            };
            progress.finish(&word, &done);
            (host, result)
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("a host task never panics"));
    }
    bars.clear();
    out
}
