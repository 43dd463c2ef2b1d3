//! Plan tests: recorded facts × the real playbooks → the exact changes, with no host involved.
//! Debian facts were recorded from the labs (see tests/facts/README.md); RHEL 7/9 facts are written
//! from documented outputs.

mod common;

use common::plan::{find, inventory, inventory_with, names, plan_for, recorded};
use lvsprov::facts::{self, Facts};
use lvsprov::inventory::{self, Inventory};
use lvsprov::plan::{plan, Mode};
use lvsprov::playbook::Playbooks;
use lvsprov::resources::{Action, Change, DownOptions, Step};
use std::path::Path;

/// `facts` (an nftables host) after lvsprov's rules are live (`open`, as the facts list them), in
/// lvsprov's chain (`@jump`), persisted in `file` and enabled at boot.
fn nft_applied(facts: &str, open: &str, file: &str) -> String {
    let section =
        facts::files::section_lines(&[("/etc/lvsprov/firewall.nft", "644", file.as_bytes())]);
    facts
        .replace(
            "@@firewall\nnftables inet filter input",
            &format!("@@firewall\nnftables inet filter input\n{open}@jump"),
        )
        .replace("@@files\n", &format!("@@files\n{section}"))
        .replace(
            "@@files\n",
            "@@files\n/etc/systemd/system/multi-user.target.wants/lvsprov-firewall.service @link /etc/systemd/system/lvsprov-firewall.service\n",
        )
}

/// A container with no init: live state only, as its inventory says (`"persist": false`).
#[test]
fn fresh_debian_real_server_gets_the_whole_role_in_order() {
    let inv = inventory("inventories/lab-containers.json");
    let f = recorded("debian12-web01.txt");
    let changes = plan_for(&inv, "web01", &f, Mode::Up).unwrap();
    assert_eq!(
        names(&changes),
        [
            "hostname",
            "package apache2",
            "file /var/www/html/index.html",
            "sysctl net.ipv4.conf.all.arp_ignore",
            "sysctl net.ipv4.conf.all.arp_announce",
            "sysctl net.ipv4.conf.lo.arp_ignore",
            "sysctl net.ipv4.conf.lo.arp_announce",
            "sysctl net.ipv4.conf.eth0.arp_ignore",
            "sysctl net.ipv4.conf.eth0.arp_announce",
            "file /etc/sysctl.d/90-lvsprov.conf",
            "address 192.168.100.10 on lo",
            "service apache2",
            "service apache2",
        ]
    );
    assert!(find(&changes, "file /var/www/html/index.html")
        .diff
        .contains("+<h1>this is kg web</h1>"));
    let vip = find(&changes, "address 192.168.100.10 on lo");
    assert_eq!(vip.diff, "absent → 192.168.100.10/32 on lo:0");
    assert!(vip
        .script
        .contains("ip addr add 192.168.100.10/32 dev lo label lo:0"));
    assert!(find(&changes, "package apache2")
        .script
        .contains("apt-get install"));
}

#[test]
fn a_host_that_boots_nothing_is_refused_unless_its_inventory_says_live_only() {
    let err = plan_for(
        &inventory("inventories/lab.json"),
        "web01",
        &recorded("debian12-web01.txt"),
        Mode::Up,
    )
    .unwrap_err();
    assert!(
        err.contains("nothing this host runs at boot would bring back the VIP")
            && err.contains("no init system")
            && err.contains("\"persist\": false")
            && err.contains("nothing was changed"),
        "{err}"
    );
}

/// A systemd host (recorded in the real-kernel lab): the VIP comes back at boot through
/// lvsprov's own unit, enabled; IPVS-less ifupdown files are not written.
#[test]
fn a_systemd_debian_real_server_persists_the_vip_with_a_unit() {
    let inv = inventory("inventories/lab.json");
    let f = recorded("debian12-systemd-web01.txt");
    let changes = plan_for(&inv, "web01", &f, Mode::Up).unwrap();
    let unit = find(&changes, "file /etc/systemd/system/lvsprov-vip.service");
    assert!(unit
        .diff
        .contains("+ExecStart=/sbin/ip addr replace 192.168.100.10/32 dev lo label lo:0"));
    let enable = &changes
        .iter()
        .filter(|c| c.resource == "service lvsprov-vip")
        .map(|c| c.script.as_str())
        .collect::<Vec<_>>();
    assert!(
        enable[0].contains("systemctl --no-reload enable lvsprov-vip"),
        "{enable:?}"
    );
    assert!(!names(&changes).iter().any(|n| n.contains("interfaces.d")));
    // sysvinit with ifupdown sourcing interfaces.d: the ifupdown file, no unit.
    let sysv = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian12-web01.txt"),
    )
    .unwrap()
    .replace("@@init\nnone", "@@init\nsysv\nifupdown");
    let changes = plan_for(&inv, "web01", &facts::parse(&sysv).unwrap(), Mode::Up).unwrap();
    let persisted = find(&changes, "file /etc/network/interfaces.d/lvsprov-vip");
    assert!(persisted.diff.contains("+    netmask 255.255.255.255"));
    assert!(!names(&changes)
        .iter()
        .any(|n| n.contains("lvsprov-vip.service")));
}

#[test]
fn a_converged_host_plans_nothing_and_down_undoes_it_in_reverse() {
    let inv = inventory("inventories/lab.json");
    let f = recorded("debian12-web01-converged.txt");
    assert_eq!(
        names(&plan_for(&inv, "web01", &f, Mode::Up).unwrap()),
        Vec::<String>::new()
    );
    let down = plan_for(&inv, "web01", &f, Mode::Down(DownOptions::default())).unwrap();
    let order = names(&down);
    let pos = |r: &str| order.iter().position(|x| x == r).unwrap();
    // The VIP leaves lo before the ARP sysctls that kept it quiet are relaxed.
    assert!(pos("address 192.168.100.10 on lo") < pos("sysctl net.ipv4.conf.all.arp_ignore"));
    assert_eq!(
        find(&down, "sysctl net.ipv4.conf.all.arp_ignore").diff,
        "1 → 0"
    );
    assert_eq!(
        find(&down, "file /var/www/html/index.html").action,
        Action::Delete
    );
    assert!(
        !order.iter().any(|r| r.starts_with("package")),
        "packages stay without --purge"
    );
    assert_eq!(
        order.last().map(String::as_str),
        Some("state /var/lib/lvsprov"),
        "the state goes last"
    );
    let purge = plan_for(&inv, "web01", &f, Mode::Down(DownOptions { purge: true })).unwrap();
    assert!(find(&purge, "package apache2")
        .script
        .contains("apt-get purge"));
}

