//! A master per VIP, planned from recorded facts: each director that masters a VIP gets a VRRP
//! instance of its own in which it has the top priority, and a bad `master` is refused with its
//! JSON path before any host is contacted.

mod common;

use common::plan::{find, inventory_with, plan_for, recorded};
use lvsprov::inventory;
use lvsprov::plan::Mode;
use serde_json::{json, Value};

/// The lab with a second VIP, 192.168.100.20, mastered by lvs02.
fn two_masters(v: &mut Value) {
    let mut second = v["services"][0].clone();
    second["vip"] = json!("192.168.100.20");
    second["master"] = json!("lvs02");
    v["services"].as_array_mut().unwrap().push(second);
}

/// One instance of a keepalived.conf diff, from `vrrp_instance NAME {` to its closing brace.
fn instance<'a>(diff: &'a str, name: &str) -> &'a str {
    let start = diff
        .find(&format!("vrrp_instance {name} {{"))
        .unwrap_or_else(|| panic!("no instance {name} in\n{diff}"));
    let end = diff[start..].find("\n+}").unwrap();
    &diff[start..start + end]
}

#[test]
fn each_master_holds_its_vips_in_an_instance_of_its_own() {
    let inv = inventory_with("inventories/lab.json", two_masters);
    let instances = inv.vrrp_instances();
    assert_eq!(
        instances
            .iter()
            .map(|i| (i.name.as_str(), i.vrid, i.master.as_str()))
            .collect::<Vec<_>>(),
        [
            ("VI_LVSPROV", 51, "lvs01"),
            ("VI_LVSPROV_lvs02", 52, "lvs02")
        ]
    );
    let conf = |host: &str| {
        find(
            &plan_for(&inv, host, &recorded("rhel9-lvs01.txt"), Mode::Up).unwrap(),
            "file /etc/keepalived/keepalived.conf",
        )
        .diff
        .clone()
    };
    let (one, two) = (conf("lvs01"), conf("lvs02"));
    for (diff, first, second) in [(&one, "MASTER", "BACKUP"), (&two, "BACKUP", "MASTER")] {
        let a = instance(diff, "VI_LVSPROV");
        let b = instance(diff, "VI_LVSPROV_lvs02");
        assert!(a.contains(&format!("state {first}\n")), "{a}");
        assert!(b.contains(&format!("state {second}\n")), "{b}");
        assert!(a.contains("virtual_router_id 51\n") && b.contains("virtual_router_id 52\n"));
        assert!(a.contains("192.168.100.10/32 dev ens33 label ens33:0") && !a.contains(".20/"));
        assert!(b.contains("192.168.100.20/32 dev ens33 label ens33:1") && !b.contains(".10/"));
    }
    // The master takes the top priority (lvs01's 150) in its own instance, and lvs01 lvs02's.
    assert!(instance(&one, "VI_LVSPROV").contains("priority 150\n"));
    assert!(instance(&one, "VI_LVSPROV_lvs02").contains("priority 100\n"));
    assert!(instance(&two, "VI_LVSPROV").contains("priority 100\n"));
    assert!(instance(&two, "VI_LVSPROV_lvs02").contains("priority 150\n"));
    // Both VIPs balanced on each director, whoever holds them.
    assert_eq!(one.matches("+virtual_server ").count(), 2, "{one}");
}

#[test]
fn every_vip_mastered_by_the_top_director_is_one_instance_as_before() {
    let inv = inventory_with("inventories/lab.json", |v| {
        two_masters(v);
        v["services"][1]["master"] = json!("lvs01");
    });
    let names: Vec<String> = inv.vrrp_instances().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["VI_LVSPROV"]);
}

