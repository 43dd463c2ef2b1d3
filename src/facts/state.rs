//! lvsprov's own folder on the host (see `host_state`): whether it exists, the sysctl values
//! recorded before the first change, and the reloads an earlier run still owes.

use crate::host_state::{DIR, RELOAD_DIR, SYSCTL_ORIG};
use crate::sh;
use crate::shell::Script;
use std::collections::{BTreeMap, BTreeSet};

pub const TAG: &str = "statedir";

#[derive(Debug, Default, PartialEq)]
pub struct State {
    pub present: bool,
    pub sysctl_orig: BTreeMap<String, String>,
    pub reloads: BTreeSet<String>,
}

pub fn fragment() -> Script {
    sh!(
        "[ -d {} ] && echo present\necho @@state; print_file {}\n\
         echo @@reloads; for f in {}/*; do [ -e \"$f\" ] && echo \"${{f##*/}}\"; done",
        DIR,
        SYSCTL_ORIG,
        RELOAD_DIR
    )
}

pub fn parse(statedir: &[&str], orig: &[&str], reloads: &[&str]) -> State {
    State {
        present: statedir.first().map(|l| l.trim()) == Some("present"),
        sysctl_orig: orig
            .iter()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
        reloads: super::lines_of(reloads),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_recorded_values_and_owed_reloads() {
        let s = parse(
            &["present"],
            &["net.ipv4.conf.lo.arp_announce=1"],
            &["keepalived"],
        );
        assert!(s.present);
        assert_eq!(s.sysctl_orig["net.ipv4.conf.lo.arp_announce"], "1");
        assert!(s.reloads.contains("keepalived"));
        assert_eq!(parse(&[], &[], &[]), State::default());
    }
}