#[test]
fn a_director_without_ipvs_is_refused_before_any_change() {
    let inv = inventory("inventories/lab.json");
    let err = plan_for(&inv, "lvs01", &recorded("debian12-lvs01.txt"), Mode::Up).unwrap_err();
    assert!(
        err.contains("no IPVS") && err.contains("modprobe ip_vs") && err.contains("CONFIG_IP_VS"),
        "{err}"
    );
}

#[test]
fn rhel7_real_server_uses_yum_httpd_ifcfg_and_opens_the_port() {
    let inv = inventory("inventories/lab.json");
    let f = recorded("rhel7/web01.txt");
    let changes = plan_for(&inv, "web01", &f, Mode::Up).unwrap();
    assert!(find(&changes, "package httpd")
        .script
        .contains("yum install -y -q httpd"));
    let ifcfg = find(&changes, "file /etc/sysconfig/network-scripts/ifcfg-lo:0");
    for line in [
        "+DEVICE=lo:0",
        "+IPADDR=192.168.100.10",
        "+NETMASK=255.255.255.255",
        "+ONBOOT=yes",
    ] {
        assert!(
            ifcfg.diff.contains(line),
            "{line} missing in {}",
            ifcfg.diff
        );
    }
    assert_eq!(
        find(&changes, "sysctl net.ipv4.conf.ens33.arp_announce").diff,
        "0 → 2"
    );
    let fw = find(&changes, "firewall port 80/tcp");
    assert!(fw
        .script
        .contains("firewall-cmd -q --permanent --zone=public --add-port=80/tcp"));
    assert!(!changes
        .iter()
        .any(|c| c.script.contains("systemctl stop firewalld") || c.script.contains("setenforce")));
    let svc: Vec<&Change> = changes
        .iter()
        .filter(|c| c.resource == "service httpd")
        .collect();
    assert_eq!(svc.len(), 2);
    assert!(
        svc[0].script.contains("systemctl --no-reload enable httpd")
            && svc[1].script.contains("systemctl start httpd")
    );
}

#[test]
fn rhel9_real_server_persists_the_vip_with_a_systemd_unit() {
    let inv = inventory("inventories/lab.json");
    let f = recorded("rhel9/web02.txt");
    let changes = plan_for(&inv, "web02", &f, Mode::Up).unwrap();
    let unit = find(&changes, "file /etc/systemd/system/lvsprov-vip.service");
    assert!(unit
        .diff
        .contains("+ExecStart=/sbin/ip addr replace 192.168.100.10/32 dev lo label lo:0"));
    assert!(unit.diff.contains("+After=systemd-sysctl.service"));
    assert!(find(&changes, "service lvsprov-vip")
        .script
        .contains("systemctl --no-reload enable lvsprov-vip"));
    assert!(find(&changes, "package httpd")
        .script
        .contains("dnf install -y -q httpd"));
    // Installed and open already: nothing to do for either.
    let done = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/rhel9/web02.txt"),
    )
    .unwrap()
    .replace("@@packages\n", "@@packages\nhttpd\n")
    .replace("  ports: \n  protocols: \n  forward: yes\n  masquerade: no\n  forward-ports: \n  source-ports: \n  icmp-blocks: \n  rich rules: \n\ntrusted", "  ports: 80/tcp\n  protocols: \n  forward: yes\n  masquerade: no\n  forward-ports: \n  source-ports: \n  icmp-blocks: \n  rich rules: \n\ntrusted");
    let changes = plan_for(&inv, "web02", &facts::parse(&done).unwrap(), Mode::Up).unwrap();
    assert!(
        !names(&changes).iter().any(|n| n.starts_with("package")),
        "httpd is installed"
    );
    assert!(
        !names(&changes).iter().any(|n| n.starts_with("firewall")),
        "80/tcp is open already: {:?}",
        names(&changes)
    );
}

#[test]
fn rhel9_director_with_keepalived_renders_dr_and_reloads_once() {
    let inv = inventory("inventories/lab.json");
    let f = recorded("rhel9-lvs01.txt");
    let changes = plan_for(&inv, "lvs01", &f, Mode::Up).unwrap();
    let conf = find(&changes, "file /etc/keepalived/keepalived.conf");
    for line in [
        "+    state MASTER",
        "+    priority 150",
        "+    interface ens33",
        "+    lvs_method DR",
        "+    lvs_sched rr",
        "+    real_server 192.168.100.201 80 {",
        "+        TCP_CHECK {",
        "+        192.168.100.10/32 dev ens33 label ens33:0",
    ] {
        assert!(conf.diff.contains(line), "{line} missing in\n{}", conf.diff);
    }
    let reloads: Vec<&Change> = changes
        .iter()
        .filter(|c| c.script.contains("systemctl reload-or-restart keepalived"))
        .collect();
    assert_eq!(
        reloads.len(),
        1,
        "one reload for the changed file and the owed one"
    );
    assert_eq!(find(&changes, "sysctl net.ipv4.ip_forward").diff, "0 → 1");
    assert!(
        !names(&changes).iter().any(|n| n.starts_with("address")),
        "keepalived owns the VIP"
    );
    let backup = plan_for(&inv, "lvs02", &f, Mode::Up).unwrap();
    assert!(find(&backup, "file /etc/keepalived/keepalived.conf")
        .diff
        .contains("+    state BACKUP"));
}

#[test]
fn a_reload_owed_by_a_failed_run_is_still_done() {
    let inv = inventory("inventories/lab.json");
    let mut f = recorded("rhel9-lvs01.txt");
    // keepalived.conf already as wanted (the rendered text; the diff masks auth_pass): only the
    // owed reload remains.
    let lvs01 = inv.hosts.iter().find(|h| h.name == "lvs01").unwrap();
    let wanted = Playbooks::default()
        .render(&inv, lvs01, &f)
        .unwrap()
        .into_iter()
        .find_map(|s| match s {
            Step::File(x) if x.path == "/etc/keepalived/keepalived.conf" => x.content,
            _ => None,
        })
        .unwrap()
        .text;
    f.files.insert(
        "/etc/keepalived/keepalived.conf".into(),
        facts::FileFact::new("640", wanted),
    );
    let changes = plan_for(&inv, "lvs01", &f, Mode::Up).unwrap();
    assert!(!names(&changes).contains(&"file /etc/keepalived/keepalived.conf".to_string()));
    assert_eq!(
        find(&changes, "service keepalived").diff,
        "running with an old config → reloaded"
    );
    f.pending_reloads.clear();
    let after = plan_for(&inv, "lvs01", &f, Mode::Up).unwrap();
    assert!(!names(&after).contains(&"service keepalived".to_string()));
}

