//! UDP services checked over UDP, planned without a host: a DNS service (port 53) gets keepalived's
//! DNS_CHECK by default, another UDP port its UDP_CHECK, and a TCP service keeps its TCP_CHECK.
//! The live behaviour (a DNS server stopped on one real server leaves both directors' tables,
//! and comes back when started) is in tests/vm.rs.

mod common;

use common::plan::{find, inventory_with, plan_for, recorded, refused_once};
use lvsprov::plan::Mode;
use serde_json::json;

fn with_udp(v: &mut serde_json::Value) {
    let members = v["services"][0]["real_servers"].clone();
    let services = v["services"].as_array_mut().unwrap();
    services.push(json!({
        "vip": "192.168.100.10", "port": 53, "protocol": "udp",
        "health_check": { "name": "who.lab", "query_type": "TXT" },
        "real_servers": members,
    }));
    services.push(json!({
        "vip": "192.168.100.10", "port": 514, "protocol": "udp",
        "real_servers": members,
    }));
}

fn conf(platform: &str) -> Result<String, String> {
    let inv = inventory_with("inventories/lab.json", with_udp);
    let d = plan_for(&inv, "lvs01", &recorded(platform), Mode::Up)?;
    Ok(find(&d, "file /etc/keepalived/keepalived.conf")
        .diff
        .clone())
}

#[test]
fn each_service_is_checked_in_its_own_protocol() {
    let conf = conf("rhel9/lvs01.txt").unwrap();
    let block = |port: u16| {
        let head = format!("+    real_server 192.168.100.201 {port} {{\n");
        let at = conf
            .find(&head)
            .unwrap_or_else(|| panic!("{head:?} not in {conf}"));
        conf[at..].split("+    }\n").next().unwrap().to_string()
    };
    let dns = block(53);
    for want in ["DNS_CHECK {", "connect_port 53", "type TXT", "name who.lab"] {
        assert!(dns.contains(want), "{want:?} not in {dns}");
    }
    let udp = block(514);
    assert!(
        udp.contains("UDP_CHECK {") && udp.contains("connect_port 514"),
        "{udp}"
    );
    assert!(block(80).contains("TCP_CHECK {"), "{conf}");
    assert!(
        conf.contains("+virtual_server 192.168.100.10 53 {\n"),
        "{conf}"
    );
    assert!(conf.contains("+    protocol UDP\n"), "{conf}");
}

/// RHEL 7's keepalived (1.3.5) has DNS_CHECK but no UDP_CHECK: the plan says so instead of
/// writing a keepalived.conf that keepalived would refuse.
#[test]
fn a_keepalived_without_udp_check_is_refused_a_udp_check() {
    let refused = conf("rhel7/lvs01.txt").unwrap_err();
    assert!(
        refused.contains("needs keepalived 2.1 or later (UDP_CHECK)")
            && refused.contains("\"dns\""),
        "{refused}"
    );
    let inv = inventory_with("inventories/lab.json", |v| {
        with_udp(v);
        v["services"].as_array_mut().unwrap().pop();
    });
    let d = plan_for(&inv, "lvs01", &recorded("rhel7/lvs01.txt"), Mode::Up).unwrap();
    assert!(find(&d, "file /etc/keepalived/keepalived.conf")
        .diff
        .contains("DNS_CHECK {"));
}

#[test]
fn bad_checks_are_refused_with_their_path_and_the_fix() {
    let one = |edit: &dyn Fn(&mut serde_json::Value), start: &str| {
        refused_once("inventories/lab.json", with_udp, edit, start)
    };
    let check = |i: usize| format!("$.services[{i}].health_check");
    one(
        &|v| v["services"][1]["health_check"] = json!({}),
        &format!("{}.name: a DNS check asks for a name", check(1)),
    );
    one(
        &|v| v["services"][1]["health_check"]["name"] = "who lab".into(),
        &format!("{}.name: \"who lab\" is not a DNS name", check(1)),
    );
    one(
        &|v| v["services"][1]["health_check"]["query_type"] = "ANY".into(),
        &format!(
            "{}.query_type: \"ANY\" is not a record type keepalived asks for; use one of A, NS",
            check(1)
        ),
    );
    one(
        &|v| v["services"][0]["health_check"]["type"] = "udp".into(),
        &format!(
            "{}.type: a UDP check on a TCP service never passes",
            check(0)
        ),
    );
    one(
        &|v| v["services"][0]["health_check"]["name"] = "who.lab".into(),
        &format!(
            "{}.name: only a dns check reads it; use \"type\": \"dns\"",
            check(0)
        ),
    );
    one(
        &|v| v["services"][2]["health_check"] = json!({ "type": "udp", "path": "/" }),
        &format!("{}.path: only a http check reads it", check(2)),
    );
    one(
        &|v| v["services"][2]["health_check"] = json!({ "type": "ping" }),
        &format!(
            "{}.type: \"ping\" is not supported; use \"tcp\", \"http\", \"udp\" or \"dns\"",
            check(2)
        ),
    );
}
