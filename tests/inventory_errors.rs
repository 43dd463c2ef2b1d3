//! Every kind of inventory mistake: the JSON path, a fix, exit 3, and (by construction) no SSH.
//! The inventories here use loopback addresses, so even a bug that connected would stay on the machine.

use std::process::Command;

const GOOD: &str = r#"{
  "network": "127.10.0.0/24",
  "keepalived": { "virtual_router_id": 51, "auth_pass": "secret1" },
  "directors": [
    { "name": "lvs01", "address": "127.10.0.11", "priority": 150 },
    { "name": "lvs02", "address": "127.10.0.12", "priority": 100 }
  ],
  "real_servers": [
    { "name": "web01", "address": "127.10.0.201", "page": "<h1>a</h1>" },
    { "name": "web02", "address": "127.10.0.202", "page": "<h1>b</h1>" }
  ],
  "services": [
    { "vip": "127.10.0.10", "port": 80, "scheduler": "rr",
      "real_servers": [ { "name": "web01" }, { "name": "web02", "weight": 2 } ] }
  ]
}"#;

fn broken(edit: fn(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
    edit(&mut v);
    v.to_string()
}

/// (what is wrong, the inventory, the JSON path the error must name, a word of the fix)
fn cases() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        (
            "not JSON",
            "{\"network\": ".to_string(),
            "$",
            "not valid JSON",
        ),
        (
            "keepalived with neither a director nor a router id (found by the fuzzer: it overflowed)",
            broken(|v| {
                v["directors"] = serde_json::json!([]);
                v["keepalived"] = serde_json::json!({ "auth_pass": "secret1" });
            }),
            "$.directors",
            "add at least one",
        ),
        (
            "a service on a port lvsprov's web server does not listen on",
            broken(|v| v["services"][0]["port"] = 443.into()),
            "$.services[0].real_servers[0].name",
            "\"web_server\": false",
        ),
        (
            "a page for a real server whose backend is the operator's",
            broken(|v| v["real_servers"][1]["web_server"] = false.into()),
            "$.real_servers[1].page",
            "remove \"page\"",
        ),
        (
            "a web server on a director",
            broken(|v| v["directors"][0]["web_server"] = true.into()),
            "$.directors[0].web_server",
            "remove it",
        ),
        (
            "unknown field",
            broken(|v| v["directors"][0]["adress"] = "x".into()),
            "$.directors[0]",
            "adress",
        ),
        (
            "bad address",
            broken(|v| v["real_servers"][1]["address"] = "127.10.0.300".into()),
            "$.real_servers[1].address",
            "IPv4",
        ),
        (
            "an IPVS flag that is not 0 or 1",
            broken(|v| v["ipvs"] = serde_json::json!({ "expire_nodest_conn": 2 })),
            "$.ipvs.expire_nodest_conn",
            "0 or 1",
        ),
        (
            "a conn_reuse_mode past its two bits",
            broken(|v| v["ipvs"] = serde_json::json!({ "conn_reuse_mode": 4 })),
            "$.ipvs.conn_reuse_mode",
            "0 to 3",
        ),
        (
            "an IPVS timeout of 0",
            broken(|v| v["ipvs"] = serde_json::json!({ "timeouts": { "tcp": 0 } })),
            "$.ipvs.timeouts.tcp",
            "seconds from 1",
        ),
        (
            "ssh.host at the top level",
            broken(|v| v["ssh"] = serde_json::json!({ "host": "mgmt" })),
            "$.ssh.host",
            "that host's",
        ),
        (
            "ssh.host that is no host",
            broken(|v| {
                v["real_servers"][0]["ssh"] = serde_json::json!({ "host": "web 01; reboot" })
            }),
            "$.real_servers[0].ssh.host",
            "hostname nor an IPv4",
        ),
        (
            "a jump that is not [user@]host[:port]",
            broken(|v| v["ssh"] = serde_json::json!({ "jump": "admin@bastion:99999" })),
            "$.ssh.jump",
            "not a port",
        ),
        (
            "a jump host with a shell in it",
            broken(|v| v["directors"][1]["ssh"] = serde_json::json!({ "jump": "a@b;id" })),
            "$.directors[1].ssh.jump",
            "[user@]host[:port]",
        ),
        (
            "bad hostname",
            broken(|v| v["real_servers"][0]["name"] = "web_01;reboot".into()),
            "$.real_servers[0].name",
            "hostname",
        ),
        (
            "duplicate name",
            broken(|v| v["real_servers"][1]["name"] = "web01".into()),
            "$.real_servers[1].name",
            "own name",
        ),
        (
            "duplicate address",
            broken(|v| v["real_servers"][1]["address"] = "127.10.0.12".into()),
            "$.real_servers[1].address",
            "own address",
        ),
        (
            "VIP is a host",
            broken(|v| v["services"][0]["vip"] = "127.10.0.201".into()),
            "$.services[0].vip",
            "free address",
        ),
        (
            "host off the segment",
            broken(|v| v["real_servers"][0]["address"] = "127.11.0.5".into()),
            "$.real_servers[0].address",
            "L2 segment",
        ),
        (
            "two directors, no keepalived",
            broken(|v| {
                v.as_object_mut().unwrap().remove("keepalived");
            }),
            "$.keepalived",
            "both would claim the VIP",
        ),
        (
            "unknown scheduler",
            broken(|v| v["services"][0]["scheduler"] = "fastest".into()),
            "$.services[0].scheduler",
            "wrr",
        ),
        (
            "member not a real server",
            broken(|v| v["services"][0]["real_servers"][0]["name"] = "web09".into()),
            "$.services[0].real_servers[0].name",
            "$.real_servers",
        ),
        (
            "weight too big",
            broken(|v| v["services"][0]["real_servers"][0]["weight"] = 70000.into()),
            "$.services[0].real_servers[0].weight",
            "0..65535",
        ),
        (
            "bad protocol",
            broken(|v| v["services"][0]["protocol"] = "sctp".into()),
            "$.services[0].protocol",
            "tcp",
        ),
        (
            "auth_pass too long",
            broken(|v| v["keepalived"]["auth_pass"] = "muchtoolongsecret".into()),
            "$.keepalived.auth_pass",
            "8 characters",
        ),
        (
            "same priority twice",
            broken(|v| v["directors"][1]["priority"] = 150.into()),
            "$.directors[1].priority",
            "highest",
        ),
        (
            "bad NIC name",
            broken(|v| v["directors"][0]["nic"] = "eth0; rm -rf /".into()),
            "$.directors[0].nic",
            "interface name",
        ),
        (
            "bad network",
            broken(|v| v["network"] = "127.10.0.0/40".into()),
            "$.network",
            "CIDR",
        ),
        (
            "port 0",
            broken(|v| v["services"][0]["port"] = 0.into()),
            "$.services[0].port",
            "port",
        ),
        (
            "port is text",
            broken(|v| v["services"][0]["port"] = "http".into()),
            "$.services[0].port",
            "must be a whole number from 0 to 65535, not the string \"http\"",
        ),
        (
            "a health path that is no path",
            broken(|v| {
                v["services"][0]["health_check"] =
                    serde_json::json!({"type": "http", "path": "health check"})
            }),
            "$.services[0].health_check.path",
            "/health",
        ),
        (
            "a status that is no HTTP status",
            broken(|v| {
                v["services"][0]["health_check"] =
                    serde_json::json!({"type": "http", "status": 999})
            }),
            "$.services[0].health_check.status",
            "100..599",
        ),
        (
            "a path on a TCP check",
            broken(|v| {
                v["services"][0]["health_check"] = serde_json::json!({"type": "tcp", "path": "/x"})
            }),
            "$.services[0].health_check.path",
            "\"type\": \"http\"",
        ),
        (
            "a check through the VIP on a UDP service",
            broken(|v| {
                v["services"][0]["protocol"] = "udp".into();
                v["services"][0]["health_check"] = serde_json::json!({"through_vip": true})
            }),
            "$.services[0].health_check.through_vip",
            "UDP service",
        ),
        (
            "auth_pass with VRRPv3",
            broken(|v| v["keepalived"]["advert_int"] = serde_json::json!(0.2)),
            "$.keepalived.auth_pass",
            "remove auth_pass",
        ),
        (
            "an advert_int finer than hundredths",
            broken(|v| v["keepalived"]["advert_int"] = serde_json::json!(0.005)),
            "$.keepalived.advert_int",
            "0.01 to 255",
        ),
        (
            "an advert_int of 0",
            broken(|v| v["keepalived"]["advert_int"] = serde_json::json!(0)),
            "$.keepalived.advert_int",
            "e.g. 1, or 0.2",
        ),
        (
            "port out of range",
            broken(|v| v["services"][0]["port"] = 70000.into()),
            "$.services[0].port",
            "70000 is out of range 0–65535",
        ),
        (
            "a list where an object goes",
            broken(|v| v["keepalived"] = serde_json::json!([])),
            "$.keepalived",
            "must be an object ({...}), not a list",
        ),
    ]
}

