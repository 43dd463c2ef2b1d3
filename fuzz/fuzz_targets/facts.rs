//! The facts parser, given any bytes a broken or hostile host can send: an error or facts, never
//! a panic or a hang; and facts that parse plan (up and down) for a director and a real server
//! without one, and import (its keepalived.conf reader included) into an inventory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsprov::plan::{plan, Mode};
use lvsprov::playbook::Playbooks;
use lvsprov::resources::DownOptions;
use std::sync::OnceLock;

fn lab() -> &'static lvsprov::inventory::Inventory {
    static INV: OnceLock<lvsprov::inventory::Inventory> = OnceLock::new();
    INV.get_or_init(|| {
        lvsprov::inventory::parse(include_str!("../../inventories/lab.json")).expect("lab.json")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(facts) = lvsprov::facts::parse(&text) else {
        return;
    };
    let _ = lvsprov::import::keepalived_conf::read(&text);
    let inv = lab();
    for name in ["lvs01", "web01"] {
        let host = inv.host(name).expect("in lab.json");
        let Ok(steps) = Playbooks::default().render(inv, host, &facts) else {
            continue;
        };
        let _ = plan(&steps, &facts, Mode::Up);
        let _ = plan(&steps, &facts, Mode::Down(DownOptions::default()));
    }
    let seen = [lvsprov::import::Seen {
        target: "lvs01".into(),
        facts,
    }];
    let imported = lvsprov::import::inventory(&seen, &Default::default());
    let _ = lvsprov::inventory::parse(&imported.inventory.to_string());
});