#[test]
fn single_director_edits_ipvs_rules_in_place_then_saves_them() {
    let inv = inventory("tests/inventories/single-director.json");
    let changes = plan_for(&inv, "lvs01", &recorded("rhel9-lvs01.txt"), Mode::Up).unwrap();
    let order = names(&changes);
    let ipvs = find(&changes, "ipvs -t 192.168.100.10:80");
    assert!(ipvs
        .script
        .contains("ipvsadm -E -t 192.168.100.10:80 -s wrr"));
    assert!(ipvs
        .script
        .contains("ipvsadm -e -t 192.168.100.10:80 -r 192.168.100.202:80 -g -w 2"));
    assert!(ipvs
        .script
        .contains("ipvsadm -d -t 192.168.100.10:80 -r 192.168.100.203:80"));
    assert!(
        !ipvs.script.contains("192.168.100.201:80"),
        "a rule that is right is left alone"
    );
    let save = order
        .iter()
        .position(|r| r.starts_with("ipvs rules saved in /etc/sysconfig/ipvsadm"))
        .unwrap();
    assert!(
        save > order
            .iter()
            .position(|r| r == "ipvs -t 192.168.100.10:80")
            .unwrap(),
        "saved after the rules exist"
    );
    assert_eq!(
        find(&changes, "address 192.168.100.10 on ens33").diff,
        "absent → 192.168.100.10/32 on ens33:0"
    );
    assert!(!order.iter().any(|r| r.contains("keepalived")));
    // Its IPVS timeouts come back at boot (keepalived is not there to set them), after the rules.
    let unit = find(
        &changes,
        "file /etc/systemd/system/lvsprov-ipvs-timeouts.service",
    );
    assert!(
        unit.diff
            .contains("+ExecStart=/sbin/ipvsadm --set 7260 120 300")
            && unit
                .diff
                .contains("+After=systemd-modules-load.service ipvsadm.service"),
        "{}",
        unit.diff
    );
    let enable = find(&changes, "service lvsprov-ipvs-timeouts");
    assert!(enable
        .script
        .contains("systemctl --no-reload enable lvsprov-ipvs-timeouts"));
    assert!(
        !enable.script.contains("systemctl start"),
        "set live by up already"
    );
    // down disables the unit, then removes it.
    let path = "/etc/systemd/system/lvsprov-ipvs-timeouts.service";
    let mut after = recorded("rhel9-lvs01.txt");
    after
        .files
        .insert(path.into(), facts::FileFact::new("644", "x\n"));
    after.backups.insert(path.into());
    after.services.insert(
        "lvsprov-ipvs-timeouts".into(),
        facts::ServiceFact {
            active: true,
            enabled: true,
        },
    );
    let down = plan_for(&inv, "lvs01", &after, Mode::Down(DownOptions::default())).unwrap();
    let order = names(&down);
    let disable = order
        .iter()
        .position(|r| r == "service lvsprov-ipvs-timeouts")
        .unwrap_or_else(|| panic!("{order:?}"));
    assert!(find(&down, "service lvsprov-ipvs-timeouts")
        .script
        .contains("systemctl --no-reload disable lvsprov-ipvs-timeouts"));
    assert!(
        disable
            < order
                .iter()
                .position(|r| r == &format!("file {path}"))
                .unwrap()
    );
}

#[test]
fn down_on_a_keepalived_director_stops_it_and_removes_its_config() {
    let inv = inventory("inventories/lab.json");
    let mut f = recorded("rhel9-lvs01.txt");
    f.files.insert(
        "/etc/keepalived/keepalived.conf".into(),
        facts::FileFact::new("640", "x\n"),
    );
    f.backups.insert("/etc/keepalived/keepalived.conf".into());
    let down = plan_for(&inv, "lvs01", &f, Mode::Down(DownOptions::default())).unwrap();
    let order = names(&down);
    let stop = find(&down, "service keepalived");
    assert!(
        stop.script.contains("systemctl stop keepalived")
            && stop
                .script
                .contains("systemctl --no-reload disable keepalived")
    );
    assert!(
        order.iter().position(|r| r == "service keepalived")
            < order
                .iter()
                .position(|r| r == "file /etc/keepalived/keepalived.conf")
    );
    assert_eq!(
        find(&down, "file /etc/keepalived/keepalived.conf").action,
        Action::Delete
    );
}

#[test]
fn the_benchmark_playbook_plans_six_changes_then_none() {
    let inv = inventory("inventories/lab.json");
    let host = inv.hosts.iter().find(|h| h.name == "web01").unwrap();
    let books = Playbooks::new(Some(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/workload-a"),
    ));
    let mut f = recorded("debian12-web01.txt");
    let steps = books.render(&inv, host, &f).unwrap();
    let changes = plan(&steps, &f, Mode::Up).unwrap();
    let root = "/tmp/lvsbench/hosts/web01";
    assert_eq!(
        names(&changes),
        [
            format!("file {root}/etc/hostname"),
            format!("file {root}/etc/sysctl.d/90-lvs.conf"),
            format!("file {root}/etc/sysconfig/network-scripts/ifcfg-lo:0"),
            format!("line in {root}/var/www/html/index.html"),
            format!("line in {root}/etc/ipvsadm.rules"),
            format!("directory {root}/opt/lvs"),
        ]
    );
    // The host as the first run leaves it: nothing more to do.
    let file = |c: &str| facts::FileFact::new("644", c);
    f.files
        .insert(format!("{root}/etc/hostname"), file("web01\n"));
    f.files.insert(
        format!("{root}/etc/sysctl.d/90-lvs.conf"),
        file(&std::fs::read_to_string("bench/workload-a/90-lvs.conf.j2").unwrap()),
    );
    f.files.insert(
        format!("{root}/etc/sysconfig/network-scripts/ifcfg-lo:0"),
        file(&std::fs::read_to_string("bench/workload-a/ifcfg-lo0.j2").unwrap()),
    );
    f.files.insert(
        format!("{root}/var/www/html/index.html"),
        file("old line\n<h1>this is web01</h1>\n"),
    );
    f.files.insert(
        format!("{root}/etc/ipvsadm.rules"),
        file("-A -t 192.168.10.100:80 -s rr\n"),
    );
    f.dirs.insert(format!("{root}/opt/lvs"), "755".into());
    assert_eq!(
        names(&plan(&steps, &f, Mode::Up).unwrap()),
        Vec::<String>::new()
    );
    f.dirs.insert(format!("{root}/opt/lvs"), "700".into());
    let again = plan(&steps, &f, Mode::Up).unwrap();
    assert_eq!(again[0].diff, "mode 700 → mode 0755");
}

