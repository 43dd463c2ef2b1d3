//! Stories against the docker-compose lab: real OpenSSH servers, real apt, real sysctls. lvsprov,
//! ssh and curl run inside the lab's `client`, never from this machine. The lab comes up once per
//! run (a running one is reused); the stories share it, one at a time, and each sets up what it
//! needs itself, so they hold in any order.

mod common;

use common::{addr, host, lab, repo, resources, Lab, ARP};
use serde_json::Value;
use std::process::Command;

#[test]
fn check_writes_nothing_then_up_converges_the_real_servers() {
    let Some((_g, lab)) = lab() else { return };
    lab.fresh();
    let lvs01_hostname = lab.sh("lvs01", "hostname");

    // check: the whole plan, nothing written.
    let (code, plan) = lab.json(&["check"]);
    assert_eq!(
        code, 1,
        "directors are refused here (no IPVS), so check exits 1: {plan}"
    );
    assert!(resources(host(&plan, "web01")).contains(&"package apache2".to_string()));
    assert_eq!(lab.sh("web01", "ls /var/www/html 2>&1; ls /var/lib/lvsprov 2>&1 | head -1"), "ls: cannot access '/var/www/html': No such file or directory\nls: cannot access '/var/lib/lvsprov': No such file or directory");

    // up: real servers converge; directors are refused with the no-IPVS message, untouched.
    let (code, report) = lab.json(&["up"]);
    assert_eq!(code, 1);
    for d in ["lvs01", "lvs02"] {
        let h = host(&report, d);
        assert_eq!(h["status"], "failed");
        assert!(h["error"].as_str().unwrap().contains("no IPVS"), "{h}");
        assert_eq!(h["error_kind"], "refused", "{h}");
        assert_eq!(h["changes"].as_array().unwrap().len(), 0);
    }
    assert_eq!(
        lab.sh("lvs01", "hostname"),
        lvs01_hostname,
        "nothing changed on a refused director"
    );
    assert_eq!(
        lab.sh(
            "lvs01",
            "dpkg-query -W -f='${Status}' ipvsadm 2>/dev/null; ls /var/lib/lvsprov 2>/dev/null"
        ),
        ""
    );
    let vip = addr("vip");
    for (w, page) in [
        ("web01", "<h1>this is kg web</h1>"),
        ("web02", "<h1>this is ac web</h1>"),
    ] {
        let h = host(&report, w);
        assert_eq!(h["status"], "changed", "{h}");
        assert_eq!(
            lab.sh(
                "client",
                &format!("curl -s http://{}/", h["address"].as_str().unwrap())
            ),
            page
        );
        assert_eq!(lab.sh(w, "hostname"), w);
        assert_eq!(
            lab.sh(w, &format!("ip -4 addr show dev lo | grep -o '{vip}/.*'")),
            format!("{vip}/32 scope global lo:0")
        );
        for k in ARP {
            let want = if k.ends_with("arp_ignore") { "1" } else { "2" };
            assert_eq!(lab.sysctl(w, k), want, "{w} {k}");
        }
        assert!(lab
            .sh(w, "cat /etc/sysctl.d/90-lvsprov.conf")
            .contains("net.ipv4.conf.eth0.arp_announce = 2"));
    }
    assert_eq!(
        lab.sh("web02", "stat -c %U /var/www/html/index.html"),
        "root",
        "web02 goes through deploy + sudo"
    );
}

#[test]
fn a_second_up_changes_nothing() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let (code, again) = lab.json(&["up", "--limit", "real_servers"]);
    assert_eq!(
        (code, again["summary"]["changes"].as_u64()),
        (0, Some(0)),
        "{again}"
    );
    let (code, _) = lab.json(&["check", "--limit", "real_servers"]);
    assert_eq!(code, 0);
}

#[test]
fn hand_drift_is_shown_by_check_and_undone_by_up() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    lab.sh(
        "web01",
        "sysctl -qw net.ipv4.conf.all.arp_ignore=0; echo hacked > /var/www/html/index.html",
    );
    let (code, drift) = lab.json(&["check", "--limit", "real_servers"]);
    assert_eq!(code, 2);
    let w1 = host(&drift, "web01");
    assert_eq!(
        resources(w1),
        [
            "file /var/www/html/index.html",
            "sysctl net.ipv4.conf.all.arp_ignore"
        ]
    );
    assert_eq!(w1["changes"][1]["diff"], "0 → 1");
    let diff = w1["changes"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains("-hacked") && diff.contains("+<h1>this is kg web</h1>"),
        "{diff}"
    );
    assert_eq!(host(&drift, "web02")["status"], "unchanged");
    assert_eq!(
        lab.sh("web01", "cat /var/www/html/index.html"),
        "hacked",
        "check wrote nothing"
    );
    let human = lab.lvsprov(&["check", "--limit", "web01"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("~ sysctl net.ipv4.conf.all.arp_ignore: 0 → 1") && text.contains("-hacked"),
        "{text}"
    );
    let (code, _) = lab.json(&["up", "--limit", "real_servers"]);
    assert_eq!(code, 0);
    assert_eq!(lab.sysctl("web01", "net.ipv4.conf.all.arp_ignore"), "1");
    assert_eq!(
        lab.sh("client", &format!("curl -s http://{}/", addr("web01"))),
        "<h1>this is kg web</h1>"
    );
}

