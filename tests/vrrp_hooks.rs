//! The operator's track scripts, tracked NICs and notify hooks, planned without a host: each
//! director's keepalived.conf declares and tracks them, runs them as root under keepalived's
//! script security, and a command keepalived would split or a shell would interpret is refused at
//! load. A director giving up its VIPs to a failing script or NIC, and the hooks hearing of it,
//! is in tests/vm.rs.

mod common;

use common::plan::{find, inventory_with, plan_for, recorded, refused_once};
use lvsprov::plan::Mode;
use serde_json::json;

const LAB: &str = "inventories/lab.json";

fn with_hooks(v: &mut serde_json::Value) {
    let k = &mut v["keepalived"];
    k["track_scripts"] = json!([
        { "name": "lab_healthy", "script": "/usr/local/bin/lab-healthy" },
        { "name": "uplink", "script": "/usr/local/bin/check-uplink eth1", "interval": 2,
          "weight": -60, "fall": 3, "rise": 2 }
    ]);
    k["track_interfaces"] = json!(["eth1"]);
    k["notify"] =
        json!({ "any": "/usr/local/bin/lab-notify", "fault": "/usr/local/bin/page-oncall --vrrp" });
}

fn conf(inv: &lvsprov::inventory::Inventory, host: &str) -> String {
    let d = plan_for(inv, host, &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    find(&d, "file /etc/keepalived/keepalived.conf")
        .diff
        .clone()
}

#[test]
fn each_instance_tracks_the_scripts_and_nics_and_tells_the_hooks() {
    let inv = inventory_with(LAB, with_hooks);
    let c = conf(&inv, "lvs01");
    for want in [
        "+    script_user root\n+    enable_script_security\n",
        "+vrrp_script lab_healthy {\n+    script \"/usr/local/bin/lab-healthy\"\n+    interval 1\n+    # No weight: while it fails, this director gives up its VIPs (FAULT).\n+    fall 1\n+    rise 1\n+}\n",
        "+vrrp_script uplink {\n+    script \"/usr/local/bin/check-uplink eth1\"\n+    interval 2\n+    weight -60\n+    fall 3\n+    rise 2\n+}\n",
        "+    track_interface {\n+        eth1\n+    }\n",
        "+    track_script {\n+        lab_healthy\n+        uplink\n+    }\n",
        "+    notify \"/usr/local/bin/lab-notify\"\n+    notify_fault \"/usr/local/bin/page-oncall --vrrp\"\n",
    ] {
        assert!(c.contains(want), "{want:?} not in {c}");
    }
    // vrrp_scripts are declared before the instances that track them.
    assert!(
        c.find("vrrp_script uplink") < c.find("vrrp_instance"),
        "{c}"
    );
    // Without them: no script security, no tracking blocks, no hooks.
    let plain = conf(&inventory_with(LAB, |_| {}), "lvs01");
    for word in ["script", "track_", "notify"] {
        assert!(!plain.contains(word), "{word} in {plain}");
    }
}

/// With a master per VIP, every instance tracks the same scripts and tells the same hooks.
#[test]
fn every_instance_of_a_master_per_vip_cluster_tracks_them() {
    let inv = inventory_with("inventories/lab-two-masters.json", with_hooks);
    let c = conf(&inv, "lvs02");
    assert_eq!(c.matches("vrrp_instance ").count(), 2, "{c}");
    assert_eq!(c.matches("    track_script {").count(), 2, "{c}");
    assert_eq!(
        c.matches("    notify \"/usr/local/bin/lab-notify\"")
            .count(),
        2,
        "{c}"
    );
    assert_eq!(
        c.matches("vrrp_script ").count(),
        2,
        "declared once each: {c}"
    );
}

type Edit = dyn Fn(&mut serde_json::Value);

#[test]
fn a_bad_hook_is_refused_with_its_path_and_the_fix() {
    let at = |i: usize, field: &str, value: serde_json::Value| {
        let field = field.to_string();
        move |v: &mut serde_json::Value| v["keepalived"]["track_scripts"][i][&field] = value.clone()
    };
    let cases: Vec<(Box<Edit>, &str)> = vec![
        (Box::new(at(0, "script", json!("lab-healthy"))), "$.keepalived.track_scripts[0].script: \"lab-healthy\" does not start with an absolute path"),
        (Box::new(at(0, "script", json!("/bin/sh -c 'test -e /run/x'"))), "$.keepalived.track_scripts[0].script: \"/bin/sh -c 'test -e /run/x'\" holds '\\''; keepalived runs it without a shell"),
        (Box::new(at(1, "script", json!("/x # y"))), "$.keepalived.track_scripts[1].script: \"/x # y\" holds '#'"),
        (Box::new(at(1, "name", json!("lab_healthy"))), "$.keepalived.track_scripts[1].name: \"lab_healthy\" is named twice"),
        (Box::new(at(0, "name", json!("two words"))), "$.keepalived.track_scripts[0].name: \"two words\" is not a script name"),
        (Box::new(at(1, "weight", json!(-300))), "$.keepalived.track_scripts[1].weight: -300 is out of range; use -253 to 253"),
        (Box::new(at(1, "interval", json!(0))), "$.keepalived.track_scripts[1].interval: 0 is out of range; use 1 to 3600"),
        (Box::new(|v: &mut serde_json::Value| v["keepalived"]["notify"]["master"] = json!("/x $(id)")), "$.keepalived.notify.master: \"/x $(id)\" holds '$'"),
        (Box::new(|v: &mut serde_json::Value| v["keepalived"]["track_interfaces"] = json!(["eth 1"])), "$.keepalived.track_interfaces[0]: \"eth 1\" is not an interface name"),
    ];
    for (edit, start) in cases {
        refused_once(LAB, with_hooks, &*edit, start);
    }
}
