//! `lvsprov import` from facts: the seed's hand-built cluster (dr.sh on lvs01, web.sh on web01 and
//! web02) becomes an inventory that loads, and whose plan on the same hosts keeps the live table,
//! the VIPs and the pages and only adds what the hand build lacks. What an inventory cannot hold
//! (NAT, a real server not read) is named. The live take-over is in tests/vm.rs.

mod common;

use common::lvsprov;
use lvsprov::facts::{self, Facts};
use lvsprov::import::{self, Options, Seen};
use lvsprov::inventory::{self, Role};
use lvsprov::plan::{plan, Mode};
use lvsprov::playbook::Playbooks;
use lvsprov::resources::Change;

/// A systemd Debian 12 host as the facts script prints it, with `extra_addr` lines, IPVS rules,
/// and files (path, content).
fn host(
    name: &str,
    ip: &str,
    extra_addr: &[&str],
    rules: &[&str],
    files: &[(&str, &str)],
) -> Facts {
    let mut t = String::from("@@os\nID=debian\nVERSION_ID=\"12\"\n@@init\nsystemd\n@@hostname\n");
    t += &format!("{name}\n@@selinux\nDisabled\n@@addr\n");
    t +=
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n";
    for a in extra_addr {
        t += a;
        t += "\n";
    }
    t += &format!("2: eth0    inet {ip}/24 brd 192.168.100.255 scope global eth0\\       valid_lft forever preferred_lft forever\n");
    t += "@@link\n@@ipvs\n";
    if rules.is_empty() {
        t += "module\n";
    } else {
        t += "available\n";
        for r in rules {
            t += r;
            t += "\n";
        }
    }
    t += "@@ipvsd\n@@firewall\nnone\n@@sysctl\n";
    for d in ["all", "default", "eth0", "lo"] {
        for (leaf, v) in [
            ("arp_ignore", "1"),
            ("arp_announce", "2"),
            ("send_redirects", "1"),
        ] {
            t += &format!(
                "net/ipv4/conf/{d}/{leaf}:{}\n",
                if d == "eth0" && leaf != "send_redirects" {
                    "0"
                } else {
                    v
                }
            );
        }
    }
    t += "net/ipv4/ip_forward:1\n@@packages\nipvsadm\napache2\n@@services\napache2 enabled active\n@@files\n";
    let files: Vec<(&str, &str, &[u8])> = files
        .iter()
        .map(|(path, content)| (*path, "644", content.as_bytes()))
        .collect();
    t += &facts::files::section_lines(&files);
    t += "@@dirs\n@@end\n";
    facts::parse(&t).unwrap()
}

const VIP_ETH0: &str = "2: eth0    inet 192.168.100.10/32 brd 192.168.100.10 scope global eth0:0\\       valid_lft forever preferred_lft forever";
const VIP_LO: &str = "1: lo    inet 192.168.100.10/32 brd 192.168.100.10 scope global lo:0\\       valid_lft forever preferred_lft forever";
const PAGE1: &str = "<h1>this is kg web</h>\n";
const PAGE2: &str = "<h1>this is ac web</h1>\n";

/// The seed's dr.sh and web.sh, as run on the lab's addresses.
fn seed_cluster(rs2_rule: &str) -> Vec<Seen> {
    vec![
        Seen {
            target: "192.168.100.11".into(),
            facts: host(
                "lvs01",
                "192.168.100.11",
                &[VIP_ETH0],
                &[
                    "-A -t 192.168.100.10:80 -s rr",
                    "-a -t 192.168.100.10:80 -r 192.168.100.201:80 -g -w 1",
                    rs2_rule,
                ],
                &[],
            ),
        },
        Seen {
            target: "192.168.100.201".into(),
            facts: host(
                "web01",
                "192.168.100.201",
                &[VIP_LO],
                &[],
                &[(import::PAGE, PAGE1)],
            ),
        },
        Seen {
            target: "192.168.100.202".into(),
            facts: host(
                "web02",
                "192.168.100.202",
                &[VIP_LO],
                &[],
                &[(import::PAGE, PAGE2)],
            ),
        },
    ]
}

/// The seed cluster with keepalived on lvs01 (holding the VIP) and on lvs02 (`conf` at priority
/// 100).
fn keepalived_pair(conf: &str) -> Vec<Seen> {
    let mut seen = seed_cluster("-a -t 192.168.100.10:80 -r 192.168.100.202:80 -g -w 1");
    seen[0].facts = host(
        "lvs01",
        "192.168.100.11",
        &[VIP_ETH0],
        &["-A -t 192.168.100.10:80 -s rr"],
        &[(import::KEEPALIVED_CONF, conf)],
    );
    let backup = conf.replace("priority 150", "priority 100");
    seen.push(Seen {
        target: "lvs02".into(),
        facts: host(
            "lvs02",
            "192.168.100.12",
            &[],
            &[],
            &[(import::KEEPALIVED_CONF, &backup)],
        ),
    });
    seen
}

fn changes(inv: &inventory::Inventory, name: &str, f: &Facts) -> Vec<Change> {
    let h = inv.hosts.iter().find(|h| h.name == name).unwrap();
    let steps = Playbooks::default().render(inv, h, f).unwrap();
    plan(&steps, f, Mode::Up).unwrap()
}

/// The plan for `name` on `f` leaves keepalived.conf as it is: no line added or removed (the
/// file's mode or owner may differ, its text is what keepalived reads).
fn keepalived_conf_unchanged(inv: &inventory::Inventory, name: &str, f: &Facts) {
    conf_unchanged(inv, name, f, import::KEEPALIVED_CONF);
}