#[test]
fn down_puts_back_what_was_there_before_the_first_up() {
    let Some((_g, lab)) = lab() else { return };
    let (code, first) = lab.json(&["down"]);
    assert_eq!(code, 0, "{first}");
    // Make one "before" value differ from the kernel default, so restoring it proves something.
    lab.sh("web01", "sysctl -qw net.ipv4.conf.lo.arp_announce=1");
    let before: Vec<String> = ARP.iter().map(|k| lab.sysctl("web01", k)).collect();
    lab.converged();
    let (code, down) = lab.json(&["down"]);
    assert_eq!(code, 0, "{down}");
    let after: Vec<String> = ARP.iter().map(|k| lab.sysctl("web01", k)).collect();
    assert_eq!(
        after, before,
        "every sysctl back to its value before the first up"
    );
    for w in ["web01", "web02"] {
        assert_eq!(
            lab.sh(
                w,
                &format!("ip -o -4 addr show dev lo | grep -c {}", addr("vip"))
            ),
            "0",
            "{w}: VIP gone from lo"
        );
        assert_eq!(lab.sh(w, "ls /var/www/html/index.html /etc/sysctl.d/90-lvsprov.conf /etc/network/interfaces.d/lvsprov-vip /var/lib/lvsprov 2>/dev/null"), "");
    }
    let (code, replan) = lab.json(&["check", "--limit", "real_servers"]);
    assert_eq!(code, 2);
    let again = resources(host(&replan, "web01"));
    for r in [
        "file /var/www/html/index.html".to_string(),
        format!("address {} on lo", addr("vip")),
        "sysctl net.ipv4.conf.all.arp_ignore".to_string(),
    ] {
        assert!(again.contains(&r), "{r} not in {again:?}");
    }
}

#[test]
fn verify_checks_only_what_limit_selects_and_forks_bounds_it() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let (_, v) = lab.json(&["verify", "--limit", "web01", "--requests", "2"]);
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("web02") && !n.contains("lvs0")),
        "only web01 and its service: {names:?}"
    );
    let (vip, web01) = (addr("vip"), addr("web01"));
    for (name, ok) in [
        ("web01: ARP sysctls".to_string(), true),
        (format!("web01: VIP {vip} on lo"), true),
        (format!("web01: page on {web01}:80"), true),
    ] {
        let c = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {names:?}"));
        assert_eq!(c["ok"], ok, "{c}");
    }
    assert!(
        names.contains(&format!("ARP for {vip} not answered by web01").as_str()),
        "{names:?}"
    );

    // --forks 1: one host at a time, each finished before the next connects.
    let out = lab.lvsprov(&[
        "verify",
        "--limit",
        "real_servers",
        "--forks",
        "1",
        "--requests",
        "0",
        "-v",
    ]);
    let log = String::from_utf8_lossy(&out.stderr);
    let order: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|h| h.starts_with("web"))
        .collect();
    let first = order[0];
    let switch = order
        .iter()
        .position(|h| *h != first)
        .unwrap_or_else(|| panic!("one host only: {log}"));
    assert!(
        order[switch..].iter().all(|h| *h != first),
        "interleaved with --forks 1:\n{log}"
    );
    assert!(log.contains(&format!("{first}: observed")), "{log}");
}

#[test]
fn a_broken_playbook_contacts_no_host() {
    let Some((_g, lab)) = lab() else { return };
    let before = lab.logins();
    lab.sh("client", "mkdir -p /tmp/broken-pb");
    lab.put("client", "/tmp/broken-pb/index.html.j2", "{{ host.page ");
    let out = lab.lvsprov(&["up", "--playbooks", "/tmp/broken-pb"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("template index.html.j2"), "{err}");
    assert_eq!(lab.logins(), before, "no SSH login on any host");
    lab.lvsprov(&["check", "--limit", "web01"]);
    assert_ne!(
        lab.logins(),
        before,
        "a valid run does log in, so the count can move"
    );
}

#[test]
fn json_counts_match_the_human_report() {
    let Some((_g, lab)) = lab() else { return };
    let (_, doc) = lab.json(&["check"]);
    let s = &doc["summary"];
    let per_host: u64 = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["changes"].as_array().unwrap().len() as u64)
        .sum();
    assert_eq!(s["changes"].as_u64(), Some(per_host));
    let human = String::from_utf8_lossy(&lab.lvsprov(&["check"]).stdout).to_string();
    let plural = |n: &serde_json::Value, word: &str| {
        format!("{n} {word}{}", if n.as_u64() == Some(1) { "" } else { "s" })
    };
    let want = format!(
        "check: {}, {} would change, {} unchanged, {} failed, {} unreachable, {}",
        plural(&s["hosts"], "host"),
        s["changed"],
        s["unchanged"],
        s["failed"],
        s["unreachable"],
        plural(&s["changes"], "change")
    );
    assert!(human.contains(&want), "{want}\nnot in\n{human}");
    if s["changes"].as_u64() > Some(0) {
        let plan = format!(
            "plan: {} to add, {} to change, {} to destroy",
            s["add"], s["change"], s["destroy"]
        );
        assert!(human.contains(&plan), "{plan}\nnot in\n{human}");
    }
    assert_eq!(
        (doc["command"].as_str(), doc["version"].as_u64()),
        (Some("check"), Some(1))
    );
    assert!(doc["elapsed_ms"].is_u64());
}

/// The lab inventory, pointed at another known_hosts file in the client.
fn inventory_with_known_hosts(lab: &Lab, kh: &str) -> String {
    let mut inv: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join(common::CONTAINER_INVENTORY)).unwrap(),
    )
    .unwrap();
    inv["ssh"]["known_hosts"] = kh.into();
    inv["real_servers"][1]["ssh"]["known_hosts"] = kh.into();
    lab.put("client", "/tmp/kh-inventory.json", &inv.to_string());
    "/tmp/kh-inventory.json".into()
}