#[test]
fn a_one_character_password_is_masked_in_its_line_only() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("inventories/lab.json"))
            .unwrap()
            .replace("\"lvs-lab1\"", "\"1\"");
    let inv = inventory::parse(&text).unwrap();
    let changes = plan_for(&inv, "lvs01", &recorded("rhel9-lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&changes, "file /etc/keepalived/keepalived.conf").diff;
    assert!(conf.contains("+        auth_pass ********\n"), "{conf}");
    assert!(!conf.contains("auth_pass 1"), "{conf}");
    for kept in [
        "+    virtual_router_id 51",
        "+    priority 150",
        "+    advert_int 1",
        "weight 1",
    ] {
        assert!(conf.contains(kept), "{kept} lost its 1 in\n{conf}");
    }
    let sysctl = &find(&changes, "file /etc/sysctl.d/90-lvsprov.conf").diff;
    assert!(sysctl.contains("+net.ipv4.ip_forward = 1"), "{sysctl}");
    assert!(!sysctl.contains("********"), "{sysctl}");
    assert_eq!(find(&changes, "sysctl net.ipv4.ip_forward").diff, "0 → 1");
    // The real password is written to the host, never shown.
    let write = &find(&changes, "file /etc/keepalived/keepalived.conf").script;
    assert!(write.contains("auth_pass 1\n"));
    let lab = inventory("inventories/lab.json");
    let all = plan_for(&lab, "lvs01", &recorded("rhel9-lvs01.txt"), Mode::Up).unwrap();
    let json = serde_json::to_string(&all).unwrap();
    assert!(!json.contains("lvs-lab1") && json.contains("auth_pass ********"));
}

#[test]
fn an_os_without_a_platform_is_refused_with_the_reason() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian12-web01.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let ubuntu = text.replace("ID=debian", "ID=ubuntu\nID_LIKE=debian");
    match facts::parse(&ubuntu) {
        Err(facts::FactsError::Unsupported(m)) => assert!(m.contains("netplan"), "{m}"),
        other => panic!("Ubuntu must be refused, not taken for Debian: {other:?}"),
    }
    let suse = text.replace("ID=debian", "ID=opensuse-leap");
    assert!(matches!(
        facts::parse(&suse),
        Err(facts::FactsError::Unsupported(_))
    ));
}

#[test]
fn an_interrupted_package_database_is_finished_before_any_install() {
    let inv = inventory("inventories/lab-containers.json");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian12-web01.txt");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("@@end", "@@pkgdb\ninterrupted\n@@end");
    let f = facts::parse(&text).unwrap();
    assert!(f.package_db_interrupted);
    let changes = plan_for(&inv, "web01", &f, Mode::Up).unwrap();
    assert_eq!(
        names(&changes)[1..3],
        ["package database", "package apache2"]
    );
    assert!(changes[1].script.contains("dpkg --configure -a"));
}

/// Connection sync is lvsprov's, not keepalived's: both daemons on every director with the
/// inventory's interface and id, started at boot by a unit of its own, and none in
/// keepalived.conf (keepalived would stop them whenever it stops).
#[test]
fn directors_sync_connections_unless_told_not_to() {
    let lab = inventory("inventories/lab.json");
    let plan =
        |inv: &Inventory, f: &lvsprov::facts::Facts| plan_for(inv, "lvs02", f, Mode::Up).unwrap();
    let fresh = recorded("rhel9-lvs01.txt");
    let changes = plan(&lab, &fresh);
    assert!(!find(&changes, "file /etc/keepalived/keepalived.conf")
        .diff
        .contains("lvs_sync_daemon"));
    let sync = find(&changes, "ipvs sync daemons");
    assert_eq!(
        sync.diff,
        "none → master and backup (mcast=ens33, syncid=51), apart from keepalived"
    );
    assert!(sync
        .script
        .contains("ipvsadm --start-daemon backup --mcast-interface ens33 --syncid 51"));
    let unit = find(
        &changes,
        "file /etc/systemd/system/lvsprov-ipvs-sync.service",
    );
    assert!(unit.diff.contains(
        "+ExecStart=/sbin/ipvsadm --start-daemon master --mcast-interface ens33 --syncid 51\n"
    ));
    assert!(names(&changes).contains(&"service lvsprov-ipvs-sync".to_string()));
    // Both running as wanted: nothing to do. One with another id: started again.
    let mut syncing = fresh.clone();
    for r in ["master", "backup"] {
        syncing
            .sync_daemons
            .insert(r.into(), "mcast=ens33, syncid=51".into());
    }
    assert!(!names(&plan(&lab, &syncing)).contains(&"ipvs sync daemons".to_string()));
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("inventories/lab.json"))
            .unwrap();
    let own = inventory::parse(&text.replace(
        "\"advert_int\": 1",
        "\"advert_int\": 1, \"sync\": {\"interface\": \"eth1\", \"id\": 7}",
    ))
    .unwrap();
    assert_eq!(
        find(&plan(&own, &syncing), "ipvs sync daemons").diff,
        "backup (mcast=ens33, syncid=51), master (mcast=ens33, syncid=51) → master and backup (mcast=eth1, syncid=7), apart from keepalived"
    );
    // Sync turned off stops whatever runs, and nothing starts them at boot.
    let off = inventory::parse(&text.replace(
        "\"advert_int\": 1",
        "\"advert_int\": 1, \"sync\": {\"enabled\": false}",
    ))
    .unwrap();
    let stop = plan(&off, &syncing);
    let off_step = find(&stop, "ipvs sync daemon");
    assert_eq!(
        off_step.diff,
        "backup, master → stopped (sync is off in the inventory)"
    );
    assert!(off_step.script.contains("ipvsadm --stop-daemon \"$x\""));
    assert!(!names(&stop).iter().any(|n| n.contains("lvsprov-ipvs-sync")));
    let bad = inventory::parse(&text.replace(
        "\"advert_int\": 1",
        "\"advert_int\": 1, \"sync\": {\"interface\": \"eth1; reboot\"}",
    ))
    .unwrap_err();
    assert!(
        bad.iter().any(|p| p.path == "$.keepalived.sync.interface"),
        "{bad:?}"
    );
}

