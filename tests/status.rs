//! `status`'s judging, from facts as the hosts print them: the lab's recorded facts with the
//! addresses and live sections a running cluster prints (as read in the real-kernel lab: the
//! lab's story `status_shows_the_holder_vrrp_states_and_the_live_sessions` reads real ones).

mod common;

use common::plan::inventory;
use common::{lvsprov, repo};
use lvsprov::commands::status::build;
use lvsprov::facts::{self, Facts};
use lvsprov::inventory::{Host, Inventory};

fn lab() -> Inventory {
    inventory("inventories/lab.json")
}

fn table(web02: Option<&str>) -> String {
    let web02 = web02.unwrap_or("");
    format!(
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         TCP  192.168.100.10:80 rr\n  -> 192.168.100.201:80           Route   1      2          5\n{web02}"
    )
}

/// lvs01's recorded facts, holding the VIP or not, with keepalived `state`, the sync daemons
/// running (`sync`: roles, space-separated) and the table.
fn director(holds: bool, keepalived: &str, state: &str, sync: &str, web02: Option<&str>) -> Facts {
    let text = std::fs::read_to_string(repo().join("tests/facts/debian12-lvs01.txt")).unwrap();
    let vip = if holds {
        "49: eth0    inet 192.168.100.10/32 scope global eth0\\       valid_lft forever preferred_lft forever\n"
    } else {
        ""
    };
    let text = text.replace("@@ipvs\n", &format!("{vip}@@ipvs\n"));
    let stats = "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n\
                 TCP  192.168.100.10:80                  12       72        0     4712        0\n\
                   -> 192.168.100.201:80                  7       40        0     2600        0\n\
                   -> 192.168.100.202:80                  5       32        0     2112        0\n";
    let daemons: String = sync
        .split_whitespace()
        .map(|r| format!("{r} sync daemon (mcast=eth0, syncid=51)\n"))
        .collect();
    let live = format!(
        "@@ipvsd\n{daemons}@@live\nread\n{}@@livestats\n{stats}@@liverate\n{}@@liveconns\n9\n@@vrrp\n{keepalived}\n\
         (VI_LVSPROV) Entering BACKUP STATE (init)\n(VI_LVSPROV) Entering {state} STATE\n@@end\n",
        table(web02),
        stats.replace(" 12 ", " 3 ")
    );
    facts::parse(&text.replace("@@end\n", &live)).unwrap()
}

fn web(vip_on_lo: bool) -> Facts {
    let text =
        std::fs::read_to_string(repo().join("tests/facts/debian12-web01-converged.txt")).unwrap();
    let text = if vip_on_lo {
        text
    } else {
        text.replace(
            "inet 192.168.100.10/32 scope global lo:0",
            "inet 127.0.0.2/32 scope global lo:0",
        )
    };
    facts::parse(&text).unwrap()
}

const WEB02: &str = "  -> 192.168.100.202:80           Route   1      1          4\n";

fn seen(inv: &Inventory, facts: Vec<Result<Facts, String>>) -> Vec<(Host, Result<Facts, String>)> {
    ["lvs01", "lvs02", "web01", "web02"]
        .iter()
        .map(|n| inv.host(n).unwrap().clone())
        .zip(facts)
        .collect()
}

fn healthy_facts() -> Vec<Result<Facts, String>> {
    vec![
        Ok(director(
            true,
            "active",
            "MASTER",
            "master backup",
            Some(WEB02),
        )),
        Ok(director(
            false,
            "active",
            "BACKUP",
            "master backup",
            Some(WEB02),
        )),
        Ok(web(true)),
        Ok(web(true)),
    ]
}

#[test]
fn a_serving_cluster_is_healthy_with_the_holders_numbers() {
    let inv = lab();
    let r = build(&inv, &seen(&inv, healthy_facts()));
    assert_eq!(
        (r.health, r.problems.len()),
        ("healthy", 0),
        "{:?}",
        r.problems
    );
    let svc = &r.services[0];
    assert_eq!(svc.holder.as_deref(), Some("lvs01"));
    assert_eq!((svc.conns_total, svc.cps), (12, 3));
    let web01 = &svc.real_servers[0];
    assert_eq!(
        (
            web01.check,
            web01.weight,
            web01.active,
            web01.inactive,
            web01.conns_total,
            web01.in_bytes_total
        ),
        ("up", Some(1), 2, 5, 7, 2600)
    );
    assert_eq!(r.directors[0].vrrp["VI_LVSPROV"], "MASTER");
    assert_eq!(r.directors[1].vrrp["VI_LVSPROV"], "BACKUP");
    assert_eq!(
        r.directors[0].conn_entries, 8,
        "the header line of /proc/net/ip_vs_conn is no entry"
    );
    let text = r.human();
    assert!(text.starts_with("status: healthy\n"), "{text}");
    assert!(text.contains("via lvs01"), "{text}");
}

