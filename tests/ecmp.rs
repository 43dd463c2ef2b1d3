//! ECMP mode planned without a host: each director carries the VIP on `lo`, balances with `mh`
//! over address and port, and announces the VIP by BGP (BIRD) only while lvsprov's announcer
//! finds it able to serve; no VRRP anywhere. The live cluster (traffic split over both
//! directors through a router, a power cut, a drain) is in tests/vm.rs.

mod common;

use common::plan::{find, inventory, names, plan_for, problems, recorded, refused_once};
use lvsprov::plan::Mode;
use serde_json::json;

const INV: &str = "inventories/lab-ecmp.json";

/// A Debian 13 director with systemd, its ip_vs module not loaded yet, and the ARP sysctls an
/// ECMP director sets (every Linux host has them; this recording asked for a VRRP director's).
fn debian_director() -> lvsprov::facts::Facts {
    let text = std::fs::read_to_string(common::repo().join("tests/facts/debian13-lvs02.txt"))
        .unwrap()
        .replace("@@ipvs\nabsent", "@@ipvs\nmodule");
    let arp: String = ["all", "lo", "eth0"]
        .iter()
        .map(|d| format!("net/ipv4/conf/{d}/arp_ignore:0\nnet/ipv4/conf/{d}/arp_announce:0\n"))
        .collect();
    lvsprov::facts::parse(&text.replace("@@packages\n", &format!("{arp}@@packages\n"))).unwrap()
}

#[test]
fn a_director_announces_the_vip_from_lo_and_runs_no_vrrp() {
    let inv = inventory(INV);
    let d = plan_for(&inv, "lvs02", &debian_director(), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in [
        "+    lvs_sched mh\n",
        "+    mh-port\n",
        "+virtual_server 192.168.100.10 80 {\n",
    ] {
        assert!(conf.contains(want), "{want:?} not in {conf}");
    }
    assert!(!conf.contains("vrrp_instance"), "{conf}");
    let bird = &find(&d, "file /etc/bird/bird.conf").diff;
    for want in [
        "+router id 192.168.100.12;\n",
        "+protocol static lvsprov_vip0 {\n",
        "+    disabled;\n",
        "+    route 192.168.100.10/32 blackhole;\n",
        "+    local 192.168.100.12 as 65010;\n",
        "+    neighbor 192.168.100.254 as 65000;\n",
        "+    bfd on;\n",
        "+        export where source = RTS_STATIC;\n",
    ] {
        assert!(bird.contains(want), "{want:?} not in {bird}");
    }
    let announce = &find(&d, "file /etc/lvsprov/announce").diff;
    for want in [
        "+  grep -qxF lvs02 /var/lib/lvsprov/drained",
        "+  [ \"$(healthy 'TCP 192.168.100.10:80')\" -ge 1 ] || want=no\n",
        "birdc enable lvsprov_vip0",
    ] {
        assert!(announce.contains(want), "{want:?} not in {announce}");
    }
    let all = names(&d);
    for want in [
        "address 192.168.100.10 on lo",
        "sysctl net.ipv4.vs.sloppy_tcp",
        "sysctl net.ipv4.conf.all.arp_ignore",
        "service bird",
        "service lvsprov-announce",
        "package bird2",
    ] {
        assert!(
            all.iter().any(|n| n.starts_with(want)),
            "{want} not in {all:?}"
        );
    }
    let sysctls = &find(&d, "file /etc/sysctl.d/91-lvsprov-ipvs.conf").diff;
    assert!(sysctls.contains("+net.ipv4.vs.sloppy_tcp = 1"), "{sysctls}");
    assert!(
        !all.iter()
            .any(|n| n.contains("eth0:0") || n.contains("ipvs_sync ")),
        "{all:?}"
    );
}

#[test]
fn real_servers_are_as_in_any_lvs_dr_cluster() {
    let ecmp = plan_for(
        &inventory(INV),
        "web01",
        &recorded("debian12-systemd-web01.txt"),
        Mode::Up,
    )
    .unwrap();
    let vrrp = plan_for(
        &inventory("inventories/lab.json"),
        "web01",
        &recorded("debian12-systemd-web01.txt"),
        Mode::Up,
    )
    .unwrap();
    assert_eq!(names(&ecmp), names(&vrrp));
}

#[test]
fn a_rhel_director_is_refused_with_the_way_out() {
    let err = plan_for(
        &inventory(INV),
        "lvs01",
        &recorded("rhel9/lvs01.txt"),
        Mode::Up,
    )
    .unwrap_err();
    assert!(err.contains("ECMP directors need Debian"), "{err}");
}

#[test]
fn what_ecmp_cannot_be_is_refused_with_its_path() {
    let none = |_: &mut serde_json::Value| {};
    assert_eq!(problems(INV, none), Vec::<String>::new());
    type Edit = &'static dyn Fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 9] = [
        (
            &|v| v["keepalived"] = json!({"virtual_router_id": 51, "auth_pass": "x"}),
            "$.keepalived: ECMP directors run no VRRP",
        ),
        (
            &|v| v["ecmp"]["asn"] = 0.into(),
            "$.ecmp.asn: 0 is not an AS number",
        ),
        (
            &|v| v["ecmp"]["routers"] = json!([]),
            "$.ecmp.routers: no routers",
        ),
        (
            &|v| v["ecmp"]["routers"][0]["asn"] = 65010.into(),
            "$.ecmp.routers[0].asn: 65010 is the directors' own AS",
        ),
        (
            &|v| v["ecmp"]["routers"][0]["address"] = "10.0.0.1".into(),
            "$.ecmp.routers[0].address: 10.0.0.1 is outside $.network",
        ),
        (
            &|v| v["ecmp"]["routers"][0]["address"] = "192.168.100.11".into(),
            "$.ecmp.routers[0].address: 192.168.100.11 is lvs01's address",
        ),
        (
            &|v| v["services"][0]["scheduler"] = "rr".into(),
            "$.services[0].scheduler: \"rr\": with ECMP every director must send a flow",
        ),
        (
            &|v| v["services"][0]["master"] = "lvs01".into(),
            "$.services[0].master: with ECMP every director serves every VIP",
        ),
        (
            &|v| v["ecmp"]["routers"][0]["bgp"] = true.into(),
            "$.ecmp.routers[0].bgp: unknown field",
        ),
    ];
    for (edit, start) in cases {
        refused_once(INV, none, edit, start);
    }
}
