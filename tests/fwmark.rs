//! Services over several ports, planned without a host: one IPVS service on a firewall mark
//! (keepalived's `virtual_server fwmark N`), the mark set by an nftables table of lvsprov's on
//! the directors, every port opened and served on the real servers. The live behaviour (a client
//! keeps its real server on both ports) is in tests/vm.rs.

mod common;

use common::plan::{find, inventory_with, names, plan_for, recorded, refused_once};
use lvsprov::plan::Mode;
use serde_json::json;

fn multi_port(v: &mut serde_json::Value) {
    let s = &mut v["services"][0];
    s.as_object_mut().unwrap().remove("port");
    s["ports"] = json!([80, 8080]);
    s["persistence_timeout"] = 300.into();
}

#[test]
fn the_directors_balance_the_mark_their_own_table_sets() {
    let inv = inventory_with("inventories/lab.json", multi_port);
    let d = plan_for(&inv, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in [
        "+virtual_server fwmark 1 {\n",
        "+    persistence_timeout 300\n",
        "+    real_server 192.168.100.201 {\n",
        "+            connect_port 80\n",
    ] {
        assert!(conf.contains(want), "{want:?} not in {conf}");
    }
    assert!(
        !conf.contains("virtual_server 192.168.100.10") && !conf.contains("protocol TCP"),
        "keepalived ignores (and warns about) a mark's protocol: {conf}"
    );
    let nft = &find(&d, "file /etc/lvsprov/fwmark.nft").diff;
    assert!(
        nft.contains("+    ip daddr 192.168.100.10 tcp dport { 80, 8080 } meta mark set 1\n"),
        "{nft}"
    );
    let all = names(&d);
    for want in [
        "service lvsprov-fwmark",
        "file /etc/systemd/system/lvsprov-fwmark.service",
    ] {
        assert!(all.iter().any(|n| n == want), "{want} not in {all:?}");
    }
    // Without `ports`, nothing of it (and nothing to retire on a host that never had it).
    let plain = inventory_with("inventories/lab.json", |_| {});
    let d = plan_for(&plain, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    assert!(
        !names(&d).iter().any(|n| n.contains("fwmark")),
        "{:?}",
        names(&d)
    );
}

#[test]
fn every_port_is_opened_and_served_on_the_real_servers() {
    let inv = inventory_with("inventories/lab.json", multi_port);
    let d = plan_for(
        &inv,
        "web01",
        &recorded("debian12-systemd-web01.txt"),
        Mode::Up,
    )
    .unwrap();
    assert!(
        find(&d, "file /etc/apache2/conf-enabled/lvsprov-listen.conf")
            .diff
            .contains("+Listen 8080\n")
    );
}

/// A lone director (no keepalived) writes the IPVS rules itself: the service is the mark.
#[test]
fn a_lone_director_adds_the_mark_as_its_ipvs_service() {
    let inv = inventory_with("inventories/lab.json", |v| {
        multi_port(v);
        v.as_object_mut().unwrap().remove("keepalived");
        v["directors"].as_array_mut().unwrap().truncate(1);
    });
    let d = plan_for(&inv, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let scripts: String = d.iter().map(|c| c.script.to_string()).collect();
    assert!(scripts.contains("-A -f 1 -s rr -p 300"), "{scripts}");
    assert!(
        scripts.contains("-a -f 1 -r 192.168.100.201:0 -g -w 1"),
        "{scripts}"
    );
}

#[test]
fn rhel7_directors_are_refused_the_mark() {
    let inv = inventory_with("inventories/lab.json", multi_port);
    let refused = plan_for(&inv, "lvs01", &recorded("rhel7/lvs01.txt"), Mode::Up).unwrap_err();
    assert!(
        refused.contains("needs nftables and systemd on the directors"),
        "{refused}"
    );
}

#[test]
fn bad_ports_are_refused_with_their_path_and_the_fix() {
    let one = |edit: &dyn Fn(&mut serde_json::Value), start: &str| {
        refused_once("inventories/lab.json", multi_port, edit, start)
    };
    one(
        &|v| v["services"][0]["port"] = 80.into(),
        "$.services[0].ports: a service has \"port\" or \"ports\", not both",
    );
    one(
        &|v| v["services"][0]["ports"] = json!([]),
        "$.services[0].ports: empty; list the ports",
    );
    one(
        &|v| v["services"][0]["ports"] = json!([80, 80]),
        "$.services[0].ports: a port is listed twice",
    );
    one(
        &|v| {
            v["services"][0].as_object_mut().unwrap().remove("ports");
        },
        "$.services[0].port: missing; give the service's \"port\"",
    );
    one(
        &|v| v["services"][0]["fwmark"] = 0.into(),
        "$.services[0].fwmark: 0 marks nothing",
    );
    one(
        &|v| {
            let mut s = v["services"][0].clone();
            s["ports"] = json!([8080, 9000]);
            v["services"].as_array_mut().unwrap().push(s);
        },
        "$.services[1]: 192.168.100.10:8080 is already $.services[0]",
    );
    one(
        &|v| {
            let mut s = v["services"][0].clone();
            s["ports"] = json!([8081, 9000]);
            s["fwmark"] = 7.into();
            v["services"][0]["fwmark"] = 7.into();
            v["services"].as_array_mut().unwrap().push(s);
        },
        "$.services[1].fwmark: 7 is another service's mark already",
    );
    // An explicit mark is kept; the next service takes the lowest free one.
    let inv = inventory_with("inventories/lab.json", |v| {
        multi_port(v);
        v["services"][0]["fwmark"] = 1.into();
        let mut s = v["services"][0].clone();
        s["ports"] = json!([8081, 9000]);
        s.as_object_mut().unwrap().remove("fwmark");
        v["services"].as_array_mut().unwrap().push(s);
    });
    assert_eq!(
        inv.services.iter().map(|s| s.fwmark).collect::<Vec<_>>(),
        [Some(1), Some(2)]
    );
}
