//! IPVS connection sync runs between the directors: each one sends the connections it serves
//! while it holds a VIP (`master` daemon) and receives the others' (`backup`), both all the time
//! and apart from keepalived, so a failover keeps established connections instead of resetting
//! them and a director whose keepalived stopped still learns how its old sessions ended.

use super::{check, listed, Check};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// The daemons a director must run. lvsprov's own (on systemd hosts, as director.json.j2 renders
/// them): both. keepalived's (`lvs_sync_daemon`, elsewhere): the holder sends, the others receive.
pub fn wanted(init: crate::os::Init, holder: bool) -> &'static [&'static str] {
    match (init == crate::os::Init::Systemd, holder) {
        (true, _) => &["master", "backup"],
        (false, true) => &["master"],
        (false, false) => &["backup"],
    }
}

/// `daemons`: what runs on `director` (role → what it syncs over); `want`: from [`wanted`].
pub fn run(director: &str, want: &[&str], daemons: &BTreeMap<String, String>) -> Check {
    let seen: Vec<String> = daemons.keys().cloned().collect();
    check(
        format!("{director}: IPVS sync daemons"),
        want.iter().all(|r| daemons.contains_key(*r)),
        want.join(" and "),
        listed(&seen, "none running"),
    )
}

/// How many of `clients`' connections to `vip` a director's IPVS table holds, from its
/// `/proc/net/ip_vs_conn`. On a backup these entries came by sync: a
/// connection it does not hold is reset when it takes over.
pub fn known(ip_vs_conn: &str, vip: SocketAddr, clients: &[SocketAddr]) -> usize {
    let held: BTreeSet<std::net::SocketAddr> = crate::ipvs::conns(ip_vs_conn)
        .into_iter()
        .filter(|c| c.virt == vip)
        .map(|c| c.client)
        .collect();
    clients.iter().filter(|c| held.contains(c)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::Init;

    #[test]
    fn a_client_connection_is_known_by_its_address_and_port_to_the_vip() {
        // Recorded on lvs02 of the real-kernel lab (header, two synced clients, one other VIP).
        let table =
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                     TCP C0A86464 D2E4 C0A8640A 0050 C0A864C9 0050 ESTABLISHED     895\n\
                     TCP C0A86464 D2E6 C0A8640A 0050 C0A864CA 0050 ESTABLISHED     894\n\
                     TCP C0A86464 D2E8 C0A8640B 0050 C0A864CA 0050 ESTABLISHED     894\n";
        let vip: SocketAddr = "192.168.100.10:80".parse().unwrap();
        let c = |p: u16| SocketAddr::new([192, 168, 100, 100].into(), p);
        assert_eq!(known(table, vip, &[c(0xD2E4), c(0xD2E6)]), 2);
        assert_eq!(known(table, vip, &[c(0xD2E4), c(0xD2E8), c(0xD2EA)]), 1);
        assert_eq!(known("", vip, &[c(0xD2E4)]), 0);
    }

    #[test]
    fn every_own_director_sends_and_receives() {
        let d = |roles: &[&str]| -> BTreeMap<String, String> {
            roles
                .iter()
                .map(|r| (r.to_string(), "mcast=eth0, syncid=51".to_string()))
                .collect()
        };
        let own = wanted(Init::Systemd, false);
        assert!(run("lvs01", own, &d(&["master", "backup"])).ok);
        assert!(!run("lvs02", own, &d(&["backup"])).ok);
        assert!(!run("lvs02", own, &d(&["master"])).ok);
        assert_eq!(run("lvs01", own, &d(&[])).seen, "none running");
        // keepalived's daemons: the holder sends, a backup receives.
        assert!(run("lvs01", wanted(Init::Sysv, true), &d(&["master", "backup"])).ok);
        assert!(run("lvs02", wanted(Init::Sysv, false), &d(&["backup"])).ok);
        assert!(!run("lvs02", wanted(Init::Sysv, false), &d(&["master"])).ok);
    }
}
