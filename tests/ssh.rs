//! Connecting the way operators connect, against the container lab's real OpenSSH servers:
//! RSA keys, encrypted keys through the agent or a passphrase, sudo that wants a password.
//! lvsprov runs in the lab's client; its identities are the ones `docker/lab` made (ed25519,
//! RSA-3072, an encrypted ed25519 whose passphrase is in the lab's state).

mod common;

use common::{host, lab, repo, Lab};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The container lab's inventory with its top-level `ssh` replaced and, per host, `own` ssh
/// fields (web02's `deploy` user is dropped unless given again).
fn inventory(lab: &Lab, path: &str, ssh: Value, own: &[(&str, Value)]) -> String {
    let text = std::fs::read_to_string(repo().join(common::CONTAINER_INVENTORY)).unwrap();
    let mut inv: Value = serde_json::from_str(&text).unwrap();
    inv["ssh"] = ssh;
    for group in ["directors", "real_servers"] {
        for h in inv[group].as_array_mut().unwrap() {
            let name = h["name"].as_str().unwrap().to_string();
            h.as_object_mut().unwrap().remove("ssh");
            if let Some((_, s)) = own.iter().find(|(n, _)| *n == name) {
                h["ssh"] = s.clone();
            }
        }
    }
    lab.put("client", path, &serde_json::to_string_pretty(&inv).unwrap());
    path.to_string()
}

/// The container lab's inventory logging in as `user` with `key` (a file in the client's ~/.ssh).
fn as_user(lab: &Lab, path: &str, user: &str, key: &str, own: &[(&str, Value)]) -> String {
    let ssh = json!({ "user": user, "identity_file": format!("~/.ssh/{key}"), "known_hosts": "~/.ssh/known_hosts" });
    inventory(lab, path, ssh, own)
}

fn passphrase() -> String {
    std::fs::read_to_string(repo().join("docker/state/passphrase"))
        .unwrap()
        .trim()
        .to_string()
}

