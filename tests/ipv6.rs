//! IPv6 VIPs planned without a host: the lab's inventory made dual stack (`network6`, each host's
//! `address6`, the service again on fd00:100::10). The live cluster (pages through the VIP, the
//! neighbour-discovery check) is in tests/vm.rs.

mod common;

use common::plan::{find, inventory_with, plan_for, problems, recorded, refused_once};
use lvsprov::plan::Mode;
use serde_json::{json, Value};

fn dual_stack(v: &mut Value) {
    common::lab_ipv6(v);
    let mut v6 = v["services"][0].clone();
    v6["vip"] = "fd00:100::10".into();
    v["services"].as_array_mut().unwrap().push(v6);
}

#[test]
fn keepalived_moves_the_ipv6_vip_with_the_instance_and_balances_it_to_ipv6_real_servers() {
    let inv = inventory_with("inventories/lab.json", dual_stack);
    let d = plan_for(&inv, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in [
        // The IPv4 VIP exactly as without IPv6: its label keeps its number.
        "+        192.168.100.10/32 dev ens33 label ens33:0\n",
        "+    virtual_ipaddress_excluded {\n+        fd00:100::10/128 dev ens33\n+    }\n",
        "+virtual_server fd00:100::10 80 {\n",
        "+    real_server fd00:100::201 80 {\n",
        "+    real_server fd00:100::202 80 {\n",
        "+virtual_server 192.168.100.10 80 {\n",
        "+    real_server 192.168.100.201 80 {\n",
    ] {
        assert!(conf.contains(want), "{want:?} not in {conf}");
    }
    assert!(!conf.contains("fd00:100::10/32"), "{conf}");
}

#[test]
fn a_real_server_gets_the_ipv6_vip_on_lo_as_128_kept_at_boot_by_lvsprovs_unit() {
    let inv = inventory_with("inventories/lab.json", dual_stack);
    let facts = recorded("debian12-systemd-web01.txt");
    let d = plan_for(&inv, "web01", &facts, Mode::Up).unwrap();
    let v6 = find(&d, "address fd00:100::10 on lo");
    assert!(v6.diff.contains("fd00:100::10/128 on lo"), "{}", v6.diff);
    assert!(
        v6.script
            .as_str()
            .contains("ip addr add fd00:100::10/128 dev lo")
            && !v6.script.as_str().contains("label"),
        "IPv6 addresses have no labels: {}",
        v6.script
    );
    let v4 = find(&d, "address 192.168.100.10 on lo");
    assert!(v4.diff.contains("192.168.100.10/32 on lo:0"), "{}", v4.diff);
    let unit = &find(&d, "file /etc/systemd/system/lvsprov-vip.service").diff;
    for want in [
        "+ExecStart=/sbin/ip addr replace 192.168.100.10/32 dev lo label lo:0\n",
        "+ExecStart=/sbin/ip addr replace fd00:100::10/128 dev lo\n",
    ] {
        assert!(unit.contains(want), "{want:?} not in {unit}");
    }
}

/// Where the VIP is kept at boot by alias files (ifcfg on RHEL 7), which take IPv4 only, the
/// plan is refused with the reason instead of an IPv6 VIP that a reboot loses.
#[test]
fn alias_file_hosts_refuse_an_ipv6_vip_they_could_not_keep() {
    let inv = inventory_with("inventories/lab.json", dual_stack);
    let err = plan_for(&inv, "web01", &recorded("rhel7/web01.txt"), Mode::Up).unwrap_err();
    assert!(
        err.contains("IPv6 VIP fd00:100::10") && err.contains("systemd"),
        "{err}"
    );
}

type Edit = dyn Fn(&mut Value);

#[test]
fn ipv6_mistakes_are_named_with_their_path_and_the_fix() {
    let lab = "inventories/lab.json";
    refused_once(
        lab,
        dual_stack,
        &|v| {
            v.as_object_mut().unwrap().remove("network6");
            for group in ["directors", "real_servers"] {
                for h in v[group].as_array_mut().unwrap() {
                    h.as_object_mut().unwrap().remove("address6");
                }
            }
        },
        "$.services[1].vip: fd00:100::10 is an IPv6 VIP; add $.network6",
    );
    let cases: &[(&Edit, &str)] = &[
        (
            &|v| v["network6"] = "fd00:100::1/129".into(),
            "$.network6: \"fd00:100::1/129\" is not an IPv6 prefix",
        ),
        (
            &|v| v["real_servers"][0]["address6"] = "192.168.100.201".into(),
            "$.real_servers[0].address6: \"192.168.100.201\" is not an IPv6 address",
        ),
        (
            &|v| v["real_servers"][0]["address6"] = "fd00:200::201".into(),
            "$.real_servers[0].address6: fd00:200::201 is outside $.network6 fd00:100::/64",
        ),
        (
            &|v| v["real_servers"][1]["address6"] = "fd00:100::201".into(),
            "$.real_servers[1].address6: fd00:100::201 is also $.real_servers[0].address6",
        ),
        (
            &|v| v["services"][1]["vip"] = "fd00:100::201".into(),
            "$.services[1].vip: fd00:100::201 is the address6 of web01",
        ),
        (
            &|v| v["services"][1]["vip"] = "fd00:200::10".into(),
            "$.services[1].vip: fd00:200::10 is outside $.network6",
        ),
        (
            &|v| {
                v["real_servers"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("address6");
            },
            "$.services[1].real_servers[1].name: web02 has no address6",
        ),
        (
            &|v| {
                v["directors"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("address6");
            },
            "$.services[1].vip: director lvs02 has no address6",
        ),
        (
            &|v| {
                let s = v["services"][1].as_object_mut().unwrap();
                s.remove("port");
                s.insert("ports".into(), json!([80, 8080]));
            },
            "$.services[1].ports: firewall-mark services are IPv4 only for now",
        ),
        (
            &|v| v["services"][1]["health_check"]["through_vip"] = true.into(),
            "$.services[1].health_check.through_vip: a check through the VIP is IPv4 only",
        ),
    ];
    for (edit, start) in cases {
        refused_once(lab, dual_stack, *edit, start);
    }
    assert!(problems(lab, dual_stack).is_empty());
}
