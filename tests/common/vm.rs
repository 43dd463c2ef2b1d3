//! The real-kernel lab (Debian's kernel under qemu, with IPVS) for the stories in `tests/vm.rs`.
//!
//! The VM boots once per test run (`docker/vm/run tests/vm/serve.sh`) and is then driven through
//! its second serial port: each call runs a bash script in the lab's client, the operator's
//! machine, with `tests/vm/lib.sh`'s helpers, and returns what it printed. Stories take the VM one
//! at a time and each sets up what it starts from (`Vm::start`), so any one runs alone:
//! `cargo test --test vm -- STORY`.
//!
//! Skipped only when qemu-system-x86_64 is absent (said on stderr); `.ci/run` installs it and sets
//! LVSPROV_REQUIRE_LAB, which turns the skip into a failure.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// keepalived's auth_pass in `inventories/lab.json`.
pub const AUTH_PASS: &str = "lvs-lab1";

/// What a story starts from.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Start {
    /// Every host as the lab built it: nothing of lvsprov, no cluster.
    Clean,
    /// `lvsprov up inventories/lab.json` done and the VIP answering.
    Converged,
    /// As `lvsprov down inventories/lab.json` leaves every host: nothing of lvsprov and no cluster,
    /// so as built but for what the lab's hosts have from the start anyway (the packages). Hosts
    /// as built qualify too.
    Down,
}

pub struct Vm {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next: u64,
    /// A story began and did not end: the hosts may be in any state.
    dirty: bool,
    /// The state the hosts are known to be in, if any.
    state: Option<Start>,
    console: PathBuf,
    _qemu: Child,
    /// When the story began (`start`), for the time it took.
    began: Instant,
    /// Each host's own nftables ruleset (a hash) as the lab built it.
    pub rulesets_at_boot: String,
}

/// What a script printed, and its exit code.
pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

impl Run {
    /// The JSON document on stdout (lvsprov's `--output json`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.out).unwrap_or_else(|e| {
            panic!(
                "no JSON on stdout ({e}): {}\nstderr: {}",
                self.out, self.err
            )
        })
    }

    /// The number after `NAME=` in what it printed.
    pub fn field(&self, name: &str) -> f64 {
        self.out
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {}\nstderr: {}", self.out, self.err))
            .parse()
            .unwrap()
    }

    /// The exit code was 0, or the test fails showing both streams.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "exit {}\nstdout: {}\nstderr: {}",
            self.code, self.out, self.err
        );
        self
    }
}

static VM: OnceLock<Option<Mutex<Vm>>> = OnceLock::new();

/// The VM, booted on first use, for this story alone; None when qemu is not installed.
pub fn vm() -> Option<MutexGuard<'static, Vm>> {
    VM.get_or_init(|| boot().map(Mutex::new))
        .as_ref()
        .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
}