/// A managed file that is a symbolic link (a docroot owner pointing `index.html` at
/// `/etc/shadow`): refused naming the link, never read into a diff or a backup.
#[test]
fn a_managed_file_that_is_a_symlink_is_refused_never_read() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian12-web01.txt"),
    )
    .unwrap()
    .replace(
        "@@files\n",
        "@@files\n/var/www/html/index.html @link /etc/shadow\n",
    );
    let f = facts::parse(&text).unwrap();
    let inv = inventory("inventories/lab-containers.json");
    let err = plan_for(&inv, "web01", &f, Mode::Up).unwrap_err();
    assert!(
        err.contains("/var/www/html/index.html is a symbolic link (to /etc/shadow)")
            && err.contains("nothing was changed"),
        "{err}"
    );
    let down = plan_for(&inv, "web01", &f, Mode::Down(DownOptions::default())).unwrap();
    assert!(
        !names(&down).contains(&"file /var/www/html/index.html".to_string()),
        "down never touches the link either"
    );
}

/// No script lvsprov sends writes a fixed name under /tmp (a link any local user could plant).
#[test]
fn no_script_uses_a_fixed_tmp_path() {
    let inv = inventory("inventories/lab.json");
    for (host, facts_file) in [
        ("web01", "debian12-systemd-web01.txt"),
        ("web01", "rhel7/web01.txt"),
        ("web02", "rhel9/web01.txt"),
        ("lvs01", "rhel9-lvs01.txt"),
        ("lvs02", "debian13-lvs02.txt"),
    ] {
        let mut f = recorded(facts_file);
        f.package_db_interrupted = true;
        for mode in [Mode::Up, Mode::Down(DownOptions { purge: true })] {
            let Ok(changes) = plan_for(&inv, host, &f, mode) else {
                continue;
            };
            for c in changes {
                assert!(
                    !c.script.contains("/tmp/"),
                    "{host} ({facts_file}) {}: {}",
                    c.resource,
                    c.script
                );
            }
        }
    }
}

/// A host whose nftables input chain drops by default: the port goes into lvsprov's own chain
/// (live, and at boot through lvsprov-firewall.service); directors also let VRRP in. Converged,
/// nothing is planned; `down` removes lvsprov's rule and chain only.
#[test]
fn an_nftables_default_drop_host_gets_its_ports_and_vrrp_in_lvsprovs_own_chain() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian12-systemd-web01.txt"),
    )
    .unwrap();
    let nft = base.replace("@@firewall\nnone", "@@firewall\nnftables inet filter input");
    let inv = inventory("inventories/lab.json");
    let changes = plan_for(&inv, "web01", &facts::parse(&nft).unwrap(), Mode::Up).unwrap();
    let fw = find(&changes, "firewall port 80/tcp");
    for want in [
        "nft add chain inet filter lvsprov",
        "nft insert rule inet filter input jump lvsprov",
        "grep -q 'jump lvsprov'",
        "nft add rule inet filter lvsprov tcp dport 80 accept",
        "add rule inet filter lvsprov tcp dport 80 accept",
        "/etc/lvsprov/firewall.nft",
        "systemctl enable lvsprov-firewall",
    ] {
        assert!(fw.script.contains(want), "{want} not in {}", fw.script);
    }
    // A director also lets VRRP in (and the sync daemon's port), or both claim the VIP.
    let lvs = recorded("rhel9-lvs01.txt");
    let d = plan_for(&inv, "lvs01", &lvs, Mode::Up).unwrap();
    assert!(find(&d, "firewall port vrrp from 192.168.100.12")
        .script
        .contains("firewall-cmd -q --permanent --zone=public '--add-rich-rule=rule family=\"ipv4\" source address=\"192.168.100.12\" protocol value=\"vrrp\" accept'"));
    assert!(names(&d).contains(&"firewall port 8848/udp".to_string()));

    let file = "# lvsprov\nadd chain inet filter lvsprov\nflush chain inet filter lvsprov\ninsert rule inet filter input jump lvsprov\nadd rule inet filter lvsprov tcp dport 80 accept\n";
    let done = nft_applied(&nft, "80/tcp\n", file);
    let done = facts::parse(&done).unwrap();
    let again = plan_for(&inv, "web01", &done, Mode::Up).unwrap();
    assert!(
        !names(&again).iter().any(|n| n.starts_with("firewall")),
        "{:?}",
        names(&again)
    );
    let down = plan_for(&inv, "web01", &done, Mode::Down(DownOptions::default())).unwrap();
    let rm = find(&down, "firewall port 80/tcp");
    assert!(rm
        .script
        .contains("nft delete rule inet filter lvsprov handle"));
    assert!(rm.script.contains("nft delete chain inet filter lvsprov"));
    assert!(
        !rm.script.contains("flush ruleset"),
        "the host's own rules stay"
    );
}

