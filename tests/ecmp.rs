//! ECMP mode planned without a host: each director carries the VIP on `lo`, balances with `mh`
//! over address and port, and announces the VIP by BGP (BIRD) only while lvsprov's announcer
//! finds it able to serve; no VRRP anywhere. The live cluster (traffic split over both
//! directors through a router, a power cut, a drain) is in tests/vm.rs.

mod common;

use common::plan::{
    find, inventory, inventory_with, names, plan_for, problems, recorded, refused_once,
};
use lvsprov::commands::status::build;
use lvsprov::facts::Facts;
use lvsprov::plan::Mode;
use serde_json::json;

const INV: &str = "inventories/lab-ecmp.json";

use common::plan::debian_ecmp_director as debian_director;

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
        // A drain's first seconds: the same route with the graceful-shutdown community.
        "+protocol static lvsprov_vip0_gshut {\n",
        "+    route 192.168.100.10/32 blackhole { bgp_community.add((65535, 0)); };\n",
    ] {
        assert!(bird.contains(want), "{want:?} not in {bird}");
    }
    let announce = &find(&d, "file /etc/lvsprov/announce").diff;
    for want in [
        "+  grep -qxF lvs02 /var/lib/lvsprov/drained",
        "+  [ \"$(healthy 'TCP 192.168.100.10:80')\" -ge 1 ] || able=no\n",
        "+  [ -z \"$protocols\" ] || steer lvsprov_vip0 lvsprov_vip0_gshut 192.168.100.10 $able\n",
        "withdrawing it in 5 s",
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

/// Debian's bird2 ships `/etc/bird/bird.conf`; lvsprov keeps a copy before it first writes it.
/// A VRRP cluster's `up` (which retires ECMP's BIRD config) and any `down` leave the package's
/// file alone when lvsprov never wrote it: removed, BIRD's next reload fails (`down` of an ECMP
/// cluster on hosts an earlier VRRP `up` had stripped of it failed on `Job for bird.service failed`).
#[test]
fn the_packages_bird_conf_is_left_alone_unless_lvsprov_wrote_it() {
    let bird = "/etc/bird/bird.conf";
    let mut facts = debian_director();
    facts.files.insert(
        bird.into(),
        lvsprov::facts::files::FileFact::from_bytes(
            "640",
            b"log syslog all;\nprotocol device {\n}\n",
        ),
    );
    let down = Mode::Down(Default::default());
    for (inv, mode) in [
        ("inventories/lab.json", Mode::Up),
        ("inventories/lab.json", down),
        (INV, down),
    ] {
        let plan = plan_for(&inventory(inv), "lvs02", &facts, mode).unwrap();
        assert!(
            !names(&plan).contains(&format!("file {bird}")),
            "{inv}: {:#?}",
            names(&plan)
        );
    }
    // Written by an ECMP `up` (a copy kept), `down` and a VRRP `up` put the package's back.
    facts.backups.insert(bird.into());
    for (inv, mode) in [("inventories/lab.json", Mode::Up), (INV, down)] {
        let plan = plan_for(&inventory(inv), "lvs02", &facts, mode).unwrap();
        let c = find(&plan, &format!("file {bird}"));
        assert!(
            c.diff.contains("restored to the copy kept"),
            "{inv}: {}",
            c.diff
        );
    }
}

/// A router's `ssh` is where `verify` logs in to read its routes: the inventory's `ssh` with the
/// block's own fields over it, the router's address unless `host` says otherwise, never sudo;
/// without the block `verify` does not log in.
#[test]
fn a_routers_ssh_block_takes_the_inventorys_ssh_and_never_sudo() {
    let inv = inventory_with(INV, |v| {
        v["ssh"]["user"] = "deploy".into();
        v["ecmp"]["routers"][0]["ssh"] = json!({});
    });
    let t = inv.ecmp.as_ref().unwrap().routers[0].ssh.clone().unwrap();
    assert_eq!(
        (t.user.as_str(), t.host.as_str(), t.port, t.sudo),
        ("deploy", "192.168.100.254", 22, false)
    );
    let inv = inventory_with(INV, |v| {
        v["ecmp"]["routers"][0]["ssh"] = json!({"user": "ops", "host": "rtr01-mgmt", "port": 2222});
    });
    let t = inv.ecmp.as_ref().unwrap().routers[0].ssh.clone().unwrap();
    assert_eq!(
        (t.user.as_str(), t.host.as_str(), t.port, t.sudo),
        ("ops", "rtr01-mgmt", 2222, false)
    );
    let inv = inventory_with(INV, |v| {
        v["ecmp"]["routers"][0]
            .as_object_mut()
            .unwrap()
            .remove("ssh");
    });
    assert!(inv.ecmp.as_ref().unwrap().routers[0].ssh.is_none());
}

/// A BGP session's password is in bird.conf and nowhere lvsprov shows text: the diff and the
/// script as `--show-scripts` prints it carry the mask; bird.conf keeps bird2's owner and mode
/// (bird:bird 0640), so only BIRD reads it.
#[test]
fn a_sessions_password_reaches_bird_conf_only() {
    let text = std::fs::read_to_string(common::repo().join(INV)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["ecmp"]["routers"][0]["password"] = "s3cret-Pw".into();
    let inv = lvsprov::inventory::parse(&v.to_string()).unwrap();
    assert!(!format!("{:?}", inv.ecmp).contains("s3cret-Pw"));
    let d = plan_for(&inv, "lvs02", &debian_director(), Mode::Up).unwrap();
    let bird = find(&d, "file /etc/bird/bird.conf");
    let shown = lvsprov::secret::mask(bird.script.as_str());
    assert!(bird.script.as_str().contains("    password \"s3cret-Pw\";"));
    assert!(
        bird.diff.contains("+    password ********\n"),
        "{}",
        bird.diff
    );
    assert!(
        !bird.diff.contains("s3cret")
            && !shown.contains("s3cret")
            && shown.contains("password ********"),
        "{shown}"
    );
    assert!(
        shown.contains("chown --reference=/etc/bird/bird.conf"),
        "{shown}"
    );
}

/// `graceful_shutdown: 0`: a drain withdraws at once, and bird.conf has no second announcement.
#[test]
fn without_graceful_shutdown_a_drain_withdraws_at_once() {
    let text = std::fs::read_to_string(common::repo().join(INV)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["ecmp"]["graceful_shutdown"] = 0.into();
    let inv = lvsprov::inventory::parse(&v.to_string()).unwrap();
    let d = plan_for(&inv, "lvs02", &debian_director(), Mode::Up).unwrap();
    let bird = &find(&d, "file /etc/bird/bird.conf").diff;
    assert!(
        bird.contains("+protocol static lvsprov_vip0 {") && !bird.contains("gshut"),
        "{bird}"
    );
    let announce = &find(&d, "file /etc/lvsprov/announce").diff;
    assert!(announce.contains("[ 0 -gt 0 ]"), "{announce}");
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
    let cases: [(Edit, &str); 13] = [
        (
            &|v| v["ecmp"]["graceful_shutdown"] = 601.into(),
            "$.ecmp.graceful_shutdown: 601 s would hold a drain",
        ),
        (
            &|v| v["ecmp"]["routers"][0]["password"] = "two words".into(),
            "$.ecmp.routers[0].password: give 1 to 80 printable characters",
        ),
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
        (
            &|v| v["ecmp"]["routers"][0]["ssh"] = json!({"sudo": true}),
            "$.ecmp.routers[0].ssh.sudo: a router's routes are read without root",
        ),
        (
            &|v| v["ecmp"]["routers"][0]["ssh"] = json!({"user": "no one"}),
            "$.ecmp.routers[0].ssh.user: \"no one\" is not a valid user name",
        ),
    ];
    for (edit, start) in cases {
        refused_once(INV, none, edit, start);
    }
}

/// `status` of an ECMP cluster: each director's BGP sessions and the VIPs it announces; two
/// directors announcing a VIP is the point, not a split brain; a session down is a problem.
#[test]
fn status_shows_each_directors_sessions_and_announcements() {
    let inv = inventory(INV);
    let bird = |session: &str, vip: &str| {
        let out = format!(
            "BIRD 2.0.12 ready.\nName Proto Table State Since Info\n\
             lvsprov_vip0 Static master4 {vip} 10:00:00.000\n\
             lvsprov_peer0 BGP --- {session}\n"
        );
        let mut f = debian_director();
        f.bgp = lvsprov::facts::bgp::parse(&out.lines().collect::<Vec<_>>());
        f
    };
    let seen = |a: Facts, b: Facts| {
        vec![
            (inv.host("lvs01").unwrap().clone(), Ok(a)),
            (inv.host("lvs02").unwrap().clone(), Ok(b)),
        ]
    };
    let both = build(
        &inv,
        &seen(
            bird("up 10:00:00.000 Established", "up"),
            bird("up 10:00:00.000 Established", "up"),
        ),
    );
    for d in &both.directors {
        assert_eq!(d.holds, ["192.168.100.10"], "{}", both.human());
        assert_eq!(d.bgp["192.168.100.254"], "Established");
    }
    assert!(
        !both.problems.iter().any(|p| p.contains("split brain")),
        "{:?}",
        both.problems
    );
    assert!(
        both.human()
            .contains("BGP [192.168.100.254 Established], announces [192.168.100.10]"),
        "{}",
        both.human()
    );
    let one = build(
        &inv,
        &seen(
            bird("up 10:00:00.000 Established", "up"),
            bird(
                "start 10:00:00.000 Active Socket: Connection refused",
                "down",
            ),
        ),
    );
    assert!(one.directors[1].holds.is_empty());
    assert!(
        one.problems
            .iter()
            .any(|p| p.starts_with("lvs02: BGP session with 192.168.100.254 is Active")),
        "{:?}",
        one.problems
    );
    assert!(one.prometheus().contains(
        "lvsprov_bgp_session_established{director=\"lvs02\",router=\"192.168.100.254\"} 0"
    ));

    // Each director counts the flows the routers gave it: the service's numbers are the sum.
    let counted = |conns: u64, web01: (u64, u64, u64)| {
        let (active, inactive, total) = web01;
        let table = format!(
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             TCP  192.168.100.10:80 mh (mh-port)\n  -> 192.168.100.201:80 Route 1 {active} {inactive}\n"
        );
        let stats = format!(
            "TCP  192.168.100.10:80 {conns} 10 0 100 0\n  -> 192.168.100.201:80 {total} 10 0 100 0\n"
        );
        let mut f = bird("up 10:00:00.000 Established", "up");
        let list: Vec<&str> = ["read"].into_iter().chain(table.lines()).collect();
        let stats: Vec<&str> = stats.lines().collect();
        f.live = lvsprov::facts::live::parse(&list, &stats, &[], &["1"], &["active"]);
        f
    };
    let summed = build(&inv, &seen(counted(12, (2, 5, 7)), counted(8, (1, 4, 5))));
    let web01 = &summed.services[0].real_servers[0];
    assert_eq!(
        (
            summed.services[0].conns_total,
            web01.active,
            web01.inactive,
            web01.conns_total
        ),
        (20, 3, 9, 12)
    );
}
