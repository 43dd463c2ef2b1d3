//! The cluster really balances: the whole story in the real-kernel lab (Debian's kernel under qemu,
//! with IPVS), driven from its client by `tests/vm/scenario.sh`; here we read what each step printed.
//! Skipped only when qemu-system-x86_64 is absent (said on stderr); `.ci/run` installs it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

struct Step {
    rc: i32,
    out: String,
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
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn answers(report: &Value, who: &str) -> u64 {
    report["distribution"][0]["answers"][who]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn the_cluster_balances_fails_over_drains_and_comes_down_clean() {
    let Some(steps) = run_scenario() else { return };

    for (name, step) in &steps {
        assert!(
            !step.out.contains("lvs-lab1"),
            "keepalived's auth_pass printed by {name}"
        );
    }
    assert!(
        steps["up"].out.contains("auth_pass ********"),
        "the first up shows keepalived.conf, masked"
    );
    let (rc, up) = json(&steps, "up");
    assert_eq!(rc, 0, "{up}");
    assert_eq!(up["summary"]["changed"], 4);
    let (rc, again) = json(&steps, "up-again");
    assert_eq!(
        (rc, again["summary"]["changes"].as_u64()),
        (0, Some(0)),
        "{again}"
    );

    let (rc, v) = json(&steps, "verify");
    assert_eq!(rc, 0, "failed checks: {:?}", failed(&v));
    assert_eq!((answers(&v, "web01"), answers(&v, "web02")), (10, 10));
    let arp = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("ARP for"))
        .unwrap();
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
    assert!(
        seq.windows(2).all(|w| w[0] != w[1]),
        "rr alternates: {seq:?}"
    );

    let (rc, down) = json(&steps, "verify-web01-down");
    assert_eq!(rc, 1);
    let names = failed(&down);
    assert!(
        names
            .iter()
            .any(|n| n == "web01: page on 192.168.100.201:80"),
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
    let (rc, back) = json(&steps, "verify-web01-back");
    assert_eq!(rc, 0, "{:?}", failed(&back));

    let (rc, fo) = json(&steps, "failover");
    assert_eq!(rc, 0, "{:?}", failed(&fo));
    let secs = fo["failover_seconds"].as_f64().unwrap();
    // With the IPVS sync daemon (on by default with two directors), established keep-alive
    // sessions through the VIP keep working across the failover.
    assert_eq!(fo["failover"]["sync"], true, "{fo}");
    let est = &fo["failover"]["established"];
    assert_eq!(
        (est["opened"].as_u64(), est["survived"].as_u64()),
        (Some(10), Some(10)),
        "{fo}"
    );
    eprintln!(
        "failover: {} of 10 established sessions survived",
        est["survived"]
    );

    let (rc, _) = json(&steps, "up-nosync");
    assert_eq!(rc, 0);
    let (_, nosync) = json(&steps, "failover-nosync");
    assert_eq!(nosync["failover"]["sync"], false, "{nosync}");
    assert_eq!(
        nosync["failover"]["established"]["survived"], 0,
        "without sync the backup resets them: {nosync}"
    );
    let (rc, _) = json(&steps, "up-sync");
    assert_eq!(rc, 0);
    assert!((0.0..30.0).contains(&secs), "{secs}");
    eprintln!("failover outage: {secs:.2} s");

    // drain waits until web01's open connections have ended, and no client request fails.
    let (rc, drain) = json(&steps, "drain");
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
        Some("200"),
        "200 requests answered 200: {clients}"
    );
    assert_eq!(clients.matches("rc=0").count(), 4, "{clients}");
    let (rc, drained) = json(&steps, "verify-drained");
    assert_eq!(rc, 0, "{:?}", failed(&drained));
    assert_eq!(
        (answers(&drained, "web01"), answers(&drained, "web02")),
        (0, 20)
    );
    let (rc, _) = json(&steps, "undrain");
    assert_eq!(rc, 0);
    let (rc, undrained) = json(&steps, "verify-undrained");
    assert_eq!(rc, 0, "{:?}", failed(&undrained));
    assert_eq!(
        (answers(&undrained, "web01"), answers(&undrained, "web02")),
        (10, 10)
    );

    let (rc, _) = json(&steps, "down");
    assert_eq!(rc, 0);
    let left = &steps["leftovers"].out;
    for host in ["lvs01", "lvs02", "web01", "web02"] {
        assert!(
            left.contains(&format!(
                "{host}: vip=0 keepalived=0 ipvs=0 state=0 arp_ignore=0 send_redirects=1"
            )),
            "{host} after down:\n{left}"
        );
    }
}