/// IPVS under churn: before ip_vs is loaded its sysctls do not exist, and their kernel values are
/// assumed (the module is loaded by an earlier step); the inventory's `ipvs` overrides lvsprov's
/// defaults; `down` puts back what was recorded.
#[test]
fn ipvs_tuning_is_planned_from_the_kernel_defaults_and_put_back_by_down() {
    let inv = inventory("inventories/lab.json");
    let f = recorded("rhel9-lvs01.txt");
    assert!(!f.sysctls.contains_key("net.ipv4.vs.expire_nodest_conn"));
    let changes = plan_for(&inv, "lvs01", &f, Mode::Up).unwrap();
    assert_eq!(
        find(&changes, "sysctl net.ipv4.vs.expire_quiescent_template").diff,
        "0 → 1"
    );
    assert_eq!(
        find(&changes, "sysctl net.ipv4.vs.conn_reuse_mode").diff,
        "1 → 2",
        "a reused port in FIN_WAIT (the last state a DR director sees) is scheduled afresh"
    );
    let n = "sysctl net.ipv4.vs.expire_nodest_conn".to_string();
    assert!(
        !names(&changes).contains(&n),
        "expire_nodest_conn stays the kernel's"
    );
    let t = find(&changes, "ipvs timeouts");
    assert_eq!(
        t.diff,
        "tcp 900 s, tcpfin 120 s, udp 300 s → tcp 7260 s, tcpfin 120 s, udp 300 s"
    );
    assert!(t.script.contains("ipvsadm --set 7260 120 300"));
    assert!(
        t.script.contains("ipvs.timeouts=900 120 300"),
        "the old values are recorded first"
    );
    assert!(names(&changes).contains(&"file /etc/modules-load.d/lvsprov.conf".to_string()));
    let conf = find(&changes, "file /etc/keepalived/keepalived.conf");
    assert!(
        conf.diff
            .contains("+    lvs_timeouts tcp 7260 tcpfin 120 udp 300"),
        "{}",
        conf.diff
    );

    // The inventory keeps the kernel's TCP timeout and asks for expire_nodest_conn.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("inventories/lab.json"),
    )
    .unwrap()
    .replacen(
        "\"network\"",
        "\"ipvs\": { \"expire_nodest_conn\": 1, \"timeouts\": { \"tcp\": 900 } },\n  \"network\"",
        1,
    );
    let dir = std::env::temp_dir().join(format!("lvsprov-plan-ipvs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inv.json"), text).unwrap();
    let own = inventory::load(&dir.join("inv.json")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let changes = plan_for(&own, "lvs01", &f, Mode::Up).unwrap();
    let n = names(&changes);
    assert_eq!(
        find(&changes, "sysctl net.ipv4.vs.expire_nodest_conn").diff,
        "0 → 1"
    );
    assert!(
        !n.contains(&"ipvs timeouts".to_string()),
        "900 120 300 is what the host has"
    );

    // After up: the tuned values live, the old ones recorded; down puts them back.
    let mut after = f.clone();
    let quiescent = "net.ipv4.vs.expire_quiescent_template";
    after.sysctls.insert(quiescent.into(), "1".into());
    after.sysctl_orig.insert(quiescent.into(), "0".into());
    after.ipvs_timeouts = Some([7260, 120, 300]);
    after
        .sysctl_orig
        .insert("ipvs.timeouts".into(), "900 120 300".into());
    let down = plan_for(&inv, "lvs01", &after, Mode::Down(DownOptions::default())).unwrap();
    assert_eq!(
        find(&down, "sysctl net.ipv4.vs.expire_quiescent_template").diff,
        "1 → 0"
    );
    let t = find(&down, "ipvs timeouts");
    assert!(
        t.script.contains("ipvsadm --set 900 120 300"),
        "{}",
        t.script
    );
}

#[test]
fn a_real_server_sees_itself_alone_among_its_services_real_servers() {
    // Each real server's template context once held every real server of its services, so
    // rendering a fleet's playbooks took time in the square of its size (5.7 s of CPU against
    // 54 s for a thousand hosts planned offline, debug build).
    let inv = inventory("inventories/lab.json");
    let svc = &inv.services[0];
    assert_eq!(svc.real_servers.len(), 2);
    let seen = svc.as_seen_by("web02");
    let names: Vec<&str> = seen.real_servers.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["web02"]);
    assert_eq!((seen.vip, seen.port), (svc.vip, svc.port));
    assert!(svc.as_seen_by("lvs01").real_servers.is_empty());
}