/// Messages speak the inventory's language, never Rust's or the parser's.
#[test]
fn no_message_names_a_rust_type() {
    for (what, text, _, _) in cases() {
        for p in lvsprov::inventory::parse(&text).err().unwrap() {
            let m = p.to_string();
            for leak in ["u8", "u16", "u32", "struct ", "Raw", "`", "$.?"] {
                assert!(!m.contains(leak), "{what}: {leak:?} in {m}");
            }
        }
    }
}

/// An editor's `"$schema"` pointer is accepted (and ignored).
#[test]
fn a_schema_pointer_is_accepted() {
    let with = broken(|v| v["$schema"] = "./lvsprov.schema.json".into());
    lvsprov::inventory::parse(&with).unwrap();
}

/// With `--output json`, a run stopped before any host is a JSON document on stdout too (exit 3),
/// each inventory problem with its path: a script reading stdout never gets nothing.
#[test]
fn an_error_with_output_json_is_json_on_stdout() {
    let dir = std::env::temp_dir().join(format!("lvsprov-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, broken(|v| v["services"][0]["port"] = 70000.into())).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, GOOD).unwrap();
    for (args, kind, path) in [
        (
            vec!["up", bad.to_str().unwrap()],
            "inventory",
            "$.services[0].port",
        ),
        (
            vec!["check", good.to_str().unwrap(), "--limit", "db*"],
            "usage",
            "",
        ),
        (vec!["drain", "db01", good.to_str().unwrap()], "usage", ""),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
            .args(&args)
            .args(["--output", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: no JSON on stdout ({e})"));
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["command"], args[0]);
        assert_eq!(doc["exit"], 3);
        assert_eq!(doc["error"]["kind"], kind, "{doc}");
        if !path.is_empty() {
            assert_eq!(doc["error"]["problems"][0]["path"], path, "{doc}");
        }
        assert!(!out.stderr.is_empty(), "the text stays on stderr");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_good_inventory_is_valid() {
    lvsprov::inventory::parse(GOOD).unwrap();
}

#[test]
fn each_mistake_names_its_field_and_the_fix() {
    for (what, text, path, fix) in cases() {
        let problems = lvsprov::inventory::parse(&text)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            problems
                .iter()
                .any(|p| p.path.starts_with(path) && p.to_string().contains(fix)),
            "{what}: wanted {path} with {fix:?}, got {all:#?}"
        );
    }
}

#[test]
fn the_command_exits_3_and_prints_the_path() {
    let dir = std::env::temp_dir().join(format!("lvsprov-inv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (what, text, path, _)) in cases().into_iter().enumerate() {
        let file = dir.join(format!("{i}.json"));
        std::fs::write(&file, text).unwrap();
        for cmd in ["up", "check", "down"] {
            let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
                .arg(cmd)
                .arg(&file)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{what} / {cmd}: {err}");
            assert!(
                err.contains(path) && err.contains("nothing was contacted"),
                "{what} / {cmd}: {err}"
            );
            assert!(
                out.stdout.is_empty(),
                "{what}: no report for an invalid inventory"
            );
        }
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args(["check", "/nonexistent/inv.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
    let usage = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args(["up", "--forks", "many"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(3));
    let good = dir.join("good.json");
    std::fs::write(&good, GOOD).unwrap();
    let limit = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args(["check", "--limit", "web9"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(limit.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&limit.stderr).contains("real_servers"));
    // Globs and `!` select by name, in the order the inventory lists the hosts.
    for (limit, want) in [
        ("web*", "web01 web02"),
        ("!web01", "lvs01 lvs02 web02"),
        ("directors,!lvs02", "lvs01"),
        ("lvs0[2-9],web02", "lvs02 web02"),
    ] {
        let inv = lvsprov::inventory::parse(GOOD).unwrap();
        let got: Vec<&str> = inv
            .select(Some(limit))
            .unwrap()
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(got.join(" "), want, "--limit {limit:?}");
    }
    for empty in ["", ",", " ", "!web*,!directors"] {
        let limit = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
            .args(["check", "--limit", empty])
            .arg(&good)
            .output()
            .unwrap();
        assert_eq!(limit.status.code(), Some(3), "--limit {empty:?}");
        assert!(String::from_utf8_lossy(&limit.stderr).contains("names no host"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `lvsprov check` with no inventory, outside the repository: the message says none was given,
/// not "cannot read inventories/lab.json, pass e.g. inventories/lab.json".
#[test]
fn no_inventory_given_says_so() {
    let dir = std::env::temp_dir().join(format!("lvsprov-noinv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .arg("check")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no inventory given"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The mistakes the JSON Schema itself catches (types, ranges, words, unknown fields): an editor
/// that reads the schema marks them before lvsprov runs.
const SCHEMA_CATCHES: &[&str] = &[
    "unknown field",
    "bad address",
    "an IPVS flag that is not 0 or 1",
    "a conn_reuse_mode past its two bits",
    "an IPVS timeout of 0",
    "unknown scheduler",
    "weight too big",
    "bad protocol",
    "auth_pass too long",
    "port 0",
    "port is text",
    "a status that is no HTTP status",
    "an advert_int of 0",
    "port out of range",
    "a list where an object goes",
];

/// `lvsprov schema` is the committed `docs/inventory.schema.json`; by the schema (checked with
/// Python's `jsonschema`, which `.ci/run` installs) every inventory in the repo is valid and each
/// mistake it can see is not.
#[test]
fn the_schema_is_current_takes_every_shipped_inventory_and_refuses_broken_ones() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root.join("docs/inventory.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "docs/inventory.schema.json is stale: run `lvsprov schema > docs/inventory.schema.json`"
    );
    let mut docs: Vec<(String, String)> = vec![("GOOD".into(), GOOD.into())];
    for e in std::fs::read_dir(root.join("inventories")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            docs.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    let cases = cases();
    for name in SCHEMA_CATCHES {
        let (_, doc, _, _) = cases.iter().find(|c| c.0 == *name).expect(name);
        docs.push((format!("broken: {name}"), doc.clone()));
    }
    let input: String = docs
        .iter()
        .map(|(n, d)| {
            let doc: serde_json::Value = serde_json::from_str(d).unwrap();
            serde_json::json!({ "name": n, "doc": doc }).to_string() + "\n"
        })
        .collect();
    let mut py = Command::new("python3")
        .args(["-c", "import json, sys, jsonschema\ns = json.load(open(sys.argv[1]))\nv = jsonschema.validators.validator_for(s)(s)\nfor line in sys.stdin:\n    c = json.loads(line)\n    print(c['name'], 'valid' if v.is_valid(c['doc']) else 'invalid')"])
        .arg(root.join("docs/inventory.schema.json"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with jsonschema (Debian's python3-jsonschema; .ci/run installs it)");
    use std::io::Write as _;
    py.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 jsonschema failed");
    let verdicts = String::from_utf8_lossy(&out.stdout);
    let mut checked = 0;
    for line in verdicts.lines() {
        let (name, verdict) = line.rsplit_once(' ').unwrap();
        let want = if name.starts_with("broken: ") {
            "invalid"
        } else {
            "valid"
        };
        assert_eq!(verdict, want, "{name}");
        checked += 1;
    }
    assert_eq!(checked, docs.len(), "{verdicts}");
}
