//! keepalived's answers to failing real servers, planned without a host: `sorry_server`,
//! `inhibit_on_failure` and `quorum` in each director's keepalived.conf, and the sorry server
//! made ready (the VIP on `lo`, the ARP sysctls) like a member. The live behaviour (all real
//! servers down → the sorry server answers through the VIP) is in tests/vm.rs.

mod common;

use common::plan::{find, inventory_with, names, plan_for, recorded};
use lvsprov::inventory;
use lvsprov::plan::Mode;

fn with_fallbacks(v: &mut serde_json::Value) {
    let s = &mut v["services"][0];
    s["real_servers"] = serde_json::json!([{ "name": "web01" }]);
    s["sorry_server"] = "web02".into();
    s["inhibit_on_failure"] = true.into();
    s["quorum"] = 1.into();
}

#[test]
fn the_directors_keepalived_conf_names_the_sorry_server_and_the_inhibit() {
    let inv = inventory_with("inventories/lab.json", with_fallbacks);
    let d = plan_for(&inv, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in [
        "+    quorum 1\n",
        "+    sorry_server 192.168.100.202 80\n",
        "+    sorry_server_lvs_method DR\n",
        "+    real_server 192.168.100.201 80 {\n+        weight 1\n+        inhibit_on_failure\n",
    ] {
        assert!(conf.contains(want), "{want:?} not in {conf}");
    }
    assert!(
        !conf.contains("real_server 192.168.100.202"),
        "the sorry server is not in the pool: {conf}"
    );
    // Without them, none of the keywords.
    let plain = inventory_with("inventories/lab.json", |_| {});
    let d = plan_for(&plain, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for word in ["sorry_server", "inhibit_on_failure", "quorum"] {
        assert!(!conf.contains(word), "{word} in {conf}");
    }
}

/// keepalived may send the service's clients to the sorry server at any moment, so it carries
/// the VIP on `lo` with the ARP sysctls set first, though it is in no pool.
#[test]
fn the_sorry_server_is_ready_for_the_vip_like_a_member() {
    let inv = inventory_with("inventories/lab.json", with_fallbacks);
    let web02 = names(
        &plan_for(
            &inv,
            "web02",
            &recorded("debian12-systemd-web01.txt"),
            Mode::Up,
        )
        .unwrap(),
    );
    let at = |r: &str| web02.iter().position(|n| n == r);
    let (arp, vip) = (
        at("sysctl net.ipv4.conf.all.arp_ignore"),
        at("address 192.168.100.10 on lo"),
    );
    assert!(
        arp.is_some() && vip.is_some() && arp < vip,
        "ARP first, then the VIP: {web02:?}"
    );
}

#[test]
fn bad_fallbacks_are_refused_with_their_path_and_the_fix() {
    let text = std::fs::read_to_string(common::repo().join("inventories/lab.json")).unwrap();
    let refused = |edit: &dyn Fn(&mut serde_json::Value)| -> Vec<String> {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        with_fallbacks(&mut v);
        edit(&mut v);
        inventory::parse(&v.to_string())
            .unwrap_err()
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    };
    let one = |edit: &dyn Fn(&mut serde_json::Value), start: &str| {
        let got = refused(edit);
        assert!(
            got.len() == 1 && got[0].starts_with(start),
            "{start}: {got:?}"
        );
    };
    one(
        &|v| v["services"][0]["sorry_server"] = "web09".into(),
        "$.services[0].sorry_server: \"web09\" is not in $.real_servers",
    );
    one(
        &|v| v["services"][0]["sorry_server"] = "web01".into(),
        "$.services[0].sorry_server: web01 is already one of this service's real servers",
    );
    one(
        &|v| v["services"][0]["sorry_server"] = "lvs02".into(),
        "$.services[0].sorry_server: lvs02 is a director",
    );
    one(
        &|v| v["services"][0]["quorum"] = 2.into(),
        "$.services[0].quorum: 2 is more than this service's real servers weigh together (1)",
    );
    one(
        &|v| v["services"][0]["quorum"] = 0.into(),
        "$.services[0].quorum: 0 would keep the service up",
    );
    // A lone director runs no keepalived: nothing would act on them.
    let lone = refused(&|v| {
        v.as_object_mut().unwrap().remove("keepalived");
        v["directors"].as_array_mut().unwrap().truncate(1);
    });
    assert_eq!(
        lone.iter()
            .map(|p| p.split(':').next().unwrap())
            .collect::<Vec<_>>(),
        [
            "$.services[0].sorry_server",
            "$.services[0].inhibit_on_failure",
            "$.services[0].quorum"
        ],
        "{lone:?}"
    );
}