/// The plan for `name` on `f` adds and removes no line of `path`.
fn conf_unchanged(inv: &inventory::Inventory, name: &str, f: &Facts, path: &str) {
    let c = changes(inv, name, f);
    let diff = c
        .iter()
        .find(|c| c.resource == format!("file {path}"))
        .map(|c| c.diff.as_str())
        .unwrap_or_default();
    assert!(
        !diff
            .lines()
            .any(|l| l.starts_with('+') || l.starts_with('-')),
        "{name}: {diff}"
    );
}

#[test]
fn the_seeds_hand_built_cluster_imports_and_its_plan_only_adds_what_it_lacks() {
    let seen = seed_cluster("-a -t 192.168.100.10:80 -r 192.168.100.202:80 -g -w 1");
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(got.not_mapped, Vec::<String>::new());
    assert!(!got.secret);
    let v = &got.inventory;
    assert_eq!(v["network"], "192.168.100.0/24");
    assert_eq!(v["directors"][0]["name"], "lvs01");
    assert_eq!(v["directors"][0]["address"], "192.168.100.11");
    assert_eq!(v["real_servers"][0]["page"], PAGE1.trim_end());
    assert_eq!(v["services"][0]["scheduler"], "rr");
    assert_eq!(
        v["services"][0]["real_servers"],
        serde_json::json!([{ "name": "web01", "weight": 1 }, { "name": "web02", "weight": 1 }])
    );
    assert!(
        v.get("keepalived").is_none(),
        "no keepalived: a lone director"
    );

    let inv = inventory::parse(&v.to_string()).expect("check accepts it");
    for (name, f) in [
        ("lvs01", &seen[0].facts),
        ("web01", &seen[1].facts),
        ("web02", &seen[2].facts),
    ] {
        let c = changes(&inv, name, f);
        let names: Vec<&str> = c.iter().map(|c| c.resource.as_str()).collect();
        for kept in [
            "ipvs -t",
            "address",
            "file /var/www/html/index.html",
            "package",
            "hostname",
        ] {
            assert!(
                !names.iter().any(|n| n.starts_with(kept)),
                "{name}: the hand build's {kept} is kept as it is: {names:#?}"
            );
        }
        // What the recipe lacks: the NIC's ARP sysctls, everything at boot.
        if name != "lvs01" {
            assert!(
                names.contains(&"sysctl net.ipv4.conf.eth0.arp_ignore"),
                "{names:#?}"
            );
        }
        assert!(
            names.iter().any(|n| n.starts_with("file /etc/sysctl.d/")),
            "{names:#?}"
        );
    }
}

/// A cluster serving 8443: its real servers' backend is their own (lvsprov's web server listens
/// on 80), so they come in with `"web_server": false`, no page, and a plan that installs nothing.
#[test]
fn real_servers_behind_another_port_keep_their_own_backend() {
    let mut seen = seed_cluster("-a -t 192.168.100.10:8443 -r 192.168.100.202:8443 -g -w 1");
    let lvs01 = &mut seen[0].facts;
    *lvs01 = host(
        "lvs01",
        "192.168.100.11",
        &[VIP_ETH0],
        &[
            "-A -t 192.168.100.10:8443 -s rr",
            "-a -t 192.168.100.10:8443 -r 192.168.100.201:8443 -g -w 1",
            "-a -t 192.168.100.10:8443 -r 192.168.100.202:8443 -g -w 1",
        ],
        &[],
    );
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(got.not_mapped, Vec::<String>::new());
    for rs in got.inventory["real_servers"].as_array().unwrap() {
        assert_eq!(rs["web_server"], false, "{rs}");
        assert!(rs.get("page").is_none(), "{rs}");
    }
    let inv = inventory::parse(&got.inventory.to_string()).expect("check accepts it");
    let c = changes(&inv, "web01", &seen[1].facts);
    assert!(
        !c.iter()
            .any(|c| c.resource.contains("apache2") || c.resource.contains("index.html")),
        "{:?}",
        c.iter().map(|c| &c.resource).collect::<Vec<_>>()
    );
}

#[test]
fn a_nat_real_server_is_named_and_left_out() {
    let seen = seed_cluster("-a -t 192.168.100.10:80 -r 192.168.100.202:80 -m -w 1");
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(got.not_mapped.len(), 1, "{:?}", got.not_mapped);
    let m = &got.not_mapped[0];
    assert!(
        m.contains("192.168.100.202:80")
            && m.contains("masquerading (NAT)")
            && m.contains("direct routing only"),
        "{m}"
    );
    assert_eq!(
        got.inventory["services"][0]["real_servers"],
        serde_json::json!([{ "name": "web01", "weight": 1 }])
    );
}

#[test]
fn a_real_server_not_read_is_named() {
    let mut seen = seed_cluster("-a -t 192.168.100.10:80 -r 192.168.100.203:80 -g -w 2");
    seen.truncate(2);
    let got = import::inventory(&seen, &Options::default());
    assert!(
        got.not_mapped
            .iter()
            .any(|m| m.contains("192.168.100.203") && m.contains("give its address to import")),
        "{:?}",
        got.not_mapped
    );
}