#[test]
fn unknown_host_keys_need_consent_and_changed_keys_are_refused() {
    let Some((_g, lab)) = lab() else { return };
    let inv = inventory_with_known_hosts(lab, "/tmp/kh");
    lab.sh(
        "client",
        &format!(
            "grep -v '^{} ' /root/.ssh/known_hosts > /tmp/kh",
            addr("web01")
        ),
    );

    let (code, r) = lab.json(&["check", &inv, "--limit", "web01,web02"]);
    assert_eq!(code, 1);
    let w1 = host(&r, "web01");
    assert_eq!(w1["status"], "failed");
    assert!(
        w1["error"].as_str().unwrap().contains("unknown host key"),
        "{w1}"
    );
    assert_ne!(
        host(&r, "web02")["status"],
        "failed",
        "the other host still runs"
    );

    let (code, r) = lab.json(&["check", &inv, "--limit", "web01", "--accept-new-host-keys"]);
    assert!(code == 0 || code == 2, "{r}");
    let real = lab.sh("web01", "cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub");
    assert!(
        lab.sh("client", "cat /tmp/kh").contains(&real),
        "the key was recorded"
    );

    // Swap web01's recorded key for another host's: a changed key, refused even with consent.
    let other = lab.sh("lvs01", "cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub");
    lab.sh("client", &format!("sed -i 's|{real}|{other}|' /tmp/kh"));
    let (code, r) = lab.json(&["check", &inv, "--limit", "web01", "--accept-new-host-keys"]);
    assert_eq!(code, 1);
    assert!(
        host(&r, "web01")["error"]
            .as_str()
            .unwrap()
            .contains("HOST KEY CHANGED"),
        "{r}"
    );
}

#[test]
fn a_stopped_host_is_unreachable_and_the_others_converge() {
    let Some((_g, lab)) = lab() else { return };
    assert!(Command::new("docker")
        .args(["stop", "-t", "1", "lvsprov-web02"])
        .status()
        .unwrap()
        .success());
    let (code, r) = lab.json(&["up", "--limit", "real_servers"]);
    let restarted = Command::new(repo().join("docker/lab"))
        .arg("up")
        .status()
        .unwrap();
    assert_eq!(code, 1, "{r}");
    let w2 = host(&r, "web02");
    assert_eq!(w2["status"], "unreachable");
    assert!(
        w2["error"].as_str().unwrap().contains(&addr("web02")),
        "{w2}"
    );
    assert!(["changed", "unchanged"].contains(&host(&r, "web01")["status"].as_str().unwrap()));
    assert_eq!(
        lab.sh("client", &format!("curl -s http://{}/", addr("web01"))),
        "<h1>this is kg web</h1>"
    );
    assert!(restarted.success());
}