#[test]
fn a_bad_master_is_refused_with_its_path_and_the_fix() {
    let text = std::fs::read_to_string(common::repo().join("inventories/lab.json")).unwrap();
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(&text).unwrap();
        two_masters(&mut v);
        edit(&mut v);
        inventory::parse(&v.to_string())
            .unwrap_err()
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        refused(&|v| v["services"][1]["master"] = json!("web01")),
        ["$.services[1].master: \"web01\" is not a director; name one of: lvs01, lvs02"]
    );
    let shared = refused(&|v| {
        let mut third = v["services"][1].clone();
        third["protocol"] = json!("udp");
        third["master"] = json!("lvs01");
        v["services"].as_array_mut().unwrap().push(third);
    });
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert!(
        shared[0].starts_with("$.services[2].master: $.services[1] on the same VIP names lvs02"),
        "{shared:?}"
    );
    assert_eq!(
        refused(&|v| v["keepalived"]["virtual_router_id"] = json!(255)),
        ["$.keepalived.virtual_router_id: each master's VRRP instance takes the next id after it (up to 256); VRRP ids end at 255, so use 254 or less"]
    );
}

/// `drain lvs01` marks lvs01 itself: its priority in every instance drops to 1, below every
/// peer's, so they take its VIPs; the peers' own configuration is untouched.
#[test]
fn a_drained_director_runs_the_lowest_priority_in_every_instance() {
    let inv = inventory_with("inventories/lab.json", two_masters);
    let mut drained = recorded("rhel9-lvs01.txt");
    drained.drained.insert("lvs01".into());
    let diff = find(
        &plan_for(&inv, "lvs01", &drained, Mode::Up).unwrap(),
        "file /etc/keepalived/keepalived.conf",
    )
    .diff
    .clone();
    for name in ["VI_LVSPROV", "VI_LVSPROV_lvs02"] {
        assert!(instance(&diff, name).contains("priority 1\n"), "{diff}");
    }
    // The mark lives on lvs01 only: lvs02's facts do not carry it, nor does its config change.
    let peer = find(
        &plan_for(&inv, "lvs02", &recorded("rhel9-lvs01.txt"), Mode::Up).unwrap(),
        "file /etc/keepalived/keepalived.conf",
    )
    .diff
    .clone();
    assert!(instance(&peer, "VI_LVSPROV").contains("priority 100\n"));
}

/// A director with no peer to take its VIPs cannot be drained: refused before any host is
/// contacted (exit 3), saying why.
#[test]
fn a_lone_director_cannot_be_drained() {
    let text = std::fs::read_to_string(common::repo().join("inventories/lab.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["directors"].as_array_mut().unwrap().truncate(1);
    v.as_object_mut().unwrap().remove("keepalived");
    let path = std::env::temp_dir().join(format!("lvsprov-lone-{}.json", std::process::id()));
    std::fs::write(&path, v.to_string()).unwrap();
    let (code, _, err) = common::lvsprov(&["drain", "lvs01", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("needs keepalived and another director"),
        "{err}"
    );
}

/// With `preempt_delay`, every instance starts as BACKUP (keepalived honours the delay only
/// then) and carries the delay; the master still has the top priority. Without it, as before.
#[test]
fn preempt_delay_makes_every_instance_start_as_backup_and_wait() {
    let inv = inventory_with("inventories/lab.json", |v| {
        two_masters(v);
        v["keepalived"]["preempt_delay"] = json!(30);
    });
    for host in ["lvs01", "lvs02"] {
        let d = plan_for(&inv, host, &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
        let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
        for name in ["VI_LVSPROV", "VI_LVSPROV_lvs02"] {
            let i = instance(conf, name);
            assert!(i.contains("+    state BACKUP\n"), "{host} {name}: {i}");
            assert!(i.contains("+    preempt_delay 30\n"), "{host} {name}: {i}");
        }
        let own = if host == "lvs01" {
            "VI_LVSPROV {"
        } else {
            "VI_LVSPROV_lvs02 {"
        };
        let mine = instance(conf, own.trim_end_matches(" {"));
        assert!(mine.contains("+    priority 150\n"), "{host}: {mine}");
    }
    let plain = inventory_with("inventories/lab.json", |_| {});
    let d = plan_for(&plain, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    assert!(
        conf.contains("+    state MASTER\n") && !conf.contains("preempt_delay"),
        "{conf}"
    );
    let refused = common::plan::problems("inventories/lab.json", |v| {
        v["keepalived"]["preempt_delay"] = json!(1001)
    });
    assert_eq!(
        refused,
        ["$.keepalived.preempt_delay: 1001 is out of range; give seconds from 0 to 1000 (keepalived's limit), e.g. 30"]
    );
}
