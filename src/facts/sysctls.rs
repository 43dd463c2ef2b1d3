//! Kernel parameters the steps manage: one `grep` over /proc/sys for the keys asked for, with the
//! per-interface ones read for every interface (the NIC is only known from the facts).

use super::Probe;
use crate::sh;
use crate::shell::Script;
use std::collections::BTreeMap;

pub const TAG: &str = "sysctl";

pub fn fragment(p: &Probe) -> Script {
    let mut globs = Script::new();
    for k in &p.sysctls {
        globs = sh!("{} {}", globs, k.replace('.', "/"));
    }
    for leaf in &p.conf_leaves {
        // The glob stays unquoted so the shell expands it; the leaf itself is quoted.
        globs = sh!("{} net/ipv4/conf/*/{}", globs, leaf);
    }
    if globs.is_empty() {
        // No grep at all: without arguments it would read the script itself from stdin.
        return Script::new();
    }
    // Not the shell's `read`, which would save the fork: dash reads one byte at a time, and an
    // integer file under /proc/sys answers a read past offset 0 with end-of-file, so
    // `ip_local_port_range` would read as `3`.
    sh!("cd /proc/sys && grep -H .{} 2>/dev/null; cd /", globs)
}

/// `net/ipv4/conf/all/arp_ignore:1` → `net.ipv4.conf.all.arp_ignore` = `1`.
pub fn parse(lines: &[&str]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.replace('/', "."), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_dotted() {
        let s = parse(&["net/ipv4/conf/eth0/arp_announce:2", "net/ipv4/ip_forward:0"]);
        assert_eq!(s["net.ipv4.conf.eth0.arp_announce"], "2");
        assert_eq!(s["net.ipv4.ip_forward"], "0");
    }

    /// No keys, no grep: a bare `grep -H .` would read the rest of the facts script from stdin.
    #[test]
    fn nothing_asked_reads_nothing() {
        assert!(fragment(&Probe::default()).is_empty());
    }

    #[test]
    fn asks_for_every_interface_of_a_leaf() {
        let mut p = Probe::default();
        p.conf_leaves.insert("arp_ignore".into());
        p.sysctls.insert("net.ipv4.ip_forward".into());
        assert_eq!(
            fragment(&p).as_str(),
            "cd /proc/sys && grep -H . net/ipv4/ip_forward net/ipv4/conf/*/arp_ignore 2>/dev/null; cd /"
        );
    }
}