/// keepalived directors: VRRP, priorities and checks come from keepalived.conf, sync from the
/// daemons running;
/// the inventory holds auth_pass, which the command writes only into a 0600 file.
#[test]
fn keepalived_directors_import_their_vrrp_and_checks() {
    let conf = include_str!("golden/keepalived.conf").replace("ens33", "eth0");
    let mut seen = keepalived_pair(&conf);
    // lvsprov's sync runs apart from keepalived: the daemons say over what.
    for s in &mut seen[..] {
        for r in ["master", "backup"] {
            s.facts
                .sync_daemons
                .insert(r.into(), "mcast=eth1, syncid=7".into());
        }
    }
    let got = import::inventory(&seen, &Options::default());
    assert!(got.secret);
    let v = &got.inventory;
    assert_eq!(v["keepalived"]["virtual_router_id"], 51);
    assert_eq!(v["keepalived"]["sync"]["enabled"], true);
    assert_eq!(v["keepalived"]["sync"]["interface"], "eth1", "{v}");
    assert_eq!(v["keepalived"]["sync"]["id"], 7, "{v}");
    assert_eq!(v["directors"][1]["priority"], 100);
    assert_eq!(v["directors"][1]["ssh"]["host"], "lvs02");
    assert_eq!(v["services"][0]["health_check"]["type"], "tcp");
    inventory::parse(&v.to_string()).expect("check accepts it");
    assert_eq!(got.not_mapped, Vec::<String>::new());
    // Unicast peers are lvsprov's default: nothing to say.
    assert!(v["keepalived"].get("unicast").is_none(), "{v}");

    // Multicast directors stay multicast: `check` must not change how they talk.
    let multicast: String = conf
        .lines()
        .filter(|l| {
            !l.contains("unicast") && !l.contains("192.168.100.12") && !l.contains("Adverts to")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let multicast = multicast.replacen("    }\n    authentication", "    authentication", 1);
    seen[0].facts = host(
        "lvs01",
        "192.168.100.11",
        &[VIP_ETH0],
        &["-A -t 192.168.100.10:80 -s rr"],
        &[(import::KEEPALIVED_CONF, &multicast)],
    );
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(got.inventory["keepalived"]["unicast"], false, "{multicast}");
    let inv = inventory::parse(&got.inventory.to_string()).expect("check accepts it");
    assert!(!inv.keepalived.unwrap().unicast);

    // VRRPv3 adverts 0.2 s apart, no authentication: no secret, nothing missing.
    let v3: String = conf
        .lines()
        .filter(|l| !l.contains("auth") && !l.trim_start().starts_with("authentication"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replace("advert_int 1", "advert_int 0.2");
    let v3 = v3.replacen("    }\n    virtual_ipaddress", "    virtual_ipaddress", 1);
    seen[0].facts = host(
        "lvs01",
        "192.168.100.11",
        &[VIP_ETH0],
        &["-A -t 192.168.100.10:80 -s rr"],
        &[(import::KEEPALIVED_CONF, &v3)],
    );
    seen.truncate(3);
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(got.inventory["keepalived"]["advert_int"], 0.2, "{v3}");
    assert!(!got.secret, "{v3}");
    assert!(
        !got.not_mapped.iter().any(|m| m.contains("authentication")),
        "{:?}",
        got.not_mapped
    );
    let inv = inventory::parse(&got.inventory.to_string()).expect("check accepts it");
    assert_eq!(inv.keepalived.unwrap().vrrp_version, 3);

    // A host that is neither is named, unless its role is forced.
    let mut opts = Options::default();
    let mut lone = seed_cluster("-a -t 192.168.100.10:80 -r 192.168.100.202:80 -g -w 1");
    lone[2].facts = host("web02", "192.168.100.202", &[], &[], &[]);
    let got = import::inventory(&lone, &opts);
    assert!(got
        .not_mapped
        .iter()
        .any(|m| m.contains("--real-server 192.168.100.202")));
    opts.forced
        .insert("192.168.100.202".into(), Role::RealServer);
    let got = import::inventory(&lone, &opts);
    assert!(
        !got.not_mapped.iter().any(|m| m.contains("neither")),
        "{:?}",
        got.not_mapped
    );
}

/// A host that cannot be read makes the whole import fail with nothing written: an inventory
/// without it would take it out of the cluster at the next `up`. (Loopback, a closed port.)
#[test]
fn a_host_that_cannot_be_read_means_nothing_is_written() {
    let dir = std::env::temp_dir().join(format!("lvsprov-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let out = dir.join("imported.json");
    let (code, stdout, err) = lvsprov(&[
        "import",
        "127.0.0.1",
        "--identity-file",
        key.to_str().unwrap(),
        "--port",
        "1",
        "--ssh-config",
        "none",
        "--connect-timeout",
        "3",
        "-w",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(stdout.is_empty());
    assert!(
        err.contains("127.0.0.1") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();

    let (code, _, err) = lvsprov(&["import", "127.0.0.1", "--director", "127.0.0.2"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("--director 127.0.0.2: not one of the hosts to read"),
        "{err}"
    );
}

/// The recipe saves the table before it adds the rules: the saved file is empty (or stale), and
/// the restore at boot would bring back nothing. The plan saves the live table again; once the
/// file holds it, it does not.
#[test]
fn a_table_saved_before_its_rules_were_added_is_saved_again() {
    let rules = [
        "-A -t 192.168.100.10:80 -s rr",
        "-a -t 192.168.100.10:80 -r 192.168.100.201:80 -g -w 1",
        "-a -t 192.168.100.10:80 -r 192.168.100.202:80 -g -w 1",
    ];
    let seen = seed_cluster(rules[2]);
    let inv = inventory::parse(
        &import::inventory(&seen, &Options::default())
            .inventory
            .to_string(),
    )
    .unwrap();
    for (saved, planned) in [("", true), (&*(rules.join("\n") + "\n"), false)] {
        let f = host(
            "lvs01",
            "192.168.100.11",
            &[VIP_ETH0],
            &rules,
            &[("/etc/ipvsadm.rules", saved)],
        );
        let c = changes(&inv, "lvs01", &f);
        assert_eq!(
            c.iter()
                .any(|c| c.resource == "ipvs rules saved in /etc/ipvsadm.rules"),
            planned,
            "saved {saved:?}"
        );
        assert!(!c.iter().any(|c| c.resource.starts_with("ipvs -t")));
    }
}

/// A hand-built cluster with a master per VIP: lvs01 tops the instance of .10, lvs02 the one of
/// .20. The services on .20 come in with `"master": "lvs02"`, and the instance whose router id
/// lvsprov would change (60 → 52) is named.
#[test]
fn a_master_per_vip_is_imported_and_a_renumbering_named() {
    let conf = |p10: u16, p20: u16| {
        let inst = |name: &str, id: u16, p: u16, vip: &str| {
            format!("vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {id}\n    priority {p}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        auth_pass secret1\n    }}\n    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n")
        };
        let vs = |vip: &str, rip: &str| {
            format!("virtual_server {vip} 80 {{\n    delay_loop 6\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server {rip} 80 {{\n        weight 1\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n}}\n")
        };
        inst("VI_1", 51, p10, "192.168.100.10")
            + &inst("VI_2", 60, p20, "192.168.100.20")
            + &vs("192.168.100.10", "192.168.100.201")
            + &vs("192.168.100.20", "192.168.100.202")
    };
    let vip20_lo = VIP_LO
        .replace("192.168.100.10", "192.168.100.20")
        .replace("lo:0", "lo:1");
    let (c1, c2) = (conf(150, 100), conf(100, 150));
    let seen = vec![
        Seen {
            target: "192.168.100.11".into(),
            facts: host(
                "lvs01",
                "192.168.100.11",
                &[VIP_ETH0],
                &[],
                &[(import::KEEPALIVED_CONF, &c1)],
            ),
        },
        Seen {
            target: "192.168.100.12".into(),
            facts: host(
                "lvs02",
                "192.168.100.12",
                &[],
                &[],
                &[(import::KEEPALIVED_CONF, &c2)],
            ),
        },
        Seen {
            target: "192.168.100.201".into(),
            facts: host(
                "web01",
                "192.168.100.201",
                &[VIP_LO],
                &[],
                &[(import::PAGE, PAGE1)],
            ),
        },
        Seen {
            target: "192.168.100.202".into(),
            facts: host(
                "web02",
                "192.168.100.202",
                &[&vip20_lo],
                &[],
                &[(import::PAGE, PAGE2)],
            ),
        },
    ];
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    let master = |i: usize| v["services"][i].get("master").cloned();
    assert_eq!(v["services"][0]["vip"], "192.168.100.10");
    assert_eq!((master(0), master(1)), (None, Some("lvs02".into())), "{v}");
    assert_eq!(
        (
            &v["directors"][0]["priority"],
            &v["directors"][1]["priority"]
        ),
        (&150.into(), &100.into())
    );
    assert_eq!(got.not_mapped.len(), 1, "{:?}", got.not_mapped);
    assert!(
        got.not_mapped[0].starts_with("lvs01: vrrp_instance VI_2 (VIPs 192.168.100.20) has virtual_router_id 60; lvsprov numbers it 52 (VI_LVSPROV_lvs02)"),
        "{:?}",
        got.not_mapped
    );
    let inv = inventory::parse(&v.to_string()).expect("check accepts it");
    let inst: Vec<(String, u16, String)> = inv
        .vrrp_instances()
        .into_iter()
        .map(|i| (i.name, i.vrid, i.master))
        .collect();
    assert_eq!(
        inst,
        [
            ("VI_LVSPROV".to_string(), 51, "lvs01".to_string()),
            ("VI_LVSPROV_lvs02".to_string(), 52, "lvs02".to_string())
        ]
    );
}

/// UDP services keep their UDP checks: DNS_CHECK with its name and type (lower case in the
/// file, as people write it), UDP_CHECK as it is; nothing is reported as not imported.
#[test]
fn udp_services_keep_their_dns_and_udp_checks() {
    let vs = |port: u16, proto: &str, check: &str| {
        format!("virtual_server 192.168.100.10 {port} {{\n    delay_loop 6\n    lb_algo rr\n    lb_kind DR\n    protocol {proto}\n    real_server 192.168.100.201 {port} {{\n        weight 1\n        {check}\n    }}\n}}\n")
    };
    let conf = "vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    advert_int 1\n    authentication {\n        auth_type PASS\n        auth_pass secret1\n    }\n    virtual_ipaddress {\n        192.168.100.10\n    }\n}\n".to_string()
        + &vs(80, "TCP", "TCP_CHECK {\n            connect_timeout 3\n        }")
        + &vs(53, "UDP", "DNS_CHECK {\n            type txt\n            name who.lab\n        }")
        + &vs(514, "UDP", "UDP_CHECK {\n            connect_timeout 2\n        }");
    let seen = vec![
        Seen {
            target: "192.168.100.11".into(),
            facts: host(
                "lvs01",
                "192.168.100.11",
                &[VIP_ETH0],
                &[],
                &[(import::KEEPALIVED_CONF, &conf)],
            ),
        },
        Seen {
            target: "192.168.100.201".into(),
            facts: host(
                "web01",
                "192.168.100.201",
                &[VIP_LO],
                &[],
                &[(import::PAGE, PAGE1)],
            ),
        },
    ];
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    assert_eq!(got.not_mapped, Vec::<String>::new(), "{v}");
    let check = |i: usize| &v["services"][i]["health_check"];
    assert_eq!(v["services"][1]["protocol"], "udp", "{v}");
    assert_eq!(
        (
            &check(1)["type"],
            &check(1)["name"],
            &check(1)["query_type"]
        ),
        (&"dns".into(), &"who.lab".into(), &"TXT".into()),
        "{v}"
    );
    assert_eq!(check(2)["type"], "udp", "{v}");
    assert_eq!(check(2)["connect_timeout"], 2, "{v}");
    let inv = inventory::parse(&v.to_string()).expect("check accepts it");
    assert_eq!(
        inv.services[1].health_check.kind,
        inventory::HealthKind::Dns
    );
}

/// A keepalived.conf with track scripts, a tracked NIC, notify hooks and a preempt delay (as
/// lvsprov writes them)
/// imports into an inventory whose plan leaves that keepalived.conf as it is: the next `up`
/// changes nothing of how the directors fail over.
#[test]
fn track_scripts_and_notify_hooks_import_and_plan_no_keepalived_change() {
    let hooks = "    # The inventory's track scripts and notify hooks run as root; keepalived refuses one that\n    # a user other than root could change.\n    script_user root\n    enable_script_security\n}\n\nvrrp_script uplink {\n    script \"/usr/local/bin/check-uplink eth1\"\n    interval 2\n    weight -60\n    fall 3\n    rise 2\n}\n\nvrrp_instance VI_LVSPROV {";
    let tracking = "    advert_int 1\n    # Back after a restart, wait before taking the VIPs from a peer: its connection sync fills\n    # this director's IPVS table meanwhile, so the sessions it serves survive the failback.\n    preempt_delay 30\n    # Besides eth0 (the instance's own, always tracked): down → this director's VIPs go.\n    track_interface {\n        eth1\n    }\n    track_script {\n        uplink\n    }\n    notify \"/usr/local/bin/lab-notify\"\n    notify_fault \"/usr/local/bin/page-oncall --vrrp\"\n";
    let conf = include_str!("golden/keepalived.conf")
        .replace("ens33", "eth0")
        .replacen("}\nvrrp_instance VI_LVSPROV {", hooks, 1)
        .replacen("    advert_int 1\n", tracking, 1)
        .replacen("state MASTER", "state BACKUP", 1);
    assert!(
        conf.contains("vrrp_script uplink") && conf.contains("notify_fault"),
        "{conf}"
    );
    let seen = keepalived_pair(&conf);
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(got.not_mapped, Vec::<String>::new());
    let k = &got.inventory["keepalived"];
    assert_eq!(
        k["track_scripts"],
        serde_json::json!([{ "name": "uplink", "script": "/usr/local/bin/check-uplink eth1",
            "interval": 2, "weight": -60, "fall": 3, "rise": 2 }])
    );
    assert_eq!(k["track_interfaces"], serde_json::json!(["eth1"]));
    assert_eq!(k["preempt_delay"], 30);
    assert_eq!(
        k["notify"],
        serde_json::json!({ "any": "/usr/local/bin/lab-notify", "fault": "/usr/local/bin/page-oncall --vrrp" })
    );
    let inv = inventory::parse(&got.inventory.to_string()).expect("check accepts it");
    // The recorded file's mode is the facts helper's; its text is what keepalived reads.
    keepalived_conf_unchanged(&inv, "lvs01", &seen[0].facts);
}

/// A service over ports 80 and 8080 as lvsprov builds it (keepalived's `virtual_server fwmark 1`,
/// the mark set by nftables) imports as that service again, its ports read from the marking rule,
/// and the plan leaves keepalived.conf as it is. A mark no rule sets is named, not guessed.
#[test]
fn a_firewall_mark_service_imports_with_the_ports_its_rule_marks() {
    let multi = common::plan::inventory_with("inventories/lab.json", |v| {
        let s = &mut v["services"][0];
        s.as_object_mut().unwrap().remove("port");
        s["ports"] = serde_json::json!([80, 8080]);
        s["persistence_timeout"] = 300.into();
    });
    let lvs01 = common::plan::recorded("rhel9/lvs01.txt");
    let d = common::plan::plan_for(&multi, "lvs01", &lvs01, Mode::Up).unwrap();
    let diff = &common::plan::find(&d, "file /etc/keepalived/keepalived.conf").diff;
    let vs: String = diff
        .lines()
        .skip_while(|l| !l.starts_with("+# 192.168.100.10 ports"))
        .map(|l| format!("{}\n", &l[1..]))
        .collect();
    assert!(vs.contains("virtual_server fwmark 1 {"), "{diff}");
    let golden = include_str!("golden/keepalived.conf");
    let conf = (golden[..golden.find("virtual_server").unwrap()].to_string() + &vs)
        .replace("ens33", "eth0");
    let mut seen = keepalived_pair(&conf);
    let rule = "\t\tip daddr 192.168.100.10 tcp dport { 80, 8080 } meta mark set 0x00000001";
    for s in &mut seen[..] {
        if s.target == "192.168.100.11" || s.target == "lvs02" {
            s.facts.marks = facts::marks::parse(&[rule]);
        }
    }
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    assert_eq!(got.not_mapped, Vec::<String>::new(), "{v}");
    let s = &v["services"][0];
    assert_eq!(
        (
            &s["ports"],
            &s["fwmark"],
            &s["persistence_timeout"],
            &s["port"]
        ),
        (
            &serde_json::json!([80, 8080]),
            &1.into(),
            &300.into(),
            &serde_json::Value::Null
        ),
        "{v}"
    );
    assert_eq!(s["real_servers"].as_array().unwrap().len(), 2, "{v}");
    let inv = inventory::parse(&v.to_string()).expect("check accepts it");
    keepalived_conf_unchanged(&inv, "lvs01", &seen[0].facts);
    // Without the rule, the mark's ports are unknown: named, and the service left out.
    for s in &mut seen[..] {
        s.facts.marks.clear();
    }
    let got = import::inventory(&seen, &Options::default());
    assert!(
        got.not_mapped
            .iter()
            .any(|n| n.contains("firewall mark 1 is balanced but no nftables or iptables rule")),
        "{:?}",
        got.not_mapped
    );
}

/// A hand-built director without keepalived balancing a mark that iptables sets (the recipes'
/// way): the service over the marked ports, its real servers and persistence from the table.
#[test]
fn a_hand_built_mark_set_by_iptables_imports_from_the_table() {
    let mut seen = seed_cluster("-a -f 1 -r 192.168.100.202:0 -g -w 1");
    seen[0].facts = host(
        "lvs01",
        "192.168.100.11",
        &[VIP_ETH0],
        &[
            "-A -f 1 -s rr -p 120",
            "-a -f 1 -r 192.168.100.201:0 -g -w 1",
            "-a -f 1 -r 192.168.100.202:0 -g -w 1",
        ],
        &[],
    );
    seen[0].facts.marks = facts::marks::parse(&[
        "-A PREROUTING -d 192.168.100.10/32 -p tcp -m multiport --dports 80,443 -j MARK --set-xmark 0x1/0xffffffff",
    ]);
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    assert_eq!(got.not_mapped, Vec::<String>::new(), "{v}");
    let s = &v["services"][0];
    assert_eq!(
        (&s["ports"], &s["fwmark"], &s["persistence_timeout"]),
        (&serde_json::json!([80, 443]), &1.into(), &120.into()),
        "{v}"
    );
    let names: Vec<&str> = s["real_servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web01", "web02"], "{v}");
    // 443 is no port lvsprov's web server takes: the backends are the operator's.
    assert_eq!(v["real_servers"][0]["web_server"], false, "{v}");
    inventory::parse(&v.to_string()).expect("check accepts it");
}

/// A dual-stack cluster as lvsprov builds it (the IPv6 VIP in `virtual_ipaddress_excluded`, a
/// `virtual_server` on it to the real servers' IPv6 addresses, the VIP on each real server's lo
/// as /128) imports with `network6`, each host's `address6` and the IPv6 service, and the plan
/// leaves keepalived.conf as it is.
#[test]
fn an_ipv6_vip_imports_with_network6_and_each_hosts_address6() {
    let golden = include_str!("golden/keepalived.conf");
    let v4 = &golden[golden.find("virtual_server").unwrap()..];
    let v6 = v4
        .replace("192.168.100.10 ", "fd00:100::10 ")
        .replace("192.168.100.201", "fd00:100::201")
        .replace("192.168.100.202", "fd00:100::202");
    let conf = golden
        .replacen(
            "label ens33:0\n    }\n",
            "label ens33:0\n    }\n    # IPv6 VIPs, moved with this instance's state: its adverts are IPv4 (VRRPv2 has no IPv6).\n    virtual_ipaddress_excluded {\n        fd00:100::10/128 dev ens33\n    }\n",
            1,
        )
        .replace("ens33", "eth0")
        + "\n"
        + &v6;
    let inet6 = |dev: &str, a: &str| {
        format!(
            "2: {dev}    inet6 {a} scope global \\       valid_lft forever preferred_lft forever"
        )
    };
    let link = "2: eth0    inet6 fe80::ff:fe00:640b/64 scope link \\       valid_lft forever preferred_lft forever".to_string();
    let lo6 = inet6("lo", "fd00:100::10/128").replacen("2: lo", "1: lo", 1);
    let mut seen = keepalived_pair(&conf);
    let extra = |last: &str, vip: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vip.iter().map(|s| s.to_string()).collect();
        v.push(inet6("eth0", &format!("fd00:100::{last}/64")));
        v.push(link.clone());
        v
    };
    for s in &mut seen {
        let (name, last, vips): (&str, &str, Vec<String>) = match s.target.as_str() {
            "192.168.100.11" => (
                "lvs01",
                "11",
                vec![VIP_ETH0.into(), inet6("eth0", "fd00:100::10/128")],
            ),
            "lvs02" => ("lvs02", "12", vec![]),
            "192.168.100.201" => ("web01", "201", vec![VIP_LO.into(), lo6.clone()]),
            _ => ("web02", "202", vec![VIP_LO.into(), lo6.clone()]),
        };
        let refs: Vec<&str> = vips.iter().map(String::as_str).collect();
        let lines = extra(last, &refs);
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let conf_here = s
            .facts
            .files
            .get(import::KEEPALIVED_CONF)
            .map(|f| f.content.clone());
        let page = s.facts.files.get(import::PAGE).map(|f| f.content.clone());
        let mut files: Vec<(&str, &str)> = Vec::new();
        if let Some(c) = &conf_here {
            files.push((import::KEEPALIVED_CONF, c));
        }
        if let Some(p) = &page {
            files.push((import::PAGE, p));
        }
        let rules: &[&str] = if name == "lvs01" {
            &["-A -t 192.168.100.10:80 -s rr"]
        } else {
            &[]
        };
        s.facts = host(name, &format!("192.168.100.{last}"), &lines, rules, &files);
    }
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    assert_eq!(got.not_mapped, Vec::<String>::new(), "{v}");
    assert_eq!(v["network6"], "fd00:100::/64", "{v}");
    assert_eq!(v["real_servers"][0]["address6"], "fd00:100::201", "{v}");
    assert_eq!(v["directors"][1]["address6"], "fd00:100::12", "{v}");
    let s6 = &v["services"][1];
    assert_eq!(s6["vip"], "fd00:100::10", "{v}");
    assert_eq!(s6["real_servers"].as_array().unwrap().len(), 2, "{v}");
    let inv = inventory::parse(&v.to_string()).expect("check accepts it");
    keepalived_conf_unchanged(&inv, "lvs01", &seen[0].facts);
}

/// The keepalived.conf `up` writes on `director` for `inv`, from the plan on a fresh RHEL 9
/// director (the file is new there, so its diff is the whole file, auth_pass masked), its NIC
/// renamed to the imported hosts' eth0.
fn rendered_conf(inv: &inventory::Inventory, director: &str) -> String {
    let fresh = common::plan::recorded("rhel9/lvs01.txt");
    let d = common::plan::plan_for(inv, director, &fresh, Mode::Up).unwrap();
    let diff = &common::plan::find(&d, "file /etc/keepalived/keepalived.conf").diff;
    diff.lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| format!("{}\n", &l[1..]).replace("ens33", "eth0"))
        .collect()
}

/// Everything issue 27 added, at once, as `up` builds it: an HTTP check on a health page with a
/// sorry server and inhibit_on_failure, a firewall-mark service over 80 and 8080, a DNS service
/// over UDP, and an IPv6 VIP. `import` of those hosts gives an inventory whose plan leaves both
/// directors' keepalived.conf exactly as they are.
#[test]
fn every_service_shape_imports_into_an_inventory_that_changes_no_keepalived_conf() {
    let inv = common::plan::inventory_with("inventories/lab.json", |v| {
        let web03 = serde_json::json!({ "name": "web03", "address": "192.168.100.203", "page": "<h1>sorry</h1>" });
        v["real_servers"].as_array_mut().unwrap().push(web03);
        common::lab_ipv6(v);
        let base = v["services"][0].clone();
        let s = &mut v["services"][0];
        s["health_check"] =
            serde_json::json!({ "type": "http", "path": "/health.html", "delay_loop": 6 });
        s["sorry_server"] = "web03".into();
        s["inhibit_on_failure"] = true.into();
        let mut marked = base.clone();
        marked["vip"] = "192.168.100.20".into();
        marked.as_object_mut().unwrap().remove("port");
        marked["ports"] = serde_json::json!([80, 8080]);
        marked["persistence_timeout"] = 120.into();
        let mut dns = base.clone();
        dns["port"] = 53.into();
        dns["protocol"] = "udp".into();
        dns["health_check"] = serde_json::json!({ "type": "dns", "name": "who.lab", "query_type": "TXT", "delay_loop": 6 });
        let mut v6 = base;
        v6["vip"] = "fd00:100::10".into();
        let all = v["services"].as_array_mut().unwrap();
        all.extend([marked, dns, v6]);
    });
    let confs = ["lvs01", "lvs02"].map(|d| rendered_conf(&inv, d));
    assert!(
        confs[0].contains("virtual_server fwmark 1 {")
            && confs[0].contains("virtual_ipaddress_excluded")
            && confs[0].contains("DNS_CHECK")
            && confs[0].contains("sorry_server 192.168.100.203 80"),
        "{}",
        confs[0]
    );
    let v6 = |dev: &str, a: &str| {
        format!(
            "{}: {dev}    inet6 {a} scope global \\       valid_lft forever preferred_lft forever",
            if dev == "lo" { 1 } else { 2 }
        )
    };
    let v4 = |dev: &str, a: &str| {
        format!("{}: {dev}    inet {a}/32 scope global {dev}:9\\       valid_lft forever preferred_lft forever", if dev == "lo" { 1 } else { 2 })
    };
    let mark = "\t\tip daddr 192.168.100.20 tcp dport { 80, 8080 } meta mark set 0x00000001";
    let mut seen = Vec::new();
    for (name, last) in [
        ("lvs01", "11"),
        ("lvs02", "12"),
        ("web01", "201"),
        ("web02", "202"),
        ("web03", "203"),
    ] {
        let mut addrs = vec![v6("eth0", &format!("fd00:100::{last}/64"))];
        let mut files: Vec<(&str, String)> = Vec::new();
        match name {
            "lvs01" => {
                addrs.extend([
                    v4("eth0", "192.168.100.10"),
                    v4("eth0", "192.168.100.20"),
                    v6("eth0", "fd00:100::10/128"),
                ]);
                files.push((import::KEEPALIVED_CONF, confs[0].clone()));
            }
            "lvs02" => files.push((import::KEEPALIVED_CONF, confs[1].clone())),
            _ => {
                addrs.extend([
                    v4("lo", "192.168.100.10"),
                    v4("lo", "192.168.100.20"),
                    v6("lo", "fd00:100::10/128"),
                ]);
                let page = inv
                    .hosts
                    .iter()
                    .find(|h| h.name == name)
                    .unwrap()
                    .page()
                    .unwrap();
                files.push((import::PAGE, format!("{page}\n")));
            }
        }
        let lines: Vec<&str> = addrs.iter().map(String::as_str).collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        let mut facts = host(name, &format!("192.168.100.{last}"), &lines, &[], &files);
        if name.starts_with("lvs") {
            facts.marks = facts::marks::parse(&[mark]);
        }
        seen.push(Seen {
            target: format!("192.168.100.{last}"),
            facts,
        });
    }
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    assert_eq!(got.not_mapped, Vec::<String>::new(), "{v}");
    let back = inventory::parse(&v.to_string()).expect("check accepts it");
    assert_eq!(back.services.len(), 4, "{v}");
    for (i, d) in ["lvs01", "lvs02"].into_iter().enumerate() {
        keepalived_conf_unchanged(&back, d, &seen[i].facts);
    }
}

/// `file` as `up` writes it on a fresh Debian director for `inv` (the whole file is its diff
/// there), with the sessions' password shown as it is on the host, not as the diff masks it.
fn rendered_on_debian(inv: &inventory::Inventory, director: &str, file: &str) -> String {
    let fresh = common::plan::debian_ecmp_director();
    let d = common::plan::plan_for(inv, director, &fresh, Mode::Up).unwrap();
    let diff = &common::plan::find(&d, &format!("file {file}")).diff;
    diff.lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| format!("{}\n", &l[1..]))
        .collect::<String>()
        .replace("password ********", "password \"lvs-lab-bgp\";")
}

/// An ECMP cluster as `up` builds it (inventories/lab-ecmp.json: a session password, BFD, here a
/// hold time of 30 s): `import` reads each director's bird.conf back into the `ecmp` block, with
/// no `keepalived` block and no complaint about directors without VRRP, and the plan on those
/// hosts changes neither keepalived.conf nor bird.conf. A hand-built bird.conf's other protocols
/// are named: lvsprov's own replaces it.
#[test]
fn an_ecmp_cluster_imports_its_bgp_sessions_and_plans_no_conf_change() {
    let inv = common::plan::inventory_with("inventories/lab-ecmp.json", |v| {
        v["ecmp"]["hold_time"] = 30.into();
    });
    let conf = |d: &str, f: &str| rendered_on_debian(&inv, d, f);
    let bird = import::BIRD_CONF;
    let vip_lo = "1: lo    inet 192.168.100.10/32 scope global lo:0\\       valid_lft forever preferred_lft forever";
    let mut seen = Vec::new();
    for (name, last) in [
        ("lvs01", "11"),
        ("lvs02", "12"),
        ("web01", "201"),
        ("web02", "202"),
    ] {
        let files: Vec<(&str, String)> = if name.starts_with("lvs") {
            vec![
                (import::KEEPALIVED_CONF, conf(name, import::KEEPALIVED_CONF)),
                (bird, conf(name, bird)),
            ]
        } else {
            let page = inv.host(name).unwrap().page().unwrap();
            vec![(import::PAGE, format!("{page}\n"))]
        };
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        seen.push(Seen {
            target: format!("192.168.100.{last}"),
            facts: host(name, &format!("192.168.100.{last}"), &[vip_lo], &[], &files),
        });
    }
    assert!(seen[0].facts.files[bird]
        .content
        .contains("password \"lvs-lab-bgp\";"));
    let got = import::inventory(&seen, &Options::default());
    let v = &got.inventory;
    assert_eq!(got.not_mapped, Vec::<String>::new(), "{v}");
    assert!(
        got.secret,
        "the password is a secret: the file is written 0600"
    );
    assert_eq!(
        v["ecmp"],
        serde_json::json!({ "asn": 65010, "hold_time": 30, "routers": [
            { "address": "192.168.100.254", "asn": 65000, "bfd": true, "password": "lvs-lab-bgp" } ] }),
        "{v}"
    );
    assert!(v.get("keepalived").is_none(), "{v}");
    assert_eq!(v["services"][0]["scheduler"], "mh");
    let back = inventory::parse(&v.to_string()).expect("check accepts it");
    for (i, d) in ["lvs01", "lvs02"].into_iter().enumerate() {
        for file in [import::KEEPALIVED_CONF, bird] {
            conf_unchanged(&back, d, &seen[i].facts, file);
        }
    }

    // Hand-built: a kernel protocol and a session of its own; the session is read, the rest named.
    let own = "protocol kernel { ipv4 { export all; }; }\nprotocol bgp up { local as 65010; neighbor 192.168.100.254 as 65000; }\n";
    seen[0].facts = host(
        "lvs01",
        "192.168.100.11",
        &[vip_lo],
        &[],
        &[
            (
                import::KEEPALIVED_CONF,
                &conf("lvs01", import::KEEPALIVED_CONF),
            ),
            (bird, own),
        ],
    );
    let got = import::inventory(&seen, &Options::default());
    assert_eq!(
        got.inventory["ecmp"]["routers"][0],
        serde_json::json!({ "address": "192.168.100.254", "asn": 65000 })
    );
    assert!(
        got.not_mapped.len() == 2
            && got.not_mapped[0].contains("also runs BIRD protocols kernel")
            && got.not_mapped[1]
                .starts_with("192.168.100.12: its BGP sessions in /etc/bird/bird.conf differ"),
        "{:?}",
        got.not_mapped
    );
}
