//! For the tests that plan without a host: an inventory (as shipped, or with one edit of its
//! JSON), recorded facts, and the plan `up`/`down` would make from them.

use super::repo;
use lvsprov::facts::{self, Facts};
use lvsprov::inventory::{self, Inventory};
use lvsprov::plan::{plan, Mode};
use lvsprov::playbook::Playbooks;
use lvsprov::resources::Change;

/// The inventory at `name` (from the checkout's root).
pub fn inventory(name: &str) -> Inventory {
    inventory::load(&repo().join(name)).unwrap()
}

/// The inventory at `name` with one edit of its JSON.
pub fn inventory_with(name: &str, edit: impl Fn(&mut serde_json::Value)) -> Inventory {
    let text = std::fs::read_to_string(repo().join(name)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    inventory::parse(&v.to_string()).unwrap()
}

/// What `inventory::parse` says of the inventory at `name` after `edit`, one `PATH: message`
/// each (empty when it loads).
pub fn problems(name: &str, edit: impl Fn(&mut serde_json::Value)) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(name)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    match inventory::parse(&v.to_string()) {
        Ok(_) => vec![],
        Err(all) => all
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect(),
    }
}

/// Asserts the inventory at `name`, edited by `base` and then `edit`, has one problem and that
/// it starts with `start`.
pub fn refused_once(
    name: &str,
    base: impl Fn(&mut serde_json::Value),
    edit: &dyn Fn(&mut serde_json::Value),
    start: &str,
) {
    let got = problems(name, |v| {
        base(v);
        edit(v);
    });
    assert!(
        got.len() == 1 && got[0].starts_with(start),
        "{start}: {got:?}"
    );
}

/// Facts recorded from a host, `tests/facts/NAME`.
pub fn recorded(name: &str) -> Facts {
    facts::parse(&std::fs::read_to_string(repo().join("tests/facts").join(name)).unwrap()).unwrap()
}

/// A Debian 13 director with systemd, its ip_vs module not loaded yet, and the ARP sysctls an
/// ECMP director sets (every Linux host has them; the recording asked for a VRRP director's).
pub fn debian_ecmp_director() -> Facts {
    let text = std::fs::read_to_string(repo().join("tests/facts/debian13-lvs02.txt"))
        .unwrap()
        .replace("@@ipvs\nabsent", "@@ipvs\nmodule");
    let arp: String = ["all", "lo", "eth0"]
        .iter()
        .map(|d| format!("net/ipv4/conf/{d}/arp_ignore:0\nnet/ipv4/conf/{d}/arp_announce:0\n"))
        .collect();
    facts::parse(&text.replace("@@packages\n", &format!("{arp}@@packages\n"))).unwrap()
}

/// The changes for `host` given its facts; an error (rendering, planning) as its message.
pub fn plan_for(
    inv: &Inventory,
    host: &str,
    facts: &Facts,
    mode: Mode,
) -> Result<Vec<Change>, String> {
    let host = inv.hosts.iter().find(|h| h.name == host).unwrap();
    let steps = Playbooks::default()
        .render(inv, host, facts)
        .map_err(|e| e.to_string())?;
    plan(&steps, facts, mode).map_err(|e| e.to_string())
}

pub fn names(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.resource.clone()).collect()
}

/// The change to `resource`; panics listing every change's resource when there is none.
pub fn find<'a>(changes: &'a [Change], resource: &str) -> &'a Change {
    changes
        .iter()
        .find(|c| c.resource == resource)
        .unwrap_or_else(|| panic!("no change {resource} in {:#?}", names(changes)))
}
