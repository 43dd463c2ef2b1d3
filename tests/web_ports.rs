//! The web server lvsprov installs serves every TCP port of its real server's services: a file of
//! lvsprov's with a `Listen` and a `VirtualHost` per port besides 80, where each platform's web
//! server reads its configuration; 443 (mod_ssl's) refused; on RHEL with SELinux on, a port
//! httpd may not bind refused by the plan. Served and taken back live in tests/lab.rs.

mod common;

use common::plan::{find, inventory_with, names, plan_for, problems, recorded};
use lvsprov::plan::Mode;

fn with_port(port: u16) -> impl Fn(&mut serde_json::Value) {
    move |v| {
        let mut s = v["services"][0].clone();
        s["port"] = port.into();
        v["services"].as_array_mut().unwrap().push(s);
    }
}

#[test]
fn each_platform_listens_on_the_services_ports_in_a_file_of_lvsprovs() {
    let inv = inventory_with("inventories/lab.json", with_port(8080));
    let d = plan_for(
        &inv,
        "web01",
        &recorded("debian12-systemd-web01.txt"),
        Mode::Up,
    )
    .unwrap();
    let listen = &find(&d, "file /etc/apache2/conf-enabled/lvsprov-listen.conf").diff;
    for want in [
        "+Listen 8080\n",
        "+<VirtualHost *:8080>\n",
        "+    DocumentRoot /var/www/html\n",
    ] {
        assert!(listen.contains(want), "{want:?} not in {listen}");
    }
    assert!(
        !listen.contains("Listen 80\n"),
        "80 is the package's: {listen}"
    );

    // RHEL 9 (SELinux enforcing): 8443 is http_port_t's, so httpd may bind it.
    let inv = inventory_with("inventories/lab.json", with_port(8443));
    let d = plan_for(&inv, "web01", &recorded("rhel9/web01.txt"), Mode::Up).unwrap();
    assert!(find(&d, "file /etc/httpd/conf.d/lvsprov-listen.conf")
        .diff
        .contains("+Listen 8443\n"));

    // Port 80 alone: no file, nothing planned for it.
    let plain = inventory_with("inventories/lab.json", |_| {});
    let d = plan_for(
        &plain,
        "web01",
        &recorded("debian12-systemd-web01.txt"),
        Mode::Up,
    )
    .unwrap();
    assert!(
        !names(&d).iter().any(|n| n.contains("lvsprov-listen")),
        "{:?}",
        names(&d)
    );
}

#[test]
fn a_port_selinux_keeps_httpd_from_is_refused_by_the_plan_with_the_way_out() {
    let inv = inventory_with("inventories/lab.json", with_port(8080));
    let refused = plan_for(&inv, "web01", &recorded("rhel9/web01.txt"), Mode::Up).unwrap_err();
    assert!(
        refused.contains("SELinux lets httpd listen on the ports of http_port_t only")
            && refused.contains("8080 is not one")
            && refused.contains("semanage port -a -t http_port_t -p tcp 8080"),
        "{refused}"
    );
    // The director serves nothing itself: the same inventory plans there.
    plan_for(&inv, "lvs01", &recorded("rhel9/lvs01.txt"), Mode::Up).unwrap();
}

#[test]
fn https_on_lvsprovs_web_server_is_refused_naming_the_real_server() {
    let got = problems("inventories/lab.json", with_port(443));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].starts_with("$.services[1].real_servers[0].name: web01's web server (installed by lvsprov) serves plain HTTP, and port 443 is mod_ssl's; give web01 \"web_server\": false"),
        "{got:?}"
    );
    // With its own backend, the same service is fine.
    let own = problems("inventories/lab.json", |v| {
        with_port(443)(v);
        for rs in v["real_servers"].as_array_mut().unwrap() {
            rs.as_object_mut().unwrap().remove("page");
            rs["web_server"] = false.into();
        }
    });
    assert_eq!(own, Vec::<String>::new());
}
