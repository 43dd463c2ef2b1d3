//! A director as it runs now, for `status`: its IPVS table with connection counts, counters and
//! rates, the size of its connection table (a backup whose table is far smaller than the
//! master's is not keeping up with sync), and each VRRP instance's state as keepalived last
//! logged it. Read only when asked (`Probe::live`): three `ipvsadm` and a journal read are no
//! cost a `check` should pay.

use super::{Probe, UNREAD};
use crate::ipvs::stats::{self, Row};
use crate::ipvs::Table;
use crate::sh;
use crate::shell::Script;
use std::collections::BTreeMap;

pub const TAG: &str = "live";
/// The section's first line when it was read (ipvsadm may print nothing).
const READ: &str = "read";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// With active and inactive connections per real server (`ipvsadm -Ln`).
    pub table: Table,
    pub stats: BTreeMap<Row, [u64; 5]>,
    pub rate: BTreeMap<Row, [u64; 5]>,
    /// Entries in the kernel's connection table, templates and synced copies included.
    pub entries: u64,
    /// `systemctl is-active keepalived`.
    pub keepalived: String,
    /// VRRP instance → MASTER, BACKUP, FAULT: the last `Entering … STATE` keepalived logged
    /// this boot (journald; keepalived logs each change and its state at start).
    pub vrrp: BTreeMap<String, String>,
}

pub fn fragment(p: &Probe) -> Script {
    if !p.live {
        return sh!("echo {}", UNREAD);
    }
    sh!("echo {}; ipvsadm -Ln 2>/dev/null; echo @@livestats; ipvsadm -Ln --stats --exact 2>/dev/null\n\
         echo @@liverate; ipvsadm -Ln --rate --exact 2>/dev/null\n\
         echo @@liveconns; grep -c . /proc/net/ip_vs_conn 2>/dev/null\n\
         echo @@vrrp; systemctl is-active keepalived 2>/dev/null\n\
         journalctl -u keepalived -b --no-pager -o cat 2>/dev/null | grep 'Entering [A-Z]* STATE' | tail -n 64", READ)
}

/// None when the section was not read.
pub fn parse(
    list: &[&str],
    stats_text: &[&str],
    rate: &[&str],
    conns: &[&str],
    vrrp: &[&str],
) -> Option<Live> {
    // Unread, or recorded facts from before this section: None.
    if list.first().map(|l| l.trim()) != Some(READ) {
        return None;
    }
    let entries = conns
        .first()
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map_or(0, |n| n.saturating_sub(1));
    Some(Live {
        table: Table::from_list(&list[1..].join("\n")),
        stats: stats::five(&stats_text.join("\n")),
        rate: stats::five(&rate.join("\n")),
        entries,
        keepalived: vrrp
            .first()
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        vrrp: vrrp.iter().skip(1).filter_map(|l| transition(l)).collect(),
    })
}

/// `(VI_1) Entering MASTER STATE` (keepalived 2.x) or `VRRP_Instance(VI_1) Entering BACKUP STATE`
/// (1.x): the instance and its state.
fn transition(line: &str) -> Option<(String, String)> {
    let (before, after) = line.split_once("Entering ")?;
    let state = after.split_whitespace().next()?;
    let name = before.rsplit_once('(')?.1.split_once(')')?.0;
    Some((name.to_string(), state.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_state_of_each_instance_wins() {
        let vrrp = [
            "active",
            "(VI_LVSPROV) Entering BACKUP STATE (init)",
            "(VI_LVSPROV) Entering MASTER STATE",
            "VRRP_Instance(VI_2) Entering BACKUP STATE",
            "(VI_LVSPROV) Entering BACKUP STATE",
            "Stopping",
        ];
        let live = parse(&["read", "IP Virtual Server"], &[], &[], &["3"], &vrrp).unwrap();
        assert_eq!(live.keepalived, "active");
        assert_eq!(live.vrrp["VI_LVSPROV"], "BACKUP");
        assert_eq!(live.vrrp["VI_2"], "BACKUP");
        assert_eq!(live.entries, 2, "the header line is no entry");
    }

    #[test]
    fn unread_is_none() {
        assert_eq!(parse(&["unread"], &[], &[], &[], &[]), None);
        assert_eq!(
            parse(&[], &[], &[], &[], &[]),
            None,
            "recorded facts without the section"
        );
        assert!(!fragment(&Probe::default()).as_str().contains("ipvsadm"));
    }
}
