//! The lab's addresses live in one file, `docker/topology`. The lab inventory must describe the
//! same hosts, and the lab's scripts must read the table instead of keeping a copy.

mod common;

use common::{repo, topology};
use serde_json::Value;

#[test]
fn the_lab_inventory_describes_the_topology() {
    let inv: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("inventories/lab.json")).unwrap(),
    )
    .unwrap();
    let nodes = topology();
    let field = |kind: &str| {
        nodes
            .iter()
            .find(|n| n.kind == kind)
            .unwrap()
            .address
            .clone()
    };
    assert_eq!(inv["network"], field("network"));
    assert_eq!(inv["services"][0]["vip"], field("vip"));
    let default_user = inv["ssh"]["user"].as_str().unwrap_or("root");
    for (group, kind) in [("directors", "director"), ("real_servers", "real_server")] {
        let want: Vec<(String, String, String)> = nodes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| (n.name.clone(), n.address.clone(), n.user.clone()))
            .collect();
        let have: Vec<(String, String, String)> = inv[group]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let user = h["ssh"]["user"].as_str().unwrap_or(default_user);
                (
                    h["name"].as_str().unwrap().into(),
                    h["address"].as_str().unwrap().into(),
                    user.into(),
                )
            })
            .collect();
        assert_eq!(
            have, want,
            "inventories/lab.json {group} vs docker/topology"
        );
    }
}

#[test]
fn the_lab_scripts_keep_no_copy_of_the_addresses() {
    let net = common::addr("network");
    let prefix = &net[..net.rfind('.').unwrap() + 1];
    for f in [
        "docker/lab",
        "docker/compose.yml",
        "docker/vm/vm-init.sh",
        "docker/vm/lab",
        "docker/vm/run",
        "docker/vm/demo.sh",
        "tests/vm/lib.sh",
        "tests/vm/serve.sh",
    ] {
        let text = std::fs::read_to_string(repo().join(f)).unwrap();
        assert!(
            !text.contains(prefix),
            "{f} writes a lab address itself; read docker/topology instead"
        );
    }
}

/// The container lab's inventory is the lab's, told that its hosts boot nothing.
#[test]
fn the_container_inventory_is_the_lab_inventory_live_only() {
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(repo().join(f)).unwrap()).unwrap()
    };
    let mut containers = read(common::CONTAINER_INVENTORY);
    assert_eq!(containers["persist"], false);
    let mut bastion = read("inventories/lab-bastion.json");
    assert_eq!(
        bastion["ssh"]["jump"],
        format!("root@{}", common::addr("bastion"))
    );
    bastion["ssh"].as_object_mut().unwrap().remove("jump");
    assert_eq!(
        bastion, containers,
        "lab-bastion.json: the container lab's, through the bastion"
    );
    containers.as_object_mut().unwrap().remove("persist");
    assert_eq!(containers, read("inventories/lab.json"));
}

/// The ECMP inventory is the lab's cluster in ECMP mode: the same hosts and VIP, the lab's router
/// (docker/topology's `router`) with the AS numbers the real-kernel lab configures on it.
#[test]
fn the_ecmp_inventory_is_the_lab_inventory_behind_the_labs_router() {
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(repo().join(f)).unwrap()).unwrap()
    };
    let (lab, ecmp) = (
        read("inventories/lab.json"),
        read("inventories/lab-ecmp.json"),
    );
    for group in ["real_servers", "services"] {
        let names = |v: &Value| -> Vec<(Value, Value)> {
            v[group]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["name"].clone(), h["vip"].clone()))
                .collect()
        };
        assert_eq!(names(&lab), names(&ecmp), "{group}");
    }
    let dirs = |v: &Value| -> Vec<Value> {
        v["directors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["address"].clone())
            .collect()
    };
    assert_eq!(dirs(&lab), dirs(&ecmp));
    let router = &ecmp["ecmp"]["routers"][0];
    assert_eq!(router["address"], common::addr("rtr01"));
    let lab_script = std::fs::read_to_string(repo().join("docker/vm/lab")).unwrap();
    let asns = format!(
        "router_asn={} directors_asn={} bgp_password={}",
        router["asn"],
        ecmp["ecmp"]["asn"],
        router["password"].as_str().unwrap()
    );
    assert!(
        lab_script.contains(&asns),
        "docker/vm/lab should say {asns}"
    );
}
