//! The inventory loader and validator, given any bytes: a clear error or an inventory, never a
//! panic; and an inventory that loads renders every host's steps without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsprov::facts;
use lvsprov::playbook::Playbooks;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(inv) = lvsprov::inventory::parse(text) else {
        return;
    };
    let fresh = facts::parse(include_str!("../../tests/facts/debian12-systemd-web01.txt"))
        .expect("recorded facts parse");
    for host in &inv.hosts {
        let _ = Playbooks::default().render(&inv, host, &fresh);
    }
});
