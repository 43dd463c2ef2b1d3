//! A hand-written keepalived.conf's `vrrp_script`s, tracked interfaces and notify hooks, read
//! into the inventory's `keepalived` block so that `up` keeps what moves the VIPs. lvsprov tracks
//! every script from every instance; what it cannot say that way is named, not dropped quietly.

use super::keepalived_conf::{Keepalived, Node, Vrrp};
use crate::inventory::raw::{RawNotify, RawTrackScript};
use crate::inventory::Command;

/// `vrrp_script NAME { script "..." interval weight fall rise }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub name: String,
    pub script: Option<String>,
    pub interval: Option<u32>,
    pub weight: Option<i32>,
    pub fall: Option<u32>,
    pub rise: Option<u32>,
}

/// What one `vrrp_instance` tracks and whom it tells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceHooks {
    /// `track_script { NAME [weight N] }`.
    pub scripts: Vec<(String, Option<i32>)>,
    /// `track_interface { NIC [weight N] }`.
    pub interfaces: Vec<(String, Option<i32>)>,
    /// `notify`, `notify_master`, ... and their command.
    pub notify: Vec<(String, String)>,
    pub preempt_delay: Option<u32>,
    pub nopreempt: bool,
}

/// A statement's words after its keyword, as keepalived reads a quoted string.
fn text(n: &Node) -> String {
    n.words[1..].join(" ").trim_matches('"').to_string()
}

/// `NAME [weight N]` in a tracking block.
fn tracked(n: &Node) -> (String, Option<i32>) {
    let weight = n
        .words
        .iter()
        .position(|w| w == "weight")
        .and_then(|i| n.arg(i + 1))
        .and_then(|w| w.parse().ok());
    (n.key().to_string(), weight)
}

pub fn script(node: &Node) -> Script {
    Script {
        name: node.arg(1).unwrap_or_default().to_string(),
        script: node
            .children()
            .iter()
            .find(|c| c.key() == "script")
            .map(text),
        interval: node.number(&["interval"]),
        weight: node.number(&["weight"]),
        fall: node.number(&["fall"]),
        rise: node.number(&["rise"]),
    }
}

pub fn instance(node: &Node) -> InstanceHooks {
    let block = |key: &str| -> Vec<(String, Option<i32>)> {
        node.children()
            .iter()
            .filter(|c| c.key() == key)
            .flat_map(|b| b.children().iter().map(tracked))
            .collect()
    };
    InstanceHooks {
        scripts: block("track_script"),
        interfaces: block("track_interface"),
        notify: node
            .children()
            .iter()
            .filter(|c| c.key() == "notify" || c.key().starts_with("notify_"))
            .map(|c| (c.key().to_string(), text(c)))
            .collect(),
        preempt_delay: node.number(&["preempt_delay"]),
        nopreempt: node.children().iter().any(|c| c.key() == "nopreempt"),
    }
}

/// `preempt_delay` as the inventory holds it; `nopreempt` (the MASTER never takes its VIPs back)
/// has no inventory field: named.
pub fn preempt_delay(v: &Vrrp, out: &mut Vec<String>) -> Option<u32> {
    if v.hooks.nopreempt {
        out.push(format!("vrrp_instance {}: nopreempt is not imported; lvsprov's master takes its VIPs back, after `keepalived.preempt_delay` seconds if set", v.name));
    }
    v.hooks.preempt_delay.filter(|d| *d > 0)
}

/// A command the inventory cannot hold as it is, named with the fix.
fn check(out: &mut Vec<String>, what: &str, cmd: &str) {
    if let Err(e) = Command::parse(cmd) {
        out.push(format!("{what}: {e}; the inventory keeps it as read, so `check` refuses it until it is rewritten"));
    }
}