fn boot() -> Option<Vm> {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("LVSPROV_REQUIRE_LAB").is_none(),
            "LVSPROV_REQUIRE_LAB is set and qemu is missing"
        );
        eprintln!("SKIPPED: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        return None;
    }
    let repo = super::repo();
    let dir = std::env::temp_dir().join(format!("lvsprov-vmtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("control.sock");
    let console = dir.join("console.log");
    let t0 = Instant::now();
    let qemu = Command::new(repo.join("docker/vm/run"))
        .arg(repo.join("tests/vm/serve.sh"))
        .env("LVSPROV_BIN", lvsprov_bin())
        .env("LVSPROV_TEST_BIN", env!("CARGO_BIN_EXE_lvsprov"))
        .env("VM_CONTROL", &sock)
        .env("VM_OWNER", std::process::id().to_string())
        .env("VM_TIMEOUT", "5400")
        .stdout(std::fs::File::create(&console).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let stream = loop {
        if let Ok(s) = UnixStream::connect(&sock) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the VM's control socket never came up"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(900)))
        .unwrap();
    let mut vm = Vm {
        reader: BufReader::new(stream.try_clone().unwrap()),
        writer: stream,
        next: 0,
        dirty: false,
        state: Some(Start::Clean),
        console,
        _qemu: qemu,
        began: Instant::now(),
        rulesets_at_boot: String::new(),
    };
    vm.wait_line(|l| l.trim() == "@@ready");
    eprintln!(
        "vm: the lab answers after {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    let lib = include_str!("../vm/lib.sh");
    vm.raw(&format!("cat >/tmp/lib.sh <<'LIB'\n{lib}\nLIB\n"))
        .ok();
    vm.rulesets_at_boot = vm.sh("rulesets").ok().out;
    Some(vm)
}

/// The lvsprov the lab's client runs: this test build's, or the one LVSPROV_BIN names. `.ci/run`
/// names its release build: under software emulation the test build's unoptimised SSH crypto
/// (curve25519, ed25519) costs about 3 s of the VM's CPU per command against under 1 s, and the
/// release build is the one users install. The test build is there too, as `lvsprov-test`: only it
/// has the fault injection of the crash stories.
fn lvsprov_bin() -> PathBuf {
    match std::env::var_os("LVSPROV_BIN") {
        Some(bin) => {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "LVSPROV_BIN names {}, which is not a file",
                bin.display()
            );
            bin
        }
        None => PathBuf::from(env!("CARGO_BIN_EXE_lvsprov")),
    }
}

impl Vm {
    /// SCRIPT (bash) in the lab's client, after `tests/vm/lib.sh`.
    pub fn sh(&mut self, script: &str) -> Run {
        self.raw(&format!(". /tmp/lib.sh\n{script}"))
    }

    /// `lvsprov ARGS --output json` in the lab's client (with lib.sh's 60 s connect timeout).
    /// Whatever it prints, keepalived's auth_pass is never in it.
    pub fn lvsprov(&mut self, args: &str) -> Run {
        let run = self.sh(&format!("lvsprov {args} --output json"));
        assert!(
            !run.out.contains(AUTH_PASS) && !run.err.contains(AUTH_PASS),
            "lvsprov {args} printed keepalived's auth_pass:\n{}\n{}",
            run.out,
            run.err
        );
        run
    }

    fn raw(&mut self, script: &str) -> Run {
        let t0 = Instant::now();
        self.next += 1;
        let id = self.next;
        writeln!(self.writer, "{id} {}", B64.encode(script)).unwrap();
        let prefix = format!("@@res {id} ");
        let line = self.wait_line(|l| l.starts_with(&prefix));
        let mut f = line[prefix.len()..].split_whitespace();
        let code = f.next().unwrap().parse().unwrap();
        let mut text = || {
            let b = f.next().unwrap_or("-");
            if b == "-" {
                String::new()
            } else {
                String::from_utf8_lossy(&B64.decode(b).unwrap()).into_owned()
            }
        };
        let (out, err) = (text(), text());
        // Each request and its time, shown with a failed story's output (and with --nocapture).
        let what: String = script
            .lines()
            .last()
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect();
        let secs = t0.elapsed().as_secs_f64();
        eprintln!("vm: {secs:5.1} s, exit {code}: {what}");
        append(
            "LVSPROV_REQUEST_TIMES",
            &format!("{secs:6.1} s  {}: {what}", story()),
        );
        Run { code, out, err }
    }

    fn wait_line(&mut self, want: impl Fn(&str) -> bool) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => panic!(
                    "the VM stopped answering; its console:\n{}",
                    self.console_tail()
                ),
                Ok(_) if want(&line) => return line.trim_end().to_string(),
                Ok(_) => {}
            }
        }
    }

    fn console_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.console).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// Sets up what the story starts from, from the state the last story left, with the least
    /// work: hosts reset to as built, `down`, or `up`. A story that began and did not end (it
    /// failed) leaves hosts in any state, so the next one resets every host first.
    pub fn start(&mut self, from: Start) {
        self.began = Instant::now();
        if self.dirty {
            // A failed ECMP story may have left the client routing the VIP through the router.
            self.sh("direct; lab reset all").ok();
            self.state = Some(Start::Clean);
        }
        let ready = matches!(
            (from, self.state),
            (Start::Clean, Some(Start::Clean))
                | (Start::Down, Some(Start::Clean | Start::Down))
                | (Start::Converged, Some(Start::Converged))
        );
        if !ready {
            match from {
                Start::Down if self.state == Some(Start::Converged) => {
                    self.lvsprov("down $inv").ok();
                }
                Start::Clean | Start::Down => {
                    self.sh("lab reset all").ok();
                }
                Start::Converged => {
                    self.lvsprov("up $inv").ok();
                    self.sh("wait_vip").ok();
                }
            }
        }
        self.dirty = true;
        self.state = None;
    }

    /// The story ended with the cluster as `up inventories/lab.json` leaves it, the VIP answering.
    pub fn end(&mut self) {
        self.ended();
        self.state = Some(Start::Converged);
    }

    /// The story ended with every host as `down inventories/lab.json` leaves it.
    pub fn end_down(&mut self) {
        self.ended();
        self.state = Some(Start::Down);
    }

    fn ended(&mut self) {
        let secs = self.began.elapsed().as_secs_f64();
        eprintln!("vm: the story took {secs:.0} s");
        // A story that failed has no line.
        append("LVSPROV_STORY_TIMES", &format!("{secs:6.0} s  {}", story()));
        self.dirty = false;
    }
}

/// The running story's name (libtest names the thread after the test).
fn story() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Where the suite's time goes, for .ci/run's summary: `line` appended to the file the
/// environment variable `var` names, if it names one.
fn append(var: &str, line: &str) {
    let Ok(path) = std::env::var(var) else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut f) = file {
        std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()).ok();
    }
}