/// Recorded facts as a host prints them for `probe`: the IPVS and firewall sections it did not
/// ask for say `unread` instead of what the host has.
fn read_for(recorded_text: &str, probe: &facts::Probe) -> Facts {
    let mut out = String::new();
    let mut skipping = false;
    for line in recorded_text.lines() {
        if let Some(tag) = line.strip_prefix("@@") {
            let tag = tag.trim();
            skipping = false;
            if (tag == "ipvs" && !probe.ipvs) || (tag == "firewall" && !probe.firewall) {
                out.push_str(&format!("{line}\n{}\n", facts::UNREAD));
                skipping = true;
                continue;
            }
            if tag == "ipvsd" && !probe.ipvs {
                skipping = true;
                continue;
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    facts::parse(&out).unwrap()
}

/// Facts a host's steps do not ask for are not read (a process each on every run), and not
/// reading them changes nothing: every role, on every recorded platform, plans the same `up`
/// and `down` from what its probe reads as from everything.
#[test]
fn facts_not_asked_for_are_not_read_and_change_no_plan() {
    let lab = inventory("inventories/lab-containers.json");
    let books = Playbooks::default();
    for (host, file) in [
        ("web01", "debian12-web01.txt"),
        ("web01", "debian12-systemd-web01.txt"),
        ("web01", "debian12-web01-converged.txt"),
        ("lvs01", "debian12-lvs01.txt"),
        ("lvs02", "debian13-lvs02.txt"),
        ("lvs01", "rhel9-lvs01.txt"),
    ] {
        let h = lab.hosts.iter().find(|h| h.name == host).unwrap();
        let probe = books.probe(&lab, h).unwrap();
        let director = host.starts_with("lvs");
        assert_eq!(
            probe.ipvs, director,
            "{host}: IPVS is read on directors only"
        );
        assert!(probe.firewall, "{host}: every role opens a port");
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/facts")
                .join(file),
        )
        .unwrap();
        let (all, read) = (facts::parse(&text).unwrap(), read_for(&text, &probe));
        assert_eq!(read.ipvs == facts::Ipvs::Unread, !director, "{file}");
        for mode in [Mode::Up, Mode::Down(DownOptions::default())] {
            let whole = plan_for(&lab, host, &all, mode);
            let probed = plan_for(&lab, host, &read, mode);
            let shape = |p: &Result<Vec<Change>, String>| {
                p.as_ref()
                    .map(|cs| {
                        cs.iter()
                            .map(|c| format!("{}\n{}\n{}", c.resource, c.diff, c.script.as_str()))
                            .collect::<Vec<_>>()
                    })
                    .map_err(Clone::clone)
            };
            assert_eq!(shape(&probed), shape(&whole), "{file} {mode:?}");
        }
    }
    // Facts a step asks for but that were not read are a refusal, never "absent": a director
    // planned on facts read for no step, for `up` and for `down`.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian12-lvs01.txt"),
    )
    .unwrap();
    let unread = read_for(&text, &facts::Probe::default());
    for mode in [Mode::Up, Mode::Down(DownOptions::default())] {
        let e = plan_for(&lab, "lvs01", &unread, mode).unwrap_err();
        assert!(e.contains("did not read this host's"), "{e}");
    }
    // A playbook that opens no port and touches no IPVS (the benchmark's) reads neither, and its
    // facts script runs neither `nft` nor `modinfo`.
    let bench = Playbooks::new(Some(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/workload-a"),
    ));
    let web01 = lab.hosts.iter().find(|h| h.name == "web01").unwrap();
    let probe = bench.probe(&lab, web01).unwrap();
    assert!(!probe.ipvs && !probe.firewall, "{probe:?}");
    let script = facts::script(&probe);
    for tool in [
        "nft list",
        "modinfo",
        "ipvsadm-save",
        "ipvsadm -L",
        "firewall-cmd",
        "ufw status",
    ] {
        assert!(
            !script.as_str().contains(tool),
            "{tool} in {}",
            script.as_str()
        );
    }
}

/// Unicast VRRP (the default with two directors): keepalived.conf names this director's address
/// and its peer, and an nftables firewall lets adverts in from the peer only, never from
/// anywhere. Once the rule is read back, nothing is planned; `down` removes exactly it.
/// `"unicast": false` keeps multicast: no peers, VRRP from any source.
#[test]
fn unicast_vrrp_peers_and_a_firewall_that_lets_in_the_peer_only() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/debian13-lvs02.txt"),
    )
    .unwrap();
    // ip_vs a module not loaded yet, as on a fresh host of the real-kernel lab.
    let nft = base
        .replace("@@firewall\nnone", "@@firewall\nnftables inet filter input")
        .replace("@@ipvs\nabsent", "@@ipvs\nmodule");
    let inv = inventory("inventories/lab.json");
    let d = plan_for(&inv, "lvs02", &facts::parse(&nft).unwrap(), Mode::Up).unwrap();
    let fw = find(&d, "firewall port vrrp from 192.168.100.11");
    assert!(
        fw.script.contains(
            "nft add rule inet filter lvsprov ip saddr 192.168.100.11 ip protocol 112 accept"
        ),
        "{}",
        fw.script
    );
    assert!(
        !names(&d).contains(&"firewall port vrrp".to_string()),
        "VRRP from anywhere: {:?}",
        names(&d)
    );
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in [
        "+    unicast_src_ip 192.168.100.12",
        "+    unicast_peer {",
        "+        192.168.100.11",
    ] {
        assert!(conf.contains(want), "{want} not in {conf}");
    }

    // Read back as nft lists it, and persisted: nothing to do; `down` deletes that rule by its
    // text.
    let file = "add rule inet filter lvsprov ip saddr 192.168.100.11 ip protocol 112 accept\n";
    let done = nft_applied(&nft, "80/tcp\n8848/udp\nvrrp from 192.168.100.11\n", file);
    let done_text = done;
    let done = facts::parse(&done_text).unwrap();
    let again = plan_for(&inv, "lvs02", &done, Mode::Up).unwrap();
    assert!(
        !names(&again)
            .iter()
            .any(|n| n.starts_with("firewall port vrrp")),
        "{:?}",
        names(&again)
    );
    // A cluster that talked multicast before: lvsprov's rule for VRRP from anywhere goes.
    let was_multicast = facts::parse(&done_text.replace(
        "vrrp from 192.168.100.11\n",
        "vrrp from 192.168.100.11\nvrrp\n",
    ))
    .unwrap();
    let switch = plan_for(&inv, "lvs02", &was_multicast, Mode::Up).unwrap();
    let stale = find(&switch, "firewall port vrrp");
    assert!(
        stale
            .script
            .contains("-e '\tip protocol 112 accept # handle'"),
        "{}",
        stale.script
    );
    let down = plan_for(&inv, "lvs02", &done, Mode::Down(DownOptions::default())).unwrap();
    let rm = find(&down, "firewall port vrrp from 192.168.100.11");
    assert!(
        rm.script
            .contains("-e '\tip saddr 192.168.100.11 ip protocol vrrp accept # handle'"),
        "{}",
        rm.script
    );

    let multicast = inventory_with("inventories/lab.json", |v| {
        v["keepalived"]["unicast"] = false.into()
    });
    let m = plan_for(&multicast, "lvs02", &facts::parse(&nft).unwrap(), Mode::Up).unwrap();
    assert!(find(&m, "firewall port vrrp")
        .script
        .contains("nft add rule inet filter lvsprov ip protocol 112 accept"));
    let conf = &find(&m, "file /etc/keepalived/keepalived.conf").diff;
    assert!(!conf.contains("unicast"), "{conf}");
}

/// firewalld lists the rule lvsprov added for a unicast peer among the zone's rich rules: read
/// back, nothing is planned again.
#[test]
fn a_firewalld_rich_rule_for_the_peer_reads_back_as_done() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/facts/rhel9/lvs01.txt"),
    )
    .unwrap();
    let rule =
        "\trule family=\"ipv4\" source address=\"192.168.100.12\" protocol value=\"vrrp\" accept";
    // Every `public` zone section (runtime and permanent) gets the rule under `rich rules:`.
    let mut out = Vec::new();
    let mut zone = "";
    for l in text.lines() {
        if !l.starts_with(char::is_whitespace) && !l.is_empty() {
            zone = l;
        }
        out.push(l.to_string());
        if zone.starts_with("public") && l.trim() == "rich rules:" {
            out.push(rule.to_string());
        }
    }
    let inv = inventory("inventories/lab.json");
    let before = plan_for(&inv, "lvs01", &facts::parse(&text).unwrap(), Mode::Up).unwrap();
    find(&before, "firewall port vrrp from 192.168.100.12");
    let after = plan_for(
        &inv,
        "lvs01",
        &facts::parse(&(out.join("\n") + "\n")).unwrap(),
        Mode::Up,
    )
    .unwrap();
    assert!(
        !names(&after).contains(&"firewall port vrrp from 192.168.100.12".to_string()),
        "{:?}",
        names(&after)
    );
}

