//! A small lab builder for the stories in `tests/lab.rs`: bring the docker-compose lab up once,
//! run lvsprov in its client, read a host. Each story is then a short test of its own.
//!
//! Skipped only when Docker is absent (said on stderr); `.ci/run` refuses to run without Docker,
//! so a skip cannot pass CI unnoticed.
#![allow(dead_code)]

pub mod plan;
pub mod vm;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

pub struct Lab;

pub const CONTAINER_INVENTORY: &str = "inventories/lab-containers.json";

static LAB: OnceLock<Option<Lab>> = OnceLock::new();
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `lvsprov ARGS` on this machine, from the checkout, without colour: exit code, stdout, stderr.
/// For the tests that need no lab; `Lab::lvsprov` runs it in the lab's client.
pub fn lvsprov<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn lab() -> Option<(MutexGuard<'static, ()>, &'static Lab)> {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let lab = LAB.get_or_init(|| {
        let docker = Command::new("docker").arg("info").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !matches!(docker, Ok(s) if s.success()) {
            assert!(std::env::var_os("LVSPROV_REQUIRE_LAB").is_none(), "LVSPROV_REQUIRE_LAB is set and Docker is not available");
            eprintln!("SKIPPED: Docker is not available here; the lab tests need it (.ci/run fails without it)");
            return None;
        }
        let up = Command::new(repo().join("docker/lab")).arg("up").status().unwrap();
        assert!(up.success(), "docker/lab up failed");
        Some(Lab)
    });
    lab.as_ref().map(|l| (guard, l))
}

impl Lab {
    /// New host containers, as if just installed; the client gets the fresh known_hosts.
    pub fn fresh(&self) {
        let st = Command::new(repo().join("docker/lab"))
            .args(["up", "--fresh"])
            .status()
            .unwrap();
        assert!(st.success());
        self.install_binary();
    }

    pub fn install_binary(&self) {
        let st = Command::new("docker")
            .args([
                "cp",
                env!("CARGO_BIN_EXE_lvsprov"),
                "lvsprov-client:/usr/local/bin/lvsprov",
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// `lvsprov ARGS` in the client, from the checkout (mounted at /src). Without an inventory
    /// among ARGS, the container lab's own: its hosts boot nothing (no init), so it says
    /// `"persist": false` where the real-kernel lab's systemd hosts persist.
    pub fn lvsprov(&self, args: &[&str]) -> Output {
        self.install_binary();
        let mut args = args.to_vec();
        if !args.iter().any(|a| a.ends_with(".json")) {
            args.push(CONTAINER_INVENTORY);
        }
        Command::new("docker")
            .args([
                "exec",
                "-e",
                "NO_COLOR=1",
                "-w",
                "/src",
                "lvsprov-client",
                "lvsprov",
            ])
            .args(args)
            .output()
            .unwrap()
    }

    /// The real servers as `up` leaves them (fast when they already are).
    pub fn converged(&self) {
        let (code, r) = self.json(&["up", "--limit", "real_servers"]);
        assert_eq!(code, 0, "{r}");
    }

    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.lvsprov(&all);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), doc)
    }

    /// A command on a lab host, as root; its stdout.
    pub fn sh(&self, host: &str, cmd: &str) -> String {
        let out = Command::new("docker")
            .args(["exec", &format!("lvsprov-{host}"), "bash", "-c", cmd])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn put(&self, host: &str, path: &str, content: &str) {
        let mut child = Command::new("docker")
            .args([
                "exec",
                "-i",
                &format!("lvsprov-{host}"),
                "sh",
                "-c",
                &format!("cat > {path}"),
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(content.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    pub fn sysctl(&self, host: &str, key: &str) -> String {
        self.sh(host, &format!("sysctl -n {key}"))
    }

    /// How many SSH logins each host's sshd has accepted so far.
    pub fn logins(&self) -> Vec<usize> {
        ["lvs01", "lvs02", "web01", "web02"]
            .iter()
            .map(|h| {
                let out = Command::new("docker")
                    .args(["logs", &format!("lvsprov-{h}")])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stderr)
                    .matches("Accepted publickey")
                    .count()
            })
            .collect()
    }
}

pub fn host<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

pub fn resources(h: &Value) -> Vec<String> {
    h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["resource"].as_str().unwrap().to_string())
        .collect()
}

pub const ARP: [&str; 6] = [
    "net.ipv4.conf.all.arp_ignore",
    "net.ipv4.conf.all.arp_announce",
    "net.ipv4.conf.lo.arp_ignore",
    "net.ipv4.conf.lo.arp_announce",
    "net.ipv4.conf.eth0.arp_ignore",
    "net.ipv4.conf.eth0.arp_announce",
];

/// One row of `docker/topology`, the lab's one address table.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: String,
    pub name: String,
    pub address: String,
    pub user: String,
}

pub fn topology() -> Vec<Node> {
    std::fs::read_to_string(repo().join("docker/topology"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Node {
                kind: w[0].into(),
                name: w[1].into(),
                address: w[2].into(),
                user: w[3].into(),
            }
        })
        .collect()
}

/// An inventory (as JSON) given the real-kernel lab's IPv6 segment: `network6` fd00:100::/64 and
/// each host's `address6`, fd00:100:: and its IPv4 address's last octet (docker/vm/lab).
pub fn lab_ipv6(v: &mut Value) {
    v["network6"] = "fd00:100::/64".into();
    for group in ["directors", "real_servers"] {
        for h in v[group].as_array_mut().unwrap() {
            let last = h["address"].as_str().unwrap().rsplit('.').next().unwrap();
            h["address6"] = format!("fd00:100::{last}").into();
        }
    }
}

/// The topology's address of a host (or of `vip`, `network`).
pub fn addr(name: &str) -> String {
    topology()
        .into_iter()
        .find(|n| n.name == name || (n.name == "-" && n.kind == name))
        .unwrap_or_else(|| panic!("{name} is not in docker/topology"))
        .address
}
