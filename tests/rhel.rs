//! The RHEL family, defect by defect (issue 15): plans from the recorded fresh lab sets
//! `tests/facts/rhel{7,9}/` (see tests/facts/README.md for where each line comes from) and
//! variations of them, against the real playbooks. Each test fails on lvsprov before its fix.

mod common;

use common::plan::{find, inventory, inventory_with, plan_for};
use common::repo;
use lvsprov::facts::{self, Facts};
use lvsprov::inventory::{self, Inventory};
use lvsprov::plan::Mode;
use lvsprov::playbook::Playbooks;
use lvsprov::resources::{Change, DownOptions};
use std::process::Command;

fn text(name: &str) -> String {
    std::fs::read_to_string(repo().join("tests/facts").join(name)).unwrap()
}

fn lab() -> Inventory {
    inventory("inventories/lab.json")
}

fn lab_with(edit: impl Fn(&mut serde_json::Value)) -> Inventory {
    inventory_with("inventories/lab.json", edit)
}

fn planned(inv: &Inventory, host: &str, facts: &Facts, mode: Mode) -> Vec<Change> {
    plan_for(inv, host, facts, mode).unwrap()
}

fn scripts(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| c.script.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every section the facts script prints is in every recorded RHEL file, once, in order; and
/// what a fresh RHEL host really prints: nothing open in firewalld but its services (RHEL 7's
/// ssh is a service, not `22/tcp`), `module` for an ip_vs not loaded yet.
#[test]
fn defect_10_recordings_have_every_section_a_real_host_prints() {
    let script = facts::script(&facts::Probe::default());
    let tags: Vec<&str> = script
        .as_str()
        .split(['\n', ';'])
        .filter_map(|l| l.trim().strip_prefix("echo @@"))
        .map(|t| t.trim())
        .collect();
    for rel in ["rhel7", "rhel9"] {
        for host in ["lvs01", "lvs02", "web01", "web02"] {
            let name = format!("{rel}/{host}.txt");
            let t = text(&name);
            let seen: Vec<&str> = t.lines().filter_map(|l| l.strip_prefix("@@")).collect();
            let mut at = 0;
            for tag in &tags {
                let pos = seen[at..]
                    .iter()
                    .position(|s| s == tag)
                    .unwrap_or_else(|| panic!("{name}: no @@{tag} after @@{}", seen[at]));
                at += pos;
            }
            let f = facts::parse(&t).unwrap();
            assert_eq!(f.ipvs, facts::Ipvs::Module, "{name}");
            assert!(f.firewall_open.is_empty(), "{name}: {:?}", f.firewall_open);
            assert!(f.selinux.labels() && f.boot.network_manager, "{name}");
        }
    }
}

#[test]
fn defect_1_a_lone_director_never_starts_ipvsadm_service() {
    let inv = inventory::load(&repo().join("tests/inventories/single-director.json")).unwrap();
    for rel in ["rhel7", "rhel9"] {
        let f = facts::parse(&text(&format!("{rel}/lvs01.txt"))).unwrap();
        let changes = planned(&inv, "lvs01", &f, Mode::Up);
        let all = scripts(&changes);
        assert!(
            all.contains("systemctl --no-reload enable ipvsadm"),
            "{rel}"
        );
        assert!(!all.contains("systemctl start ipvsadm"), "{rel}");
        assert!(
            all.contains("ipvsadm-save -n"),
            "{rel}: rules saved after they exist"
        );
    }
}

#[test]
fn defect_2_vrrp_is_let_in_by_firewalld_on_every_director() {
    for rel in ["rhel7", "rhel9"] {
        for host in ["lvs01", "lvs02"] {
            let f = facts::parse(&text(&format!("{rel}/{host}.txt"))).unwrap();
            // Unicast VRRP (the default with two directors): from the peer director only.
            let peer = if host == "lvs01" {
                "192.168.100.12"
            } else {
                "192.168.100.11"
            };
            let fw = find(
                &planned(&lab(), host, &f, Mode::Up),
                &format!("firewall port vrrp from {peer}"),
            )
            .clone();
            let rule = format!("'--add-rich-rule=rule family=\"ipv4\" source address=\"{peer}\" protocol value=\"vrrp\" accept'");
            assert_eq!(
                fw.script.as_str(),
                format!("firewall-cmd -q --permanent --zone=public {rule}\nfirewall-cmd -q --zone=public {rule}"),
                "{rel} {host}"
            );
        }
    }
}

/// Files moved into place get their path's label; files `down` moves back from
/// /var/lib/lvsprov too. Debian (no SELinux) gets no restorecon.
#[test]
fn defect_3_selinux_labels_are_restored_after_every_write_and_restore() {
    let f = facts::parse(&text("rhel9/lvs01.txt")).unwrap();
    let up = planned(&lab(), "lvs01", &f, Mode::Up);
    let conf = find(&up, "file /etc/keepalived/keepalived.conf");
    let s = conf.script.as_str();
    let mv = s
        .find("mv -f \"$t\" /etc/keepalived/keepalived.conf")
        .unwrap();
    let rc = s
        .find("restorecon /etc/keepalived/keepalived.conf")
        .expect("relabelled");
    assert!(rc > mv, "restorecon after the rename:\n{s}");

    let mut converged = f.clone();
    converged.files.insert(
        "/etc/keepalived/keepalived.conf".into(),
        facts::FileFact::new("640", "old\n"),
    );
    converged
        .backups
        .insert("/etc/keepalived/keepalived.conf".into());
    let down = planned(
        &lab(),
        "lvs01",
        &converged,
        Mode::Down(DownOptions::default()),
    );
    let back = find(&down, "file /etc/keepalived/keepalived.conf");
    assert!(
        back.script.as_str().contains(
            "mv -f /var/lib/lvsprov/backup/etc/keepalived/keepalived.conf /etc/keepalived/keepalived.conf; restorecon /etc/keepalived/keepalived.conf"
        ),
        "{}",
        back.script.as_str()
    );

    let debian =
        facts::parse(&text("debian13-lvs02.txt").replace("@@ipvs\nabsent", "@@ipvs\nmodule"))
            .unwrap();
    assert!(!scripts(&planned(&lab(), "lvs02", &debian, Mode::Up)).contains("restorecon"));
}

/// A health check on a port outside http_port_t needs keepalived_connect_any; lvsprov records
/// the boolean's old value and `down` turns it back.
#[test]
fn defect_3_keepalived_may_check_a_port_selinux_does_not_allow_by_default() {
    let inv = lab_with(|v| {
        v["services"][0]["port"] = 8080.into();
        // Port 8080 is the operator's backend's: lvsprov's web server listens on 80.
        for rs in v["real_servers"].as_array_mut().unwrap() {
            rs.as_object_mut().unwrap().remove("page");
            rs["web_server"] = false.into();
        }
    });
    let with_bool = text("rhel9/lvs01.txt").replace(
        "@@selinux\nEnforcing\n",
        "@@selinux\nEnforcing\nkeepalived_connect_any --> off\n",
    );
    let f = facts::parse(&with_bool).unwrap();
    let up = planned(&inv, "lvs01", &f, Mode::Up);
    let b = find(&up, "selinux boolean keepalived_connect_any");
    assert_eq!(b.diff, "off → on");
    let s = b.script.as_str();
    assert!(
        s.contains("selinux.keepalived_connect_any=off")
            && s.ends_with("setsebool -P keepalived_connect_any on"),
        "{s}"
    );
    // Port 80 needs nothing; nor does a host without SELinux.
    assert!(!planned(&lab(), "lvs01", &f, Mode::Up)
        .iter()
        .any(|c| c.resource.starts_with("selinux")));

    let mut on = facts::parse(&with_bool.replace("--> off", "--> on")).unwrap();
    on.sysctl_orig
        .insert("selinux.keepalived_connect_any".into(), "off".into());
    assert!(!planned(&inv, "lvs01", &on, Mode::Up)
        .iter()
        .any(|c| c.resource.starts_with("selinux")));
    let down = planned(&inv, "lvs01", &on, Mode::Down(DownOptions::default()));
    assert_eq!(
        find(&down, "selinux boolean keepalived_connect_any")
            .script
            .as_str(),
        "setsebool -P keepalived_connect_any off"
    );
}

/// A keepalived director whose ipvsadm.service is enabled (the recipe's `systemctl enable
/// ipvsadm`) would restore the table saved at shutdown beside keepalived's: disabled, never
/// stopped (its ExecStop clears the live table), and `down` enables it again.
#[test]
fn defect_5_keepalived_directors_restore_no_saved_table_at_boot() {
    let f = facts::parse(&text("rhel9-lvs01.txt")).unwrap();
    let up = planned(&lab(), "lvs01", &f, Mode::Up);
    let off = up
        .iter()
        .find(|c| c.resource == "service ipvsadm")
        .expect("ipvsadm disabled");
    let s = off.script.as_str();
    assert!(
        s.contains("service.ipvsadm=enabled")
            && s.ends_with("systemctl --no-reload disable ipvsadm")
    );
    assert!(!scripts(&up).contains("systemctl stop ipvsadm"));

    let mut after = f.clone();
    after.services.get_mut("ipvsadm").unwrap().enabled = false;
    after
        .sysctl_orig
        .insert("service.ipvsadm".into(), "enabled".into());
    assert!(!planned(&lab(), "lvs01", &after, Mode::Up)
        .iter()
        .any(|c| c.resource == "service ipvsadm"));
    let down = planned(&lab(), "lvs01", &after, Mode::Down(DownOptions::default()));
    assert_eq!(
        find(&down, "service ipvsadm").script.as_str(),
        "systemctl --no-reload enable ipvsadm"
    );
}

#[test]
fn defect_7_keepalived_1_3_5_gets_nb_get_retry_in_http_get() {
    let inv = lab_with(|v| {
        v["services"][0]["health_check"] =
            serde_json::json!({ "type": "http", "connect_timeout": 3, "delay_loop": 6 })
    });
    for (rel, keyword) in [("rhel7", "nb_get_retry 3"), ("rhel9", "retry 3")] {
        let f = facts::parse(&text(&format!("{rel}/lvs01.txt"))).unwrap();
        let up = planned(&inv, "lvs01", &f, Mode::Up);
        let conf = &find(&up, "file /etc/keepalived/keepalived.conf").diff;
        let lines: Vec<&str> = conf
            .lines()
            .map(|l| l.trim_start_matches('+').trim())
            .collect();
        assert!(lines.contains(&keyword), "{rel}: {conf}");
        if rel == "rhel7" {
            assert!(!lines.contains(&"retry 3"), "{conf}");
        }
    }
}

/// A VLAN NIC: `bond0.100` in a sysctl key must be written `bond0/100`, or sysctl and
/// systemd-sysctl read `net/ipv4/conf/bond0/100/...`, which does not exist.
#[test]
fn defect_8_a_vlan_nics_sysctls_keep_its_dot() {
    let vlan = text("rhel9/web01.txt").replace("ens33", "bond0.100");
    let f = facts::parse(&vlan).unwrap();
    let up = planned(&lab(), "web01", &f, Mode::Up);
    let s = find(&up, "sysctl net.ipv4.conf.bond0.100.arp_ignore");
    assert!(s
        .script
        .as_str()
        .ends_with("sysctl -q -w net.ipv4.conf.bond0/100.arp_ignore=1"));
    let file = &find(&up, "file /etc/sysctl.d/90-lvsprov.conf").diff;
    assert!(
        file.contains("+net.ipv4.conf.bond0/100.arp_announce = 2"),
        "{file}"
    );
    assert!(!file.contains("bond0.100"), "{file}");
}

/// The NIC in a zone that is not the default: the port goes into that zone. A port open at
/// runtime only is made permanent, and not added twice at runtime.
#[test]
fn defect_9_firewalld_ports_go_to_the_nics_zone_and_last() {
    let t = text("rhel9/web01.txt");
    // NetworkManager's connection says ZONE=internal; runtime has 80/tcp there already.
    let runtime = t.find("@runtime").unwrap();
    let (head, tail) = t.split_at(runtime);
    let tail = tail
        .replacen("public (active)", "public", 1)
        .replacen("  interfaces: ens33\n", "  interfaces: \n", 1)
        .replacen(
            "internal\n  target: default\n  icmp-block-inversion: no\n  interfaces: \n  sources: \n  services: dhcpv6-client mdns samba-client ssh\n  ports: ",
            "internal (active)\n  target: default\n  icmp-block-inversion: no\n  interfaces: ens33\n  sources: \n  services: dhcpv6-client mdns samba-client ssh\n  ports: 80/tcp",
            1,
        );
    let f = facts::parse(&format!("{head}{tail}")).unwrap();
    let fw = find(
        &planned(&lab(), "web01", &f, Mode::Up),
        "firewall port 80/tcp",
    )
    .clone();
    assert_eq!(
        fw.script.as_str(),
        "firewall-cmd -q --permanent --zone=internal --add-port=80/tcp"
    );
    assert_eq!(
        fw.diff,
        "open until the next reload → open (firewalld zone internal)"
    );
}

/// RHEL 7 with NetworkManager: an ifcfg alias written (or removed) is reread at once.
#[test]
fn defect_9_networkmanager_rereads_the_ifcfg_alias() {
    let f = facts::parse(&text("rhel7/web01.txt")).unwrap();
    let up = planned(&lab(), "web01", &f, Mode::Up);
    let ifcfg = find(&up, "file /etc/sysconfig/network-scripts/ifcfg-lo:0");
    assert!(ifcfg.script.as_str().ends_with("\nnmcli connection reload"));
    let without_nm =
        facts::parse(&text("rhel7/web01.txt").replace("networkmanager\n", "")).unwrap();
    let up = planned(&lab(), "web01", &without_nm, Mode::Up);
    assert!(!scripts(&up).contains("nmcli"));
}

/// The "done when": the command an operator runs before a maintenance window.
#[test]
fn check_from_the_recorded_sets_shows_vrrp_no_ipvsadm_start_and_restorecon() {
    for rel in ["rhel7", "rhel9"] {
        let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
            .args(["check", "inventories/lab.json", "--facts-from"])
            .arg(format!("tests/facts/{rel}"))
            .args(["--show-scripts", "--limit", "lvs01"])
            .current_dir(repo())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{rel}: {text}");
        for want in [
            "firewall-cmd -q --permanent --zone=public '--add-rich-rule=rule family=\"ipv4\" source address=\"192.168.100.12\" protocol value=\"vrrp\" accept'",
            "restorecon /etc/keepalived/keepalived.conf",
            "restorecon /etc/sysctl.d/90-lvsprov.conf",
        ] {
            assert!(text.contains(want), "{rel}: {want} not in\n{text}");
        }
        assert!(!text.contains("systemctl start ipvsadm"), "{rel}");
    }
}

/// NetworkManager's `noprefixroute` and `secondary` are flags, not the label: a VIP already on
/// the NIC as the plan wants it is left alone (it was deleted and re-added on every `up`).
#[test]
fn defect_4_address_flags_are_not_read_as_the_label() {
    let inv = inventory::load(&repo().join("tests/inventories/single-director.json")).unwrap();
    let t = text("rhel9/lvs01.txt").replace(
        "@@link\n",
        "2: ens33    inet 192.168.100.10/32 scope global secondary noprefixroute ens33:0\\       valid_lft forever preferred_lft forever\n@@link\n",
    );
    let f = facts::parse(&t).unwrap();
    let up = planned(&inv, "lvs01", &f, Mode::Up);
    assert!(
        !up.iter().any(|c| c.resource.starts_with("address")),
        "{:?}",
        up.iter().map(|c| &c.resource).collect::<Vec<_>>()
    );
}

/// RHEL 8/9's lone director: the VIP's unit runs after NetworkManager (which would flush an
/// address it did not add), a changed unit is reread before its restart, and `down` disables
/// the unit before its file goes (no dangling wants link).
#[test]
fn defect_6_the_vip_unit_follows_networkmanager_and_is_disabled_before_removal() {
    let inv = inventory::load(&repo().join("tests/inventories/single-director.json")).unwrap();
    let f = facts::parse(&text("rhel9/lvs01.txt")).unwrap();
    let up = planned(&inv, "lvs01", &f, Mode::Up);
    let unit = find(&up, "file /etc/systemd/system/lvsprov-vip.service");
    assert!(
        unit.diff.contains("NetworkManager.service"),
        "{}",
        unit.diff
    );

    let mut installed = f.clone();
    installed.files.insert(
        "/etc/systemd/system/lvsprov-vip.service".into(),
        facts::FileFact::new("644", "an older unit\n"),
    );
    // lvsprov wrote it: a mark that there was none before is kept for `down`.
    installed
        .backups
        .insert("/etc/systemd/system/lvsprov-vip.service".into());
    installed.services.insert(
        "lvsprov-vip".into(),
        facts::ServiceFact {
            enabled: true,
            active: true,
        },
    );
    let again = planned(&inv, "lvs01", &installed, Mode::Up);
    let reload = again
        .iter()
        .find(|c| c.resource == "service lvsprov-vip")
        .expect("restarted after its unit changed");
    assert!(reload
        .script
        .as_str()
        .starts_with("case $(systemctl show -p NeedDaemonReload lvsprov-vip 2>/dev/null) in *=no) ;; *) systemctl daemon-reload ;; esac\n"));

    let down = planned(
        &inv,
        "lvs01",
        &installed,
        Mode::Down(DownOptions::default()),
    );
    let at = |r: &str| down.iter().position(|c| c.resource == r).unwrap();
    assert!(at("service lvsprov-vip") < at("file /etc/systemd/system/lvsprov-vip.service"));
    assert!(find(&down, "service lvsprov-vip")
        .script
        .as_str()
        .contains("systemctl --no-reload disable lvsprov-vip"));
}

/// `health_check.through_vip` on RHEL 9: nftables installed and a NAT table that sends the
/// directors' checks (from both directors only) on to the VIP, loaded by a unit; on RHEL 7 (NAT
/// is iptables' there) the real server is refused with the reason, not half-built.
#[test]
fn checks_through_the_vip_are_an_nftables_dnat_on_rhel_8_and_later_only() {
    let inv = lab_with(|v| v["services"][0]["health_check"]["through_vip"] = true.into());
    let facts = facts::parse(&text("rhel9/web01.txt")).unwrap();
    let changes = planned(&inv, "web01", &facts, Mode::Up);
    let names: Vec<&str> = changes.iter().map(|c| c.resource.as_str()).collect();
    assert!(names.contains(&"package nftables"), "{names:?}");
    let rule = changes
        .iter()
        .find(|c| c.resource == "file /etc/lvsprov/vip-check.nft")
        .expect("the rule file");
    assert!(
        rule.diff.contains("+    ip saddr { 192.168.100.11, 192.168.100.12 } ip daddr 192.168.100.201 tcp dport 80 dnat to 192.168.100.10:80"),
        "{}",
        rule.diff
    );
    assert!(
        names.contains(&"file /etc/systemd/system/lvsprov-vip-check.service"),
        "{names:?}"
    );
    let web01 = inv.hosts.iter().find(|h| h.name == "web01").unwrap();
    let rhel7 = facts::parse(&text("rhel7/web01.txt")).unwrap();
    let refused = Playbooks::default()
        .render(&inv, web01, &rhel7)
        .unwrap_err();
    assert!(refused.to_string().contains("RHEL 8+"), "{refused}");
}
