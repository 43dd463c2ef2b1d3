//! Rendered configs and the human plan, compared with files under `tests/golden/` that are
//! reviewed in the diff like code. After an intended change: `UPDATE_GOLDEN=1 cargo test --test
//! golden`, then read `git diff tests/golden`.

mod common;

use common::repo;
use lvsprov::facts::{self, Facts};
use lvsprov::inventory::{self, Inventory};
use lvsprov::plan::{plan, Mode};
use lvsprov::playbook::Playbooks;
use lvsprov::report::{Command, HostReport, Report};
use lvsprov::resources::Step;

fn inventory(name: &str) -> Inventory {
    inventory::load(&repo().join(name)).unwrap()
}

fn recorded(name: &str) -> Facts {
    facts::parse(&std::fs::read_to_string(repo().join("tests/facts").join(name)).unwrap()).unwrap()
}

fn golden(name: &str, actual: &str) {
    let path = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; create it with UPDATE_GOLDEN=1", path.display()));
    assert!(
        want == actual,
        "{name} differs from tests/golden/{name}; if intended, run UPDATE_GOLDEN=1 cargo test --test golden and review the diff\n--- golden\n{want}\n--- now\n{actual}"
    );
}

/// A file's content as a diff would show it (secrets masked), from the host's rendered steps.
fn rendered(inv: &Inventory, host: &str, facts: &Facts, path: &str) -> String {
    let host = inv.host(host).unwrap();
    Playbooks::default()
        .render(inv, host, facts)
        .unwrap()
        .into_iter()
        .find_map(|s| match s {
            Step::File(f) if f.path == path => f
                .content
                .map(|c| lvsprov::secret::mask(&c.text).into_owned()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{path} is not among {}'s steps", host.name))
}

#[test]
fn keepalived_conf_for_the_master() {
    let inv = inventory("inventories/lab.json");
    let text = rendered(
        &inv,
        "lvs01",
        &recorded("rhel9-lvs01.txt"),
        "/etc/keepalived/keepalived.conf",
    );
    golden("keepalived.conf", &text);
}

#[test]
fn vip_persistence_on_each_platform() {
    let inv = inventory("inventories/lab.json");
    golden(
        "lvsprov-vip.service",
        &rendered(
            &inv,
            "web02",
            &recorded("rhel9/web01.txt"),
            "/etc/systemd/system/lvsprov-vip.service",
        ),
    );
    golden(
        "ifcfg-lo:0",
        &rendered(
            &inv,
            "web01",
            &recorded("rhel7/web01.txt"),
            "/etc/sysconfig/network-scripts/ifcfg-lo:0",
        ),
    );
    // A sysvinit Debian host whose ifupdown sources interfaces.d (the container recording, booted
    // differently).
    let sysv = std::fs::read_to_string(repo().join("tests/facts/debian12-web01.txt"))
        .unwrap()
        .replace("@@init\nnone", "@@init\nsysv\nifupdown");
    golden(
        "ifupdown-lvsprov-vip",
        &rendered(
            &inv,
            "web01",
            &facts::parse(&sysv).unwrap(),
            "/etc/network/interfaces.d/lvsprov-vip",
        ),
    );
}

#[test]
fn the_human_plan_for_a_fresh_debian_real_server() {
    console::set_colors_enabled(false);
    let inv = inventory("inventories/lab-containers.json");
    let f = recorded("debian12-web01.txt");
    let host = inv.host("web01").unwrap();
    let steps = Playbooks::default().render(&inv, host, &f).unwrap();
    let changes = plan(&steps, &f, Mode::Up).unwrap();
    let report = Report::new(
        Command::Check,
        vec![HostReport::new(host, changes, None)],
        0,
    );
    golden("check-web01-debian12.txt", &report.human());
    // The same plan as `--output json` prints it: the contract scripts read (version 1).
    golden("check-web01-debian12.json", &report.json());
    // --diff-lines 4: each long diff cut after 4 lines, saying how many more there are.
    let mut capped = report;
    capped.diff_lines = 4;
    golden("check-web01-debian12-diff-lines-4.txt", &capped.human());
}