#[test]
fn a_broken_inventory_contacts_no_host() {
    let Some((_g, lab)) = lab() else { return };
    let before = lab.logins();
    let text = std::fs::read_to_string(repo().join(common::CONTAINER_INVENTORY))
        .unwrap()
        .replace("\"rr\"", "\"fastest\"");
    lab.put("client", "/tmp/broken.json", &text);
    let out = lab.lvsprov(&["up", "/tmp/broken.json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("$.services[0].scheduler"));
    assert_eq!(lab.logins(), before, "no SSH login on any host");
    // And the same count does move for a valid run, so the check above can fail.
    lab.lvsprov(&["check", "--limit", "web01"]);
    assert_ne!(lab.logins(), before);
}

#[test]
fn a_host_that_hangs_costs_its_own_timeout_not_the_run() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    // web02's sshd stopped: TCP is still accepted, no SSH banner ever comes.
    lab.sh("web02", "kill -STOP $(pidof sshd)");
    let (code, r) = lab.json(&["check", "--limit", "real_servers", "--connect-timeout", "3"]);
    lab.sh("web02", "kill -CONT $(pidof sshd)");
    assert_eq!(code, 1, "{r}");
    let w2 = host(&r, "web02");
    assert_eq!(
        (w2["status"].as_str(), w2["error_kind"].as_str()),
        (Some("unreachable"), Some("unreachable")),
        "{w2}"
    );
    let err = w2["error"].as_str().unwrap();
    assert!(
        err.contains("within 3 s") && err.contains("SSH banner"),
        "{err}"
    );
    assert_eq!(
        host(&r, "web01")["status"],
        "unchanged",
        "the other host still ran"
    );
    let ms = r["elapsed_ms"].as_u64().unwrap();
    assert!(
        ms < 4000,
        "reported within --connect-timeout + 1 s, took {ms} ms"
    );

    // A step that never ends (reading a FIFO nobody writes): that host fails after --timeout,
    // naming the step; the other converges.
    fifo_playbook(lab);
    let (code, r) = lab.json(&[
        "up",
        "--limit",
        "real_servers",
        "--playbooks",
        "/tmp/hang-pb",
        "--timeout",
        "3",
    ]);
    lab.sh(
        "web01",
        "timeout 2 sh -c 'echo > /tmp/lvsprov-fifo'; sleep 0.5; rm -f /tmp/lvsprov-fifo",
    );
    lab.sh("web02", "rm -f /tmp/lvsprov-fifo");
    assert_eq!(code, 1, "{r}");
    let w1 = host(&r, "web01");
    assert_eq!(w1["error_kind"], "timeout", "{w1}");
    let err = w1["error"].as_str().unwrap();
    assert!(
        err.contains("timed out after 3 s in step 1 (line in /tmp/lvsprov-fifo)"),
        "{err}"
    );
    assert_eq!(host(&r, "web02")["status"], "changed");
    let ms = r["elapsed_ms"].as_u64().unwrap();
    assert!(
        ms < 5000,
        "bounded by the slowest host's timeout, took {ms} ms"
    );
}

/// A FIFO on web01 that nobody writes, and in the client a playbook (`/tmp/hang-pb`) whose only
/// step reads it: on web01 that step blocks until the FIFO is written.
fn fifo_playbook(lab: &Lab) {
    fifo_playbook_then(lab, "");
}

/// The same, with `then` (JSON steps, each followed by a comma) after the blocking step.
fn fifo_playbook_then(lab: &Lab, then: &str) {
    lab.sh("web01", "rm -f /tmp/lvsprov-fifo; mkfifo /tmp/lvsprov-fifo");
    lab.sh("client", "mkdir -p /tmp/hang-pb");
    lab.put(
        "client",
        "/tmp/hang-pb/real_server.json.j2",
        &format!(r#"[ {{"line": {{"path": "/tmp/lvsprov-fifo", "line": "x"}}}}, {then} {{"hostname": {{"name": "web01"}}}} ]"#),
    );
}

/// web01 held by an `up` whose first step blocks reading a FIFO until `release_fifo`.
fn hold_web01(lab: &Lab) -> std::process::Child {
    hold_web01_with(lab, &["--timeout", "60"])
}

fn hold_web01_with(lab: &Lab, limits: &[&str]) -> std::process::Child {
    hold_web01_then(lab, limits, "")
}

fn hold_web01_then(lab: &Lab, limits: &[&str], then: &str) -> std::process::Child {
    fifo_playbook_then(lab, then);
    let before = lab.sh("web01", "head -n 1 /run/lvsprov/holder 2>/dev/null");
    lab.install_binary();
    let mut child = Command::new("docker")
        .args([
            "exec",
            "-w",
            "/src",
            "lvsprov-client",
            "lvsprov",
            "up",
            "--limit",
            "web01",
        ])
        .args(["--playbooks", "/tmp/hang-pb", "--output", "json"])
        .args(limits)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Held once the holder file names this run (an older run's file says "(up)" too).
    for _ in 0..100 {
        let now = lab.sh("web01", "head -n 1 /run/lvsprov/holder 2>/dev/null");
        if now != before && now.contains("(up)") {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    lab.sh("client", "pkill -KILL -x lvsprov");
    let _ = child.kill();
    let _ = child.wait();
    panic!("the holding run never took web01's lock");
}

/// Lets the blocked step finish one second from now.
fn release_fifo(lab: &Lab) {
    lab.sh(
        "web01",
        "setsid sh -c 'sleep 1; echo > /tmp/lvsprov-fifo' </dev/null >/dev/null 2>&1 &",
    );
}

#[test]
fn one_run_at_a_time_per_host() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let holder = hold_web01(lab);

    // A second run is refused at once on the held host, naming the holder; the other host goes on.
    let (code, r) = lab.json(&["down", "--limit", "real_servers"]);
    assert_eq!(code, 1, "{r}");
    let w1 = host(&r, "web01");
    assert_eq!(w1["error_kind"], "locked", "{w1}");
    let err = w1["error"].as_str().unwrap();
    assert!(
        err.contains("by root@client (up) since 20") && err.contains("--wait-lock"),
        "{err}"
    );
    assert_eq!(w1["changes"].as_array().unwrap().len(), 0);
    assert_eq!(
        host(&r, "web02")["status"],
        "changed",
        "web02 was free: down went on there"
    );
    assert_eq!(
        lab.sysctl("web01", "net.ipv4.conf.all.arp_ignore"),
        "1",
        "nothing changed on web01"
    );

    // --wait-lock waits for the holder to finish, then gets the host.
    release_fifo(lab);
    let (code, r) = lab.json(&["check", "--limit", "web01", "--wait-lock", "30"]);
    assert!(code == 0 || code == 2, "{r}");
    assert!(host(&r, "web01")["error"].is_null(), "{r}");
    let out = holder.wait_with_output().unwrap();
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        host(&first, "web01")["status"],
        "changed",
        "the holder finished its own run"
    );

    // A run killed while it holds the host: the host is free once the command it was running
    // ends; no lock to break by hand.
    let holder = hold_web01(lab);
    lab.sh("client", "pkill -KILL -x lvsprov");
    let _ = holder.wait_with_output();
    release_fifo(lab);
    let (code, r) = lab.json(&["check", "--limit", "web01", "--wait-lock", "30"]);
    lab.sh("web01", "rm -f /tmp/lvsprov-fifo");
    assert!(code == 0 || code == 2, "{r}");
    assert!(host(&r, "web01")["error"].is_null(), "{r}");
}

/// A holder whose controller froze (a laptop off the network: the SSH connection stays open)
/// keeps the host only until its lease ends: its own limits plus 15 s.
#[test]
fn a_run_abandoned_while_it_holds_a_host_is_taken_over_after_its_lease() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let started = std::time::Instant::now();
    let mut holder = hold_web01_with(lab, &["--timeout", "2", "--connect-timeout", "2"]);
    lab.sh("client", "pkill -STOP -x lvsprov");
    // Its step is blocked reading the FIFO.
    for _ in 0..50 {
        if lab.sh("web01", "pgrep -fc 'lvsprov-[f]ifo'") != "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(lab.sh("web01", "pgrep -fc 'lvsprov-[f]ifo'"), "1");
    // Within the lease (2 + 2 × 2 + 15 = 21 s) the host stays refused.
    let (code, r) = lab.json(&["check", "--limit", "web01"]);
    assert_eq!(
        (code, host(&r, "web01")["error_kind"].as_str()),
        (1, Some("locked")),
        "{r}"
    );
    while started.elapsed() < std::time::Duration::from_secs(23) {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let (code, r) = lab.json(&["up", "--limit", "web01"]);
    let w1 = host(&r, "web01");
    assert_eq!(code, 0, "{r}");
    let note = w1["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.contains("abandoned run") && note.contains("(up) since"),
        "the report says whose lock it took: {w1}"
    );
    assert_eq!(
        lab.sh(
            "web01",
            "find /proc/[0-9]*/fd -lname '*lvsprov-fifo*' 2>/dev/null | wc -l"
        ),
        "0",
        "the abandoned run's blocked step was ended with its session"
    );
    lab.sh("client", "pkill -KILL -x lvsprov");
    let _ = holder.wait();
    lab.sh("web01", "rm -f /tmp/lvsprov-fifo");
    let (code, r) = lab.json(&["check", "--limit", "web01"]);
    assert_eq!(code, 0, "{r}");
}

/// `up` and `down` started at the same moment on the same hosts (two operators, or cron and an
/// operator), each with work to do: they never interleave on a host. Where they overlap one acts
/// and the other is refused naming it; where one ended before the other read the host, the second
/// one's plan starts exactly from the first one's result. The host ends as the last one left it,
/// and a later `down` still restores the sysctls.
#[test]
fn up_and_down_started_together_never_interleave_on_a_host() {
    let Some((_g, lab)) = lab() else { return };
    let (code, r) = lab.json(&["down", "--limit", "real_servers"]);
    assert_eq!(code, 0, "{r}");
    let before: Vec<String> = ARP.iter().map(|k| lab.sysctl("web01", k)).collect();
    lab.converged();
    // Both have work: up rewrites the page, down takes everything away.
    for w in ["web01", "web02"] {
        lab.sh(w, "echo drifted > /var/www/html/index.html");
    }
    lab.install_binary();
    let both = lab.sh(
        "client",
        &format!(
            "cd /src; lvsprov up --limit real_servers --output json {inv} >/tmp/both-up.json 2>/dev/null & \
             lvsprov down --limit real_servers --output json {inv} >/tmp/both-down.json 2>/dev/null & wait; \
             echo ok",
            inv = common::CONTAINER_INVENTORY
        ),
    );
    assert_eq!(both, "ok");
    let read = |f: &str| -> Value {
        serde_json::from_str(&lab.sh("client", &format!("cat {f}"))).unwrap()
    };
    let (up, down) = (read("/tmp/both-up.json"), read("/tmp/both-down.json"));
    for w in ["web01", "web02"] {
        let (u, d) = (host(&up, w), host(&down, w));
        let page_diff = |h: &Value| {
            h["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["resource"] == "file /var/www/html/index.html")
                .map(|c| c["diff"].as_str().unwrap().to_string())
                .unwrap_or_default()
        };
        // Who ended last: the one refused never acted; when the two did not overlap on this host,
        // the second one's plan starts exactly from where the first one left the host.
        let last = match (u["error_kind"].as_str(), d["error_kind"].as_str()) {
            (None, Some("locked")) => {
                assert!(d["error"].as_str().unwrap().contains("(up)"), "{w}: {d}");
                assert_eq!(d["changes"].as_array().unwrap().len(), 0, "{w}: {d}");
                "up (down refused)"
            }
            (Some("locked"), None) => {
                assert!(u["error"].as_str().unwrap().contains("(down)"), "{w}: {u}");
                assert_eq!(u["changes"].as_array().unwrap().len(), 0, "{w}: {u}");
                "down (up refused)"
            }
            (None, None)
                if page_diff(u).contains("-drifted")
                    && page_diff(d).contains("-<h1>this is kg web</h1>")
                    || page_diff(d).contains("-<h1>this is ac web</h1>") =>
            {
                "down (after up)"
            }
            (None, None) if page_diff(u).contains("@@ -0,0 +1 @@") => "up (after down)",
            other => panic!("{w}: the runs interleaved: {other:?}\nup: {u}\ndown: {d}"),
        };
        let page = lab.sh(w, "cat /var/www/html/index.html 2>&1");
        let arp = lab.sysctl(w, "net.ipv4.conf.all.arp_ignore");
        if last.starts_with("up") {
            assert_eq!(
                (page.starts_with("<h1>this is"), arp.as_str()),
                (true, "1"),
                "{w}: as up leaves it"
            );
        } else {
            assert!(
                page.contains("No such file")
                    && lab
                        .sh(w, "ls /var/lib/lvsprov 2>&1")
                        .contains("No such file"),
                "{w}: as down leaves it: {page}"
            );
        }
        eprintln!("{w}: ended as {last} left it");
    }
    let (code, r) = lab.json(&["down", "--limit", "real_servers"]);
    assert_eq!(code, 0, "{r}");
    let after: Vec<String> = ARP.iter().map(|k| lab.sysctl("web01", k)).collect();
    assert_eq!(
        after, before,
        "a later down restores the sysctls from before the first up"
    );
    lab.converged();
}

/// The apply never overwrites a file someone changed after its facts were read.
#[test]
fn a_page_edited_by_hand_while_a_run_holds_the_host_is_not_overwritten() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let page = "/var/www/html/index.html";
    let holder = hold_web01_then(
        lab,
        &["--timeout", "60"],
        &format!(
            r#"{{"file": {{"path": "{page}", "content": "<h1>from the playbook</h1>\n", "mode": "0644"}}}},"#
        ),
    );
    lab.sh("web01", &format!("echo '<h1>hand edit</h1>' > {page}"));
    release_fifo(lab);
    let out = holder.wait_with_output().unwrap();
    lab.sh("web01", "rm -f /tmp/lvsprov-fifo");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let w1 = host(&r, "web01");
    let err = w1["error"].as_str().unwrap_or_default();
    assert!(
        err.contains(&format!(
            "{page} changed on this host after lvsprov read it"
        )) && err.contains("run again"),
        "{w1}"
    );
    assert_eq!(
        lab.sh("web01", &format!("cat {page}")),
        "<h1>hand edit</h1>"
    );
    // The next run sees the edit, shows it, and converges.
    let (code, plan) = lab.json(&["check", "--limit", "web01"]);
    assert_eq!(code, 2, "{plan}");
    assert!(plan.to_string().contains("-<h1>hand edit</h1>"), "{plan}");
    lab.converged();
    assert_eq!(
        lab.sh("web01", &format!("cat {page}")),
        "<h1>this is kg web</h1>"
    );
}

#[test]
fn an_install_killed_mid_way_is_finished_by_the_next_up() {
    // On web01, kill dpkg as soon as a package is unpacked but not configured.
    killed_install("dpkg --audit 2>/dev/null | grep -q .");
}

/// dpkg killed while a package is flagged reinst-required (mid-unpack; dpkg then refuses to
/// configure it, "in a very bad inconsistent state"): only a reinstall repairs it. A CI run
/// caught perl-base so by chance, and `up` failed; now it is caught on purpose.
#[test]
fn an_install_killed_mid_unpack_is_reinstalled_by_the_next_up() {
    killed_install("dpkg-query -W -f='${db:Status-Eflag}\\n' 2>/dev/null | grep -q reinstreq");
}

/// `up` on a fresh web01 with dpkg SIGKILLed the moment `caught` (a shell test) holds: that run
/// fails at the package step, dpkg left mid-change; the next `up` repairs the package database,
/// converges and serves the page, and the one after finds nothing to do.
fn killed_install(caught: &str) {
    let Some((_g, lab)) = lab() else { return };
    lab.fresh();
    let killer = Command::new("docker")
        .args(["exec", "lvsprov-web01", "bash", "-c"])
        .arg(format!("for i in $(seq 6000); do if {caught}; then pkill -KILL -x dpkg && echo killed && exit 0; fi; sleep 0.01; done; echo missed"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (code, first) = lab.json(&["up", "--limit", "web01"]);
    let killer = killer.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&killer.stdout);
    assert!(
        said.contains("killed"),
        "dpkg was never caught mid-install: {said}"
    );
    assert_eq!(code, 1, "{first}");
    assert_eq!(host(&first, "web01")["error_kind"], "step", "{first}");
    assert!(
        !lab.sh("web01", "dpkg --audit; ls -A /var/lib/dpkg/updates")
            .is_empty(),
        "dpkg left mid-change"
    );

    let (code, next) = lab.json(&["up", "--limit", "web01"]);
    assert_eq!(code, 0, "{next}");
    assert!(
        resources(host(&next, "web01")).contains(&"package database".to_string()),
        "{next}"
    );
    assert_eq!(lab.sh("web01", "dpkg --audit"), "", "dpkg finished");
    assert_eq!(
        lab.sh("client", &format!("curl -s http://{}/", addr("web01"))),
        "<h1>this is kg web</h1>"
    );
    let (code, again) = lab.json(&["up", "--limit", "web01"]);
    assert_eq!(
        (code, again["summary"]["changes"].as_u64()),
        (0, Some(0)),
        "{again}"
    );
}

/// A docroot owner points the page lvsprov manages at /etc/shadow: `check` and `up` refuse that
/// host naming the link, and no byte of /etc/shadow reaches any output or lvsprov's state.
#[test]
fn a_managed_file_linked_to_etc_shadow_is_refused_and_never_read() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    lab.sh(
        "web01",
        "mv /var/www/html/index.html /root/index.html.keep; ln -s /etc/shadow /var/www/html/index.html",
    );
    let shadow = lab.sh("web01", "cat /etc/shadow");
    let secret = shadow.lines().find(|l| l.starts_with("root:")).unwrap();
    for cmd in ["check", "up"] {
        for output in ["json", "human"] {
            let out = lab.lvsprov(&[cmd, "--limit", "web01", "--output", output]);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(1), "{cmd} {output}: {text}");
            assert!(
                text.contains("/var/www/html/index.html is a symbolic link (to /etc/shadow)"),
                "{cmd} {output}: {text}"
            );
            assert!(!text.contains(secret), "{cmd} {output} printed /etc/shadow");
        }
    }
    let state = lab.sh("web01", "find /var/lib/lvsprov -type f -exec cat {} +");
    assert!(
        !state.contains(secret),
        "/etc/shadow copied under /var/lib/lvsprov"
    );
    assert_eq!(
        lab.sh("web01", "readlink /var/www/html/index.html"),
        "/etc/shadow"
    );
    lab.sh(
        "web01",
        "rm /var/www/html/index.html; mv /root/index.html.keep /var/www/html/index.html",
    );
}

/// The containers boot nothing: with the inventory that asks for persistence (`lab.json`), a
/// real server is refused at plan time naming why and the fix, and nothing on it changes.
#[test]
fn a_host_that_boots_nothing_is_refused_when_persistence_is_asked_for() {
    let Some((_g, lab)) = lab() else { return };
    let state = "ls -lA --time-style=+%s /var/lib/lvsprov /etc/sysctl.d /var/www/html 2>&1; \
                 ip -o addr show lo; sysctl -n net.ipv4.conf.all.arp_ignore; hostname";
    let before = lab.sh("web02", state);
    let (code, r) = lab.json(&["up", "inventories/lab.json", "--limit", "web02"]);
    assert_eq!(code, 1, "{r}");
    let h = host(&r, "web02");
    assert_eq!(h["status"], "failed");
    let err = h["error"].as_str().unwrap();
    assert!(
        err.contains("nothing this host runs at boot would bring back the VIP")
            && err.contains("\"persist\": false"),
        "{err}"
    );
    assert_eq!(lab.sh("web02", state), before, "nothing changed on web02");
}

/// A copy of the built-in playbooks whose real servers also get an apache config file that
/// reloads the web server when it changes (as an operator's own playbook would).
fn reload_playbooks(lab: &Lab, round: u32) {
    let builtin = std::fs::read_to_string(repo().join("playbooks/real_server.json.j2")).unwrap();
    let service = r#"  {"service": {"name": {{ web_server|tojson }}}}"#;
    assert!(
        builtin.contains(service),
        "the built-in playbook changed: adapt this test"
    );
    let file = format!(
        r##"  {{"file": {{"path": "/etc/apache2/conf-enabled/lvsprov-test.conf", "content": "# round {round}\n", "mode": "0644", "reload": {{{{ web_server|tojson }}}}}}}},"##
    );
    lab.sh(
        "client",
        "mkdir -p /tmp/reload-pb && cp /src/playbooks/* /tmp/reload-pb/",
    );
    lab.put(
        "client",
        "/tmp/reload-pb/real_server.json.j2",
        &builtin.replace(service, &format!("{file}\n{service}")),
    );
}

#[test]
fn reloading_every_web_server_at_once_warns_and_a_roll_stops_at_a_failed_director() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let conf = "cat /etc/apache2/conf-enabled/lvsprov-test.conf 2>&1";
    reload_playbooks(lab, 1);
    let (code, up) = lab.json(&[
        "up",
        "--limit",
        "real_servers",
        "--playbooks",
        "/tmp/reload-pb",
    ]);
    assert_eq!(code, 0, "{up}");
    let warning = up["warnings"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no warning: {up}"));
    assert!(
        warning.contains("web01, web02") && warning.contains("up --rolling"),
        "{warning}"
    );
    assert_eq!(lab.sh("web01", conf), "# round 1");

    // check says it before anything happens; one real server alone is no reason to warn.
    reload_playbooks(lab, 2);
    let (code, plan) = lab.json(&[
        "check",
        "--limit",
        "real_servers",
        "--playbooks",
        "/tmp/reload-pb",
    ]);
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan["warnings"][0]
            .as_str()
            .unwrap()
            .contains("would restart or reload"),
        "{plan}"
    );
    let (code, one) = lab.json(&["check", "--limit", "web01", "--playbooks", "/tmp/reload-pb"]);
    assert_eq!((code, one.get("warnings")), (2, None), "{one}");

    // A roll converges the directors first; here they are refused (no IPVS), so it stops before
    // any real server is drained or changed, and says so.
    let (code, roll) = lab.json(&["up", "--rolling", "--playbooks", "/tmp/reload-pb"]);
    assert_eq!(code, 1, "{roll}");
    let stopped = roll["rolling"]["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("no real server was touched"), "{roll}");
    assert_eq!(roll["rolling"]["batches"], serde_json::json!([]));
    for w in ["web01", "web02"] {
        assert_eq!(lab.sh(w, conf), "# round 1", "{w} untouched");
    }

    let (code, down) = lab.json(&[
        "down",
        "--limit",
        "real_servers",
        "--playbooks",
        "/tmp/reload-pb",
    ]);
    assert_eq!(code, 0, "{down}");
    assert!(lab.sh("web01", conf).contains("No such file"));
    lab.converged();
}

/// The real servers' own parts stay theirs: web01 has no `page`, so the index page it served
/// before lvsprov is byte for byte the same after `up` and after `down` (apache2's package does
/// not replace a page that is there); web02 says `"web_server": false`, so it gets the VIP on `lo`
/// and the ARP sysctls and no apache2 at all.
#[test]
fn a_real_servers_own_page_and_backend_are_left_as_they_are() {
    let Some((_g, lab)) = lab() else { return };
    lab.fresh();
    let mut inv: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join(common::CONTAINER_INVENTORY)).unwrap(),
    )
    .unwrap();
    for rs in inv["real_servers"].as_array_mut().unwrap() {
        rs.as_object_mut().unwrap().remove("page");
    }
    inv["real_servers"][1]["web_server"] = false.into();
    lab.put("client", "/tmp/own-inventory.json", &inv.to_string());
    let own = "/tmp/own-inventory.json";
    // The operator's page: no trailing newline, a CRLF, bytes apache2's default page never has.
    lab.sh(
        "web01",
        "mkdir -p /var/www/html && printf 'ours\\r\\n<b>42</b>' > /var/www/html/index.html",
    );
    let sum = || lab.sh("web01", "sha256sum < /var/www/html/index.html");
    let before = sum();
    let vip = addr("vip");
    let on_lo = |w: &str| {
        lab.sh(
            w,
            &format!("ip -o -4 addr show dev lo | grep -c '{vip}/32'"),
        )
    };

    let (code, up) = lab.json(&["up", own, "--limit", "real_servers"]);
    assert_eq!(code, 0, "{up}");
    assert_eq!(sum(), before, "web01's own page after up");
    assert_eq!(
        lab.sh("client", &format!("curl -s http://{}/", addr("web01"))),
        "ours\r\n<b>42</b>",
        "served by the apache2 lvsprov installed"
    );
    assert_eq!(
        lab.sh("web02", "dpkg-query -W -f='${Status}' apache2 2>&1; ls /var/www 2>&1"),
        "dpkg-query: no packages found matching apache2\nls: cannot access '/var/www': No such file or directory",
        "web02's backend is its own: {up}"
    );
    for w in ["web01", "web02"] {
        assert_eq!(on_lo(w), "1", "{w}: the VIP on lo");
        assert_eq!(lab.sysctl(w, "net.ipv4.conf.eth0.arp_ignore"), "1", "{w}");
    }

    let (code, down) = lab.json(&["down", own, "--limit", "real_servers"]);
    assert_eq!(code, 0, "{down}");
    assert_eq!(sum(), before, "web01's own page after down");
    for w in ["web01", "web02"] {
        assert_eq!(on_lo(w), "0", "{w}: the VIP gone from lo");
    }
    // The next story starts without a page lvsprov would keep as the host's own.
    lab.sh("web01", "rm -f /var/www/html/index.html");
}

/// A second service on port 8080: the apache2 lvsprov installs answers there with the same page
/// (a `Listen` of lvsprov's, the web server reloaded), a second `up` changes nothing, and after
/// `down` nothing listens on 8080 any more while port 80 still answers.
#[test]
fn the_web_server_serves_each_services_port_until_down() {
    let Some((_g, lab)) = lab() else { return };
    let mut inv: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join(common::CONTAINER_INVENTORY)).unwrap(),
    )
    .unwrap();
    let mut second = inv["services"][0].clone();
    second["port"] = 8080.into();
    inv["services"].as_array_mut().unwrap().push(second);
    lab.put("client", "/tmp/ports-inventory.json", &inv.to_string());
    let ports = "/tmp/ports-inventory.json";
    let page = |port: u16| {
        lab.sh(
            "client",
            &format!(
                "curl -s -m 3 http://{}:{port}/ || echo refused",
                addr("web01")
            ),
        )
    };
    // apache2 purged first: the install starts it with the packaged config, before lvsprov's
    // Listen is written, so only a reload serves 8080.
    let (code, purged) = lab.json(&["down", "--purge", "--limit", "real_servers"]);
    assert_eq!(code, 0, "{purged}");
    let (code, up) = lab.json(&["up", ports, "--limit", "real_servers"]);
    assert_eq!(code, 0, "{up}");
    assert_eq!(page(8080), page(80), "the same page on 8080: {up}");
    assert!(page(80).contains("<h1>"), "{}", page(80));
    let (code, again) = lab.json(&["up", ports, "--limit", "real_servers"]);
    assert_eq!(
        (code, again["summary"]["changes"].as_u64()),
        (0, Some(0)),
        "{again}"
    );

    let (code, down) = lab.json(&["down", ports, "--limit", "real_servers"]);
    assert_eq!(code, 0, "{down}");
    assert_eq!(page(8080), "refused", "{down}");
    assert_eq!(
        lab.sh(
            "web01",
            "ls /etc/apache2/conf-enabled/lvsprov-listen.conf 2>&1 | grep -c 'No such'"
        ),
        "1"
    );
}