/// An HTTP check asks for the inventory's path, expects its status, sends its Host header and
/// connects to its port; `import` reads the same fields back from the keepalived.conf it made.
#[test]
fn an_http_check_on_a_health_path_with_its_status_host_and_port() {
    let inv = inventory_with("inventories/lab.json", |v| {
        v["services"][0]["health_check"] = serde_json::json!({
            "type": "http", "path": "/health.html", "status": 204,
            "host": "www.example.com", "port": 8080, "delay_loop": 2
        })
    });
    let d = plan_for(&inv, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in [
        "+                path /health.html",
        "+                status_code 204",
        "+            virtualhost www.example.com",
        "+            connect_port 8080",
    ] {
        assert!(conf.contains(want), "{want} not in {conf}");
    }
    let tcp = inventory_with("inventories/lab.json", |v| {
        v["services"][0]["health_check"] = serde_json::json!({"type": "tcp", "port": 8080})
    });
    let d = plan_for(&tcp, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    assert!(conf.contains("+            connect_port 8080"), "{conf}");
}

/// A fractional `advert_int` is VRRPv3: `vrrp_version 3`, the interval as written, and no
/// authentication block (VRRPv3 has none); whole seconds render as before.
#[test]
fn a_fractional_advert_int_renders_vrrp_v3_without_authentication() {
    let fast = inventory_with("inventories/lab.json", |v| {
        v["keepalived"] = serde_json::json!({"virtual_router_id": 51, "advert_int": 0.2})
    });
    let d = plan_for(&fast, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    for want in ["+    vrrp_version 3", "+    advert_int 0.2"] {
        assert!(conf.contains(want), "{want} not in {conf}");
    }
    assert!(
        !conf.contains("auth_type") && !conf.contains("auth_pass"),
        "{conf}"
    );
    let slow = inventory("inventories/lab.json");
    let d = plan_for(&slow, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
    let conf = &find(&d, "file /etc/keepalived/keepalived.conf").diff;
    assert!(
        conf.contains("+    advert_int 1\n") && !conf.contains("vrrp_version"),
        "{conf}"
    );
}

/// A page lvsprov did not write (no copy kept from an earlier run) is shown as taken over, with
/// the old content in the diff; a page it wrote before is a plain change.
#[test]
fn an_index_page_lvsprov_did_not_write_is_shown_as_taken_over() {
    let inv = inventory_with("inventories/lab.json", |v| {
        v["real_servers"][0]["page"] = "<h1>new</h1>".into()
    });
    let ours = recorded("debian12-web01-converged.txt");
    let mut theirs = ours.clone();
    theirs.backups.remove("/var/www/html/index.html");
    let page = |f: &Facts| {
        find(
            &plan_for(&inv, "web01", f, Mode::Up).unwrap(),
            "file /var/www/html/index.html",
        )
        .diff
        .clone()
    };
    let (ours, theirs) = (page(&ours), page(&theirs));
    assert!(
        theirs.starts_with(
            "/var/www/html/index.html: not lvsprov's until now; this run takes it over"
        ) && theirs.contains("+<h1>new</h1>"),
        "{theirs}"
    );
    assert!(
        !ours.contains("takes it over") && ours.contains("+<h1>new</h1>"),
        "{ours}"
    );
}

/// A port lvsprov opened in the host's nftables chain for a service the inventory no longer has
/// (UDP 53 here) is closed by the next `up` and by `down`; the ports still needed are left.
#[test]
fn a_port_no_service_needs_any_more_is_closed() {
    use base64::Engine as _;
    let nft = "add chain inet filter lvsprov\nflush chain inet filter lvsprov\ninsert rule inet filter input jump lvsprov\nadd rule inet filter lvsprov tcp dport 80 accept\nadd rule inet filter lvsprov udp dport 53 accept\n";
    let blob = base64::engine::general_purpose::STANDARD.encode(nft);
    let text =
        std::fs::read_to_string(common::repo().join("tests/facts/debian12-systemd-web01.txt"))
            .unwrap()
            .replace(
                "@@firewall\nnone\n",
                "@@firewall\nnftables inet filter input\n80/tcp\n53/udp\n@jump\n",
            )
            .replace(
                "@@files\n",
                &format!(
                    "@@files\n@stat 644 {} /etc/lvsprov/firewall.nft\n@blob {blob}\n",
                    nft.len()
                ),
            );
    let f = facts::parse(&text).unwrap();
    let inv = inventory("inventories/lab.json");
    let up = plan_for(&inv, "web01", &f, Mode::Up).unwrap();
    let closing: Vec<&Change> = up
        .iter()
        .filter(|c| c.resource.starts_with("firewall") && c.action == Action::Delete)
        .collect();
    assert_eq!(closing.len(), 1, "{:?}", names(&up));
    assert_eq!(closing[0].resource, "firewall rule udp dport 53 accept");
    let script = closing[0].script.to_string();
    assert!(
        script.contains("udp dport 53 accept # handle") && !script.contains("tcp dport 80"),
        "{script}"
    );
    let down = names(&plan_for(&inv, "web01", &f, Mode::Down(DownOptions::default())).unwrap());
    for want in ["firewall rule udp dport 53 accept", "firewall port 80/tcp"] {
        assert!(down.iter().any(|n| n == want), "{want} not in {down:?}");
    }
}

/// A service moved to another VIP: the old VIP lvsprov put on web01's `lo` (named in its unit)
/// goes, the new one comes; an address the operator put on `lo` by hand stays, in `up` and in
/// `down` alike.
#[test]
fn a_vip_no_service_needs_leaves_lo_and_a_hand_added_one_stays() {
    let moved = inventory_with("inventories/lab.json", |v| {
        v["services"][0]["vip"] = "192.168.100.20".into();
    });
    let text = std::fs::read_to_string(
        common::repo().join("tests/facts/debian12-web01-converged.txt"),
    )
    .unwrap()
    .replacen(
        "2: eth0    inet 192.168.100.201/24",
        "1: lo    inet 10.9.9.9/32 scope global lo:9\\       valid_lft forever preferred_lft forever\n2: eth0    inet 192.168.100.201/24",
        1,
    );
    let f = facts::parse(&text).unwrap();
    let up = plan_for(&moved, "web01", &f, Mode::Up).unwrap();
    let old = find(&up, "address 192.168.100.10 on lo");
    assert_eq!(old.action, Action::Delete, "{old:?}");
    assert!(
        old.script
            .as_str()
            .contains("ip addr del 192.168.100.10/32 dev lo"),
        "{}",
        old.script.as_str()
    );
    assert_eq!(
        find(&up, "address 192.168.100.20 on lo").action,
        Action::Create
    );
    let order = names(&up);
    assert!(
        !order.iter().any(|n| n.contains("10.9.9.9")),
        "the operator's own address: {order:?}"
    );
    let down = plan_for(&moved, "web01", &f, Mode::Down(DownOptions::default())).unwrap();
    let order = names(&down);
    assert!(
        order.iter().any(|n| n == "address 192.168.100.10 on lo")
            && !order.iter().any(|n| n.contains("10.9.9.9")),
        "{order:?}"
    );
}