/// The scripts the instance tracks, with the instance's weight where it sets one.
pub fn track_scripts(k: &Keepalived, v: &Vrrp, out: &mut Vec<String>) -> Vec<RawTrackScript> {
    let mut scripts = Vec::new();
    for (name, weight) in &v.hooks.scripts {
        let Some(s) = k.scripts.iter().find(|s| &s.name == name) else {
            out.push(format!("vrrp_instance {} tracks vrrp_script {name}, which the file does not define; left out", v.name));
            continue;
        };
        let Some(script) = &s.script else {
            out.push(format!("vrrp_script {name} has no script; left out"));
            continue;
        };
        check(out, &format!("vrrp_script {name}"), script);
        scripts.push(RawTrackScript {
            name: name.clone(),
            script: script.clone(),
            interval: s.interval,
            weight: weight.or(s.weight),
            fall: s.fall,
            rise: s.rise,
        });
    }
    scripts
}

/// The NICs the instance tracks besides its own (which keepalived tracks anyway).
pub fn track_interfaces(v: &Vrrp, out: &mut Vec<String>) -> Vec<String> {
    let mut nics = Vec::new();
    for (nic, weight) in &v.hooks.interfaces {
        if Some(nic) == v.interface.as_ref() {
            continue;
        }
        if weight.is_some_and(|w| w != 0) {
            out.push(format!("vrrp_instance {}: track_interface {nic} has a weight; lvsprov tracks it without one (the director gives up its VIPs while {nic} is down)", v.name));
        }
        nics.push(nic.clone());
    }
    nics
}

pub fn notify(v: &Vrrp, out: &mut Vec<String>) -> RawNotify {
    let mut n = RawNotify::default();
    for (key, cmd) in &v.hooks.notify {
        let slot = match key.as_str() {
            "notify" => &mut n.any,
            "notify_master" => &mut n.master,
            "notify_backup" => &mut n.backup,
            "notify_fault" => &mut n.fault,
            "notify_stop" => &mut n.stop,
            other => {
                out.push(format!(
                    "vrrp_instance {}: {other} is not imported; add it to the hook lvsprov runs",
                    v.name
                ));
                continue;
            }
        };
        check(out, &format!("vrrp_instance {}: {key}", v.name), cmd);
        *slot = Some(cmd.clone());
    }
    n
}

#[cfg(test)]
mod tests {
    use super::super::keepalived_conf::read;
    use super::*;

    const CONF: &str = r#"
vrrp_script chk_uplink {
    script "/usr/local/bin/check-uplink eth1"
    interval 2
    weight -60
    fall 3
}
vrrp_script chk_unused {
    script /bin/true
}
vrrp_instance VI_1 {
    interface eth0
    track_interface {
        eth0
        eth1 weight -10
    }
    track_script {
        chk_uplink
        chk_missing
    }
    notify "/usr/local/bin/vrrp-notify --log"
    notify_master /usr/local/bin/to-master
    notify_master_rx_lower_pri /usr/local/bin/x
    nopreempt
    preempt_delay 20
}
"#;

    #[test]
    fn scripts_interfaces_and_hooks_are_read_and_what_cannot_be_kept_is_named() {
        let k = read(CONF);
        let v = &k.vrrp[0];
        let mut out = Vec::new();
        let scripts = track_scripts(&k, v, &mut out);
        assert_eq!(scripts.len(), 1);
        assert_eq!(scripts[0].script, "/usr/local/bin/check-uplink eth1");
        assert_eq!(
            (scripts[0].interval, scripts[0].weight, scripts[0].fall),
            (Some(2), Some(-60), Some(3))
        );
        assert_eq!(track_interfaces(v, &mut out), vec!["eth1".to_string()]);
        let n = notify(v, &mut out);
        assert_eq!(n.any.as_deref(), Some("/usr/local/bin/vrrp-notify --log"));
        assert_eq!(n.master.as_deref(), Some("/usr/local/bin/to-master"));
        assert_eq!(preempt_delay(v, &mut out), Some(20));
        assert_eq!(out.len(), 4, "{out:#?}");
        assert!(out[3].contains("nopreempt is not imported"), "{out:#?}");
        assert!(out[0].contains("chk_missing"), "{out:#?}");
        assert!(out[1].contains("eth1 has a weight"), "{out:#?}");
        assert!(out[2].contains("notify_master_rx_lower_pri"), "{out:#?}");
    }
}