/// Accepted logins per user on a host, from its sshd's log ("Accepted publickey for USER ... KEYTYPE").
fn accepted(host: &str, user: &str, key_type: &str) -> usize {
    let out = Command::new("docker")
        .args(["logs", &format!("lvsprov-{host}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(&format!("Accepted publickey for {user} ")) && l.contains(key_type))
        .count()
}

fn statuses(r: &Value) -> Vec<(String, String)> {
    r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `check` reached and read the host: a plan, not a failure.
fn planned(r: &Value, name: &str) -> bool {
    ["changed", "unchanged"].contains(&host(r, name)["status"].as_str().unwrap())
}

fn processes(host: &str) -> String {
    let out = Command::new("docker")
        .args(["exec", &format!("lvsprov-{host}"), "ps", "-eo", "args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// lvsprov in the client under a pseudo-terminal (`script`), answering `prompt` with `answer`
/// once it appears, as a person would. Also returns the process lists of the client and of
/// web01, sampled while it waits at the prompt and then until it ends.
fn in_pty(cmd: &str, prompt: &str, answer: &str) -> (i32, String, String) {
    let mut child = Command::new("docker")
        .args([
            "exec",
            "-i",
            "-e",
            "NO_COLOR=1",
            "-w",
            "/src",
            "lvsprov-client",
        ])
        .args(["script", "-qec", cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let t0 = Instant::now();
    while !String::from_utf8_lossy(&seen.lock().unwrap()).contains(prompt) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no prompt {prompt:?}: {}",
            String::from_utf8_lossy(&seen.lock().unwrap())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut ps = processes("client");
    // A person types after the prompt has turned echo off.
    std::thread::sleep(Duration::from_millis(500));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        ps.push_str(&processes("client"));
        ps.push_str(&processes("web01"));
    };
    drop(stdin);
    reader.join().unwrap();
    let out = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    (status.code().unwrap(), out, ps)
}

#[test]
fn an_rsa_key_signs_with_sha2_as_root_and_as_a_sudo_user() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    let before = (
        accepted("web01", "root", "RSA"),
        accepted("web02", "deploy", "RSA"),
    );
    let inv = as_user(
        lab,
        "/tmp/rsa.json",
        "root",
        "id_rsa",
        &[("web02", json!({ "user": "deploy", "sudo": true }))],
    );
    let (code, r) = lab.json(&["check", &inv, "--limit", "real_servers"]);
    assert!(code == 0 || code == 2, "{r}");
    assert!(
        planned(&r, "web01") && planned(&r, "web02"),
        "{:?}",
        statuses(&r)
    );
    // The hosts run OpenSSH 9.2, which refuses SHA-1 `ssh-rsa` signatures: accepted means SHA-2.
    assert_eq!(
        (
            accepted("web01", "root", "RSA"),
            accepted("web02", "deploy", "RSA")
        ),
        (before.0 + 1, before.1 + 1),
        "one RSA login each, as root on web01 and as deploy (sudo) on web02"
    );
}

#[test]
fn an_encrypted_key_is_used_through_the_agent_without_a_passphrase() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    let inv = as_user(lab, "/tmp/enc.json", "root", "id_ed25519_enc", &[]);
    // The agent gets the key through an askpass program; lvsprov itself has no terminal, no
    // passphrase file and no askpass: only the agent can make this work.
    lab.put(
        "client",
        "/tmp/askpass",
        &format!("#!/bin/sh\necho '{}'\n", passphrase()),
    );
    let out = lab.sh(
        "client",
        &format!(
            "chmod 700 /tmp/askpass; eval $(ssh-agent -s) >/dev/null; \
             SSH_ASKPASS=/tmp/askpass SSH_ASKPASS_REQUIRE=force ssh-add ~/.ssh/id_ed25519_enc 2>/dev/null; \
             cd /src; NO_COLOR=1 lvsprov check {inv} --limit web01 -v --output json 2>&1 >/tmp/agent.json; echo rc=$?; \
             kill $SSH_AGENT_PID"
        ),
    );
    rm(lab, "/tmp/askpass");
    assert!(out.contains("rc=0") || out.contains("rc=2"), "{out}");
    assert!(
        out.contains("web01: connected: key exchange ")
            && out.contains("identity /root/.ssh/id_ed25519_enc (via the agent)"),
        "-v names the key exchange and the identity: {out}"
    );
    // Without the agent the same key cannot be used, and nothing is contacted.
    let before = lab.logins();
    let out = lab.lvsprov(&["check", &inv, "--limit", "web01"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("id_ed25519_enc is encrypted") && err.contains("--passphrase-file"),
        "{err}"
    );
    assert_eq!(lab.logins(), before, "no host contacted");
}

fn rm(lab: &Lab, path: &str) {
    lab.sh("client", &format!("rm -f {path}"));
}

#[test]
fn an_encrypted_key_asks_its_passphrase_once_on_the_terminal_and_never_shows_it() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    let inv = as_user(lab, "/tmp/enc-tty.json", "root", "id_ed25519_enc", &[]);
    let pass = passphrase();
    let (code, out, ps) = in_pty(
        &format!("lvsprov check {inv} --limit real_servers -v"),
        "Enter passphrase for key",
        &pass,
    );
    assert!(code == 0 || code == 2, "{out}");
    assert_eq!(
        out.matches("Enter passphrase for key").count(),
        1,
        "asked once for two hosts: {out}"
    );
    assert!(
        out.contains("web01: connected") && out.contains("web02: connected"),
        "{out}"
    );
    assert!(
        !out.contains(&pass),
        "the passphrase was echoed or printed: {out}"
    );
    assert!(
        ps.contains("lvsprov check"),
        "the process list was read during the run: {ps}"
    );
    assert!(
        !ps.contains(&pass),
        "the passphrase is on a command line: {ps}"
    );
    for h in ["web01", "web02"] {
        let logs = Command::new("docker")
            .args(["logs", &format!("lvsprov-{h}")])
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&logs.stderr).contains(&pass));
    }

    // A wrong passphrase from a file: refused before any host is contacted, and not repeated.
    lab.put("client", "/tmp/wrong-pass", "not the passphrase\n");
    let before = lab.logins();
    let out = lab.lvsprov(&["check", &inv, "--passphrase-file", "/tmp/wrong-pass"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("wrong passphrase for the identity file /root/.ssh/id_ed25519_enc"),
        "{err}"
    );
    assert!(!err.contains("not the passphrase"), "{err}");
    assert_eq!(lab.logins(), before);
    // The right one, from a file: unattended.
    lab.put("client", "/tmp/right-pass", &format!("{pass}\n"));
    let (code, r) = lab.json(&[
        "check",
        &inv,
        "--limit",
        "web01",
        "--passphrase-file",
        "/tmp/right-pass",
    ]);
    assert!(code == 0 || code == 2, "{r}");
    assert!(!r.to_string().contains(&pass));
    rm(lab, "/tmp/right-pass /tmp/wrong-pass");
}

#[test]
fn a_refused_identity_is_named_with_its_fingerprint() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    let fp = lab.sh(
        "client",
        "rm -f /tmp/stranger; ssh-keygen -q -t ed25519 -N '' -f /tmp/stranger && ssh-keygen -lf /tmp/stranger.pub | cut -d' ' -f2",
    );
    let inv = inventory(
        lab,
        "/tmp/stranger.json",
        json!({ "user": "root", "identity_file": "/tmp/stranger", "known_hosts": "~/.ssh/known_hosts" }),
        &[],
    );
    let (code, r) = lab.json(&["check", &inv, "--limit", "web01"]);
    assert_eq!(code, 1, "{r}");
    let w1 = host(&r, "web01");
    assert_eq!(w1["error_kind"], "auth", "{w1}");
    let err = w1["error"].as_str().unwrap();
    assert!(
        err.contains("refused every identity for user root")
            && err.contains(&format!("/tmp/stranger (ssh-ed25519 {fp})")),
        "{err}"
    );
}

#[test]
fn sudo_that_wants_a_password_gets_it_on_stdin_once_and_a_wrong_one_fails_fast() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    let inv = as_user(lab, "/tmp/ops.json", "ops", "id_ed25519", &[]);
    // Without a password: refused with the way out.
    let (code, r) = lab.json(&["check", &inv, "--limit", "web01"]);
    assert_eq!(code, 1, "{r}");
    assert!(
        host(&r, "web01")["error"]
            .as_str()
            .unwrap()
            .contains("--ask-become-pass"),
        "{r}"
    );
    // Asked once on the terminal, for both hosts; converges (up, so root's work really ran).
    let password = "lab-sudo-password";
    let (code, out, ps) = in_pty(
        &format!("lvsprov up {inv} --limit real_servers --ask-become-pass"),
        "[lvsprov] sudo password:",
        password,
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("[lvsprov] sudo password:").count(), 1, "{out}");
    assert!(
        !out.contains(password) && !ps.contains(password),
        "{out}\n{ps}"
    );
    assert_eq!(lab.sysctl("web02", "net.ipv4.conf.all.arp_ignore"), "1");
    assert!(
        ps.contains("lvsprov up"),
        "the process lists were read during the run: {ps}"
    );
    // A wrong password from a file: that host fails at once, naming why; no hang.
    lab.put("client", "/tmp/wrong-sudo", "not-it\n");
    let t0 = Instant::now();
    let (code, r) = lab.json(&[
        "check",
        &inv,
        "--limit",
        "real_servers",
        "--become-pass-file",
        "/tmp/wrong-sudo",
    ]);
    let took = t0.elapsed();
    rm(lab, "/tmp/wrong-sudo");
    assert_eq!(code, 1, "{r}");
    for h in ["web01", "web02"] {
        let e = host(&r, h);
        assert_eq!(e["error_kind"], "auth", "{e}");
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains("sudo refused the password"),
            "{e}"
        );
    }
    assert!(
        took < Duration::from_secs(20),
        "a wrong password failed in {took:?}, not at once"
    );
    assert!(!r.to_string().contains("not-it"));

    // A sudoers with requiretty (RHEL 7's default): refused with the fix, the other host goes on.
    lab.sh(
        "web02",
        "echo 'Defaults:ops requiretty' >/etc/sudoers.d/zz-tty && chmod 440 /etc/sudoers.d/zz-tty",
    );
    lab.put("client", "/tmp/right-sudo", &format!("{password}\n"));
    let (code, r) = lab.json(&[
        "check",
        &inv,
        "--limit",
        "real_servers",
        "--become-pass-file",
        "/tmp/right-sudo",
    ]);
    lab.sh("web02", "rm -f /etc/sudoers.d/zz-tty");
    rm(lab, "/tmp/right-sudo");
    assert_eq!(code, 1, "{r}");
    assert!(planned(&r, "web01"), "{r}");
    let e = host(&r, "web02");
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("Defaults:USER !requiretty"),
        "{e}"
    );
}

/// Accepted logins on a lab host from a given source address.
fn logins_from(host: &str, source: &str) -> usize {
    let out = Command::new("docker")
        .args(["logs", &format!("lvsprov-{host}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("Accepted publickey") && l.contains(&format!(" from {source} ")))
        .count()
}

#[test]
fn every_host_is_reached_through_one_bastion_login() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    let bastion = common::addr("bastion");
    let client = common::addr("client");
    let hosts = ["lvs01", "lvs02", "web01", "web02"];
    let before: Vec<usize> = hosts.iter().map(|h| logins_from(h, &bastion)).collect();
    let bastion_logins = logins_from("bastion", &client);
    let t0 = Instant::now();
    let (code, r) = lab.json(&["check", "inventories/lab-bastion.json"]);
    let through = t0.elapsed();
    // This kernel has no IPVS: the directors are refused after their facts were read.
    assert_eq!(code, 1, "{r}");
    for h in hosts {
        let e = host(&r, h);
        assert!(
            planned(&r, h) || e["error_kind"] == "refused",
            "{h} was read through the bastion: {e}"
        );
    }
    let after: Vec<usize> = hosts.iter().map(|h| logins_from(h, &bastion)).collect();
    assert_eq!(
        after,
        before.iter().map(|n| n + 1).collect::<Vec<_>>(),
        "each host's sshd saw one login from the bastion's address"
    );
    assert_eq!(
        logins_from("bastion", &client),
        bastion_logins + 1,
        "one bastion login for the run"
    );
    // The bastion runs Debian 13's OpenSSH 10: -v names its key exchange beside the host's.
    let out = lab.lvsprov(&[
        "check",
        "inventories/lab-bastion.json",
        "--limit",
        "web01",
        "-v",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "through root@{bastion}:22 (key exchange mlkem768x25519-sha256)"
        )),
        "{err}"
    );
    let t0 = Instant::now();
    let (direct_code, _) = lab.json(&["check"]);
    let direct = t0.elapsed();
    assert_eq!(direct_code, code);
    eprintln!(
        "check of 4 hosts: through the bastion {} ms, direct {} ms ({:.2}x)",
        through.as_millis(),
        direct.as_millis(),
        through.as_secs_f64() / direct.as_secs_f64()
    );

    // The bastion's key changed (known_hosts says another key for its address): every host
    // behind it is refused before anything is sent, naming the bastion.
    lab.sh(
        "client",
        &format!(
            "grep -v '^{bastion} ' ~/.ssh/known_hosts >/tmp/kh-changed; \
             grep '^{} ' ~/.ssh/known_hosts | sed 's/^[^ ]*/{bastion}/' >>/tmp/kh-changed",
            common::addr("web01")
        ),
    );
    let text = std::fs::read_to_string(repo().join("inventories/lab-bastion.json"))
        .unwrap()
        .replace("~/.ssh/known_hosts", "/tmp/kh-changed");
    lab.put("client", "/tmp/bastion-changed.json", &text);
    let (code, r) = lab.json(&[
        "check",
        "/tmp/bastion-changed.json",
        "--limit",
        "real_servers",
    ]);
    assert_eq!(code, 1, "{r}");
    for h in ["web01", "web02"] {
        let e = host(&r, h);
        assert_eq!(e["error_kind"], "host_key", "{e}");
        let m = e["error"].as_str().unwrap();
        assert!(
            m.contains(&format!("bastion root@{bastion}:22")) && m.contains("HOST KEY CHANGED"),
            "{m}"
        );
    }
}

#[test]
fn an_ssh_config_alias_names_the_host_and_what_lvsprov_cannot_honour_is_refused() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    lab.put(
        "client",
        "/tmp/ssh_config",
        &format!(
            "# as an operator has it\nHost web01-mgmt\n    HostName {}\n    User deploy\n    Port 22\n    IdentityFile ~/.ssh/id_rsa\n\nHost *\n    ServerAliveInterval 20\n",
            common::addr("web01")
        ),
    );
    // The inventory says only where known_hosts is and which alias web01 is: the rest comes from
    // the config (user deploy, so sudo; the RSA key).
    let inv = inventory(
        lab,
        "/tmp/alias.json",
        json!({ "known_hosts": "~/.ssh/known_hosts" }),
        &[("web01", json!({ "host": "web01-mgmt" }))],
    );
    let before = accepted("web01", "deploy", "RSA");
    let out = lab.lvsprov(&[
        "check",
        &inv,
        "--limit",
        "web01",
        "--ssh-config",
        "/tmp/ssh_config",
        "-v",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 2)), "{err}");
    assert!(
        err.contains("identity /root/.ssh/id_rsa (ssh-rsa SHA256:"),
        "{err}"
    );
    assert_eq!(
        accepted("web01", "deploy", "RSA"),
        before + 1,
        "logged in as the config's user with its key"
    );

    // A Match block could send some hosts elsewhere: refused naming its line, nothing contacted.
    lab.put(
        "client",
        "/tmp/ssh_config_match",
        "Host web01-mgmt\n    User deploy\n\nMatch host 192.168.*\n    User nobody\n",
    );
    let before = lab.logins();
    let out = lab.lvsprov(&["check", &inv, "--ssh-config", "/tmp/ssh_config_match"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("/tmp/ssh_config_match line 4: `Match` is not supported"),
        "{err}"
    );
    assert_eq!(lab.logins(), before);
}