#[test]
fn each_problem_is_named_with_where_to_look() {
    let inv = lab();
    let judge = |f: Vec<Result<Facts, String>>| build(&inv, &seen(&inv, f));

    let mut f = healthy_facts();
    f[1] = Ok(director(
        true,
        "active",
        "MASTER",
        "master backup",
        Some(WEB02),
    ));
    let split = judge(f);
    assert_eq!(split.health, "degraded");
    assert!(
        split
            .problems
            .iter()
            .any(|p| p.contains("split brain") && p.contains("lvs01 and lvs02")),
        "{:?}",
        split.problems
    );

    let mut f = healthy_facts();
    f[0] = Ok(director(true, "active", "MASTER", "master backup", None));
    let out = judge(f);
    assert_eq!(out.services[0].real_servers[1].check, "down");
    assert!(
        out.problems
            .iter()
            .any(|p| p.starts_with("web02: out of 192.168.100.10:80")),
        "{:?}",
        out.problems
    );

    let mut f = healthy_facts();
    f[1] = Ok(director(
        false,
        "inactive",
        "BACKUP",
        "master backup",
        Some(WEB02),
    ));
    let stopped = judge(f);
    assert!(
        stopped
            .problems
            .iter()
            .any(|p| p.starts_with("lvs02: keepalived is inactive")),
        "{:?}",
        stopped.problems
    );

    // A backup that sends but does not receive would reset every session if it took over.
    let mut f = healthy_facts();
    f[1] = Ok(director(false, "active", "BACKUP", "master", Some(WEB02)));
    let deaf = judge(f);
    assert_eq!(
        deaf.problems,
        ["lvs02: no backup sync daemon runs, so a failover between it and its peers resets sessions (`ipvsadm -L --daemon` there; `lvsprov up` starts it)"],
        "{:?}",
        deaf.problems
    );

    let mut f = healthy_facts();
    f[0] = Ok(director(
        false,
        "active",
        "BACKUP",
        "master backup",
        Some(WEB02),
    ));
    let nobody = judge(f);
    assert_eq!(nobody.health, "down", "{:?}", nobody.problems);

    let mut f = healthy_facts();
    f[3] = Ok(web(false));
    let lost = judge(f);
    assert!(
        lost.problems
            .iter()
            .any(|p| p.starts_with("web02: 192.168.100.10 is not on lo")),
        "{:?}",
        lost.problems
    );

    let mut f = healthy_facts();
    f[1] = Err("connect timed out after 10 s".into());
    let gone = judge(f);
    assert_eq!(gone.health, "degraded");
    assert_eq!(
        gone.directors[1].error.as_deref(),
        Some("connect timed out after 10 s")
    );
}

#[test]
fn metrics_are_prometheus_text_with_one_help_and_type_per_family() {
    let inv = lab();
    let text = build(&inv, &seen(&inv, healthy_facts())).prometheus();
    assert!(text.contains("lvsprov_real_server_active_connections{vip=\"192.168.100.10\",port=\"80\",protocol=\"tcp\",director=\"lvs01\",real_server=\"web01\"} 2\n"), "{text}");
    assert!(
        text.contains(
            "lvsprov_vrrp_state{director=\"lvs02\",instance=\"VI_LVSPROV\",state=\"BACKUP\"} 1\n"
        ),
        "{text}"
    );
    for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
        assert_eq!(text.matches(&format!("{line}\n")).count(), 1, "{line}");
    }
}

/// `--textfile` names a folder node_exporter reads: one that is not there is a usage error
/// before any host is asked (exit 3), and is not made.
#[test]
fn a_textfile_folder_that_is_not_there_is_refused_before_any_host() {
    let dir = std::env::temp_dir().join(format!("lvsprov-textfile-{}", std::process::id()));
    let args = [
        "status",
        "inventories/lab.json",
        "--textfile",
        dir.to_str().unwrap(),
    ];
    let (code, _, err) = lvsprov(&args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("--textfile") && err.contains("no such folder"),
        "{err}"
    );
    assert!(!err.contains("web01"), "no host was asked: {err}");
    assert!(!dir.exists());
}
