//! `--facts-from` and `--show-scripts`: plans from recorded facts, with no host contacted (the
//! inventory's addresses are the lab's, which nothing here answers), and the exact shell of each
//! change, secrets masked.

mod common;

use common::{lvsprov, repo, resources};
use serde_json::Value;
use std::path::PathBuf;

/// A facts folder: `host` → recorded file under tests/facts.
fn facts_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsprov-ff-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (host, recorded) in files {
        std::fs::copy(
            repo().join("tests/facts").join(recorded),
            dir.join(format!("{host}.txt")),
        )
        .unwrap();
    }
    dir
}

/// `inventories/lab.json` changed by `edit`, written into `dir` as NAME.json; its path.
fn lab_inventory_with(dir: &std::path::Path, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let text = std::fs::read_to_string(repo().join("inventories/lab.json")).unwrap();
    let mut inv: Value = serde_json::from_str(&text).unwrap();
    edit(&mut inv);
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, inv.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_plan_from_recorded_facts_shows_each_change_and_its_shell_with_secrets_masked() {
    let dir = facts_dir(
        "up",
        &[
            ("lvs01", "rhel9-lvs01.txt"),
            ("web01", "debian12-systemd-web01.txt"),
        ],
    );
    let d = dir.to_str().unwrap();
    for command in ["check", "up"] {
        let (code, out, err) = lvsprov(&[
            command,
            "inventories/lab.json",
            "--limit",
            "lvs01,web01",
            "--facts-from",
            d,
            "--show-scripts",
            "--output",
            "json",
        ]);
        assert_eq!(code, 2, "{command}: changes planned, none made: {err}");
        assert!(
            !out.contains("lvs-lab1") && !err.contains("lvs-lab1"),
            "auth_pass shown"
        );
        let r: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(r["summary"]["hosts"], 2);
        // The JSON contract: versioned, the command that ran, planned only, counts by action.
        assert_eq!(
            (
                r["version"].as_u64(),
                r["command"].as_str(),
                r["dry_run"].as_bool()
            ),
            (Some(1), Some(command), Some(true))
        );
        let sum = &r["summary"];
        let by_action = ["add", "change", "destroy"]
            .map(|k| sum[k].as_u64().unwrap())
            .iter()
            .sum::<u64>();
        assert_eq!(Some(by_action), sum["changes"].as_u64(), "{sum}");
        let changes: Vec<&Value> = r["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["changes"].as_array().unwrap())
            .collect();
        assert!(changes.len() > 10);
        assert!(changes.iter().all(|c| c["script"].is_string()), "{out}");
        let conf = changes
            .iter()
            .find(|c| c["resource"] == "file /etc/keepalived/keepalived.conf")
            .unwrap();
        let script = conf["script"].as_str().unwrap();
        assert!(
            script.contains("auth_pass ********") && script.contains("keepalived --config-test"),
            "{script}"
        );
        let page = changes
            .iter()
            .find(|c| c["resource"] == "file /var/www/html/index.html")
            .unwrap();
        assert!(page["script"]
            .as_str()
            .unwrap()
            .contains("<h1>this is kg web</h1>"));
    }
    // The human form: each shell line under its change.
    let web01 = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "inventories/lab.json",
            "--limit",
            "web01",
            "--facts-from",
            d,
            "--show-scripts",
        ];
        args.extend(extra);
        lvsprov(&args)
    };
    let (code, out, err) = web01(&[]);
    assert_eq!(code, 2, "{err}");
    // Each script as it runs, between its markers: no prompt or indent to strip before pasting.
    assert!(
        out.contains("\nsysctl -q -w net.ipv4.conf.all.arp_ignore=1\n")
            && !out.contains("$ sysctl"),
        "{out}"
    );
    let (_, json, _) = web01(&["--output", "json"]);
    let r: Value = serde_json::from_str(&json).unwrap();
    let scripts: Vec<&str> = r["hosts"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["script"].as_str().unwrap())
        .collect();
    assert_eq!(
        out.matches("script (runs as root, under set -e):").count(),
        scripts.len()
    );
    for script in scripts {
        assert!(
            out.contains(&format!(":\n{}\n      end of script", script.trim_end())),
            "{script}\nnot verbatim in\n{out}"
        );
    }
    assert!(err.contains("no host was contacted"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn down_planned_from_a_converged_hosts_facts_takes_everything_away() {
    let dir = facts_dir("down", &[("web01", "debian12-web01-converged.txt")]);
    let (code, out, err) = lvsprov(&[
        "down",
        "inventories/lab.json",
        "--limit",
        "web01",
        "--facts-from",
        dir.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(code, 2, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let planned = resources(&r["hosts"][0]);
    assert!(
        planned.contains(&"address 192.168.100.10 on lo".to_string())
            && planned.contains(&"file /var/www/html/index.html".to_string()),
        "{planned:?}"
    );
    let (code, _, _) = lvsprov(&[
        "check",
        "inventories/lab.json",
        "--limit",
        "web01",
        "--facts-from",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "a converged host's check plans nothing");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_or_garbled_facts_file_is_exit_3_naming_it() {
    let dir = facts_dir("bad", &[("web01", "debian12-web01.txt")]);
    let d = dir.to_str().unwrap();
    let (code, _, err) = lvsprov(&["check", "inventories/lab.json", "--facts-from", d]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("lvs01.txt") && err.contains("--dump-facts"),
        "names the file and how to record it: {err}"
    );
    std::fs::write(dir.join("web02.txt"), "not facts at all\n").unwrap();
    let (code, _, err) = lvsprov(&[
        "check",
        "inventories/lab.json",
        "--limit",
        "web02",
        "--facts-from",
        d,
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("web02.txt is not lvsprov facts"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A real server without `page` keeps the operator's index page: neither `up` nor `down` plans
/// it, on a fresh host or on one whose page lvsprov wrote before.
#[test]
fn a_real_server_without_page_keeps_its_own_index_page() {
    let dir = facts_dir(
        "pageless",
        &[
            ("web01", "debian12-web01-converged.txt"),
            ("web02", "debian12-systemd-web01.txt"),
        ],
    );
    let inv = lab_inventory_with(&dir, "pageless", |inv| {
        for rs in inv["real_servers"].as_array_mut().unwrap() {
            rs.as_object_mut().unwrap().remove("page");
        }
    });
    let (i, d) = (inv.as_str(), dir.to_str().unwrap());
    for command in ["check", "up", "down"] {
        let (code, out, err) = lvsprov(&[
            command,
            i,
            "--limit",
            "web01,web02",
            "--facts-from",
            d,
            "--show-scripts",
            "--output",
            "json",
        ]);
        assert!(code == 0 || code == 2, "{command}: {err}");
        assert!(
            !out.contains("index.html") && !out.contains("None"),
            "{command}: {out}"
        );
        let r: Value = serde_json::from_str(&out).unwrap();
        let planned: Vec<String> = r["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(resources)
            .collect();
        // The rest of a real server is still planned on the fresh host: the test is not vacuous.
        assert!(
            command == "down"
                || planned
                    .iter()
                    .any(|p| p.starts_with("address 192.168.100.10")),
            "{command}: {planned:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `"web_server": false`: the operator's backend serves (here on 8443), so lvsprov plans the VIP,
/// ARP and firewall part and nothing of apache2: not installed, started, given a page, or removed
/// by `down --purge` from a host where an earlier `up` did install it.
#[test]
fn a_real_server_with_its_own_backend_gets_the_vip_and_arp_part_only() {
    let dir = facts_dir(
        "own-backend",
        &[
            ("web01", "debian12-web01-converged.txt"),
            ("web02", "debian12-systemd-web01.txt"),
        ],
    );
    let inv = lab_inventory_with(&dir, "own-backend", |inv| {
        inv["services"][0]["port"] = 8443.into();
        for rs in inv["real_servers"].as_array_mut().unwrap() {
            rs.as_object_mut().unwrap().remove("page");
            rs["web_server"] = false.into();
        }
    });
    let (i, d) = (inv.as_str(), dir.to_str().unwrap());
    let planned = |args: &[&str]| -> Vec<String> {
        let mut all = args.to_vec();
        all.extend([
            i,
            "--limit",
            "web01,web02",
            "--facts-from",
            d,
            "--output",
            "json",
        ]);
        let (code, out, err) = lvsprov(&all);
        assert!(code == 0 || code == 2, "{args:?}: {err}");
        let r: Value = serde_json::from_str(&out).unwrap();
        r["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(resources)
            .collect()
    };
    let up = planned(&["check"]);
    for want in [
        "address 192.168.100.10 on lo",
        "sysctl net.ipv4.conf.all.arp_ignore",
        "service lvsprov-vip",
    ] {
        assert!(
            up.iter().any(|p| p.starts_with(want)),
            "{want} not in {up:?}"
        );
    }
    let down = planned(&["down", "--purge"]);
    for p in up.iter().chain(&down) {
        assert!(
            !p.contains("apache2") && !p.contains("index.html"),
            "{p} in {up:?} / {down:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With `auth_pass` "1", `--show-scripts` masks the password and nothing else: every other `1`
/// of the script (weights, the router id, addresses) is still there to read.
#[test]
fn a_one_character_secret_is_masked_and_every_other_1_kept() {
    let dir = facts_dir("one", &[("lvs01", "rhel9-lvs01.txt")]);
    let inv = lab_inventory_with(&dir, "one", |inv| {
        inv["keepalived"]["auth_pass"] = "1".into()
    });
    let (i, d) = (inv.as_str(), dir.to_str().unwrap());
    let (code, out, err) = lvsprov(&[
        "check",
        i,
        "--limit",
        "lvs01",
        "--facts-from",
        d,
        "--show-scripts",
        "--output",
        "json",
    ]);
    assert_eq!(code, 2, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let conf = r["hosts"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "file /etc/keepalived/keepalived.conf")
        .unwrap();
    for shown in [
        conf["script"].as_str().unwrap(),
        conf["diff"].as_str().unwrap(),
    ] {
        assert!(shown.contains("auth_pass ********"), "{shown}");
        assert!(!shown.contains("auth_pass 1"), "{shown}");
        for kept in [
            "virtual_router_id 51",
            "weight 1",
            "192.168.100.10",
            "priority 150",
        ] {
            assert!(shown.contains(kept), "{kept} masked: {shown}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A playbook that puts the password where the one masking rule would not find it is refused,
/// and the password is nowhere in what lvsprov prints.
#[test]
fn a_playbook_that_would_show_a_secret_is_refused() {
    let dir = facts_dir("leak", &[("lvs01", "rhel9-lvs01.txt")]);
    let books = dir.join("books");
    std::fs::create_dir_all(&books).unwrap();
    let conf = std::fs::read_to_string(repo().join("playbooks/keepalived.conf.j2")).unwrap();
    std::fs::write(
        books.join("keepalived.conf.j2"),
        format!("# password: {{{{ keepalived.auth_pass }}}}\n{conf}"),
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    for output in ["human", "json"] {
        let (code, out, err) = lvsprov(&[
            "check",
            "inventories/lab.json",
            "--limit",
            "lvs01",
            "--facts-from",
            d,
            "--playbooks",
            books.to_str().unwrap(),
            "--show-scripts",
            "--output",
            output,
        ]);
        assert_ne!(code, 0, "{out}{err}");
        assert!(
            !out.contains("lvs-lab1") && !err.contains("lvs-lab1"),
            "{out}{err}"
        );
        assert!(
            (out.clone() + &err).contains("a secret (keepalived.auth_pass, a router's password)"),
            "{out}{err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
