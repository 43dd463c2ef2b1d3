//! Reading an OpenSSH client config, given any text: an error naming the line or a config, never
//! a panic; and a config that reads is applied to every lab host without one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsprov::ssh::SshConfig;
use std::sync::OnceLock;

fn lab() -> &'static lvsprov::inventory::Inventory {
    static INV: OnceLock<lvsprov::inventory::Inventory> = OnceLock::new();
    INV.get_or_init(|| {
        lvsprov::inventory::parse(include_str!("../../inventories/lab-bastion.json"))
            .expect("lab-bastion.json")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = SshConfig::parse(text.to_string(), "fuzz_config".into()) else {
        return;
    };
    for host in &lab().hosts {
        let mut target = host.ssh.clone();
        let _ = cfg.apply(&mut target);
    }
});