/// On a terminal (a pty from `script`), `up` draws a bar per host with its elapsed time and the
/// step it is applying (k of N and the change's name), and an overall bar of hosts done; then the
/// report and the summary line.
#[test]
fn on_a_terminal_up_shows_each_hosts_step_and_the_hosts_done() {
    let Some((_g, lab)) = lab() else { return };
    // apache2 purged, so one step (its install) lasts long enough for any frame rate to show it.
    let (code, down) = lab.json(&["down", "--purge", "--limit", "real_servers"]);
    assert_eq!(code, 0, "{down}");
    lab.install_binary();
    let out = Command::new("docker")
        .args(["exec", "-w", "/src", "-e", "TERM=xterm", "lvsprov-client"])
        .args(["script", "-qec"])
        .arg(format!(
            "lvsprov up {} --limit real_servers",
            common::CONTAINER_INVENTORY
        ))
        .arg("/dev/null")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // What the screen showed, frame by frame, without the terminal's escape sequences.
    let raw = String::from_utf8_lossy(&out.stdout);
    let ansi = regex_lite::Regex::new("\x1b\\[[0-9;?]*[A-Za-z]").unwrap();
    let seen = ansi.replace_all(&raw, "").replace('\r', "\n");
    let step =
        regex_lite::Regex::new(r"(?m)^\S web0[12] +\d+s apply 1/\d+: package apache2 *$").unwrap();
    assert!(step.is_match(&seen), "no step line: {seen}");
    let done = regex_lite::Regex::new(r"(?m)^  [█░]{30} [12]/2 hosts done, \d+s").unwrap();
    assert!(done.is_match(&seen), "no overall bar: {seen}");
    assert!(
        seen.contains("up: 2 hosts, 2 changed"),
        "no summary: {seen}"
    );
}
