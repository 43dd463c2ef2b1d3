//! IPVS connection sync runs between the directors: the VIP holder sends its connections
//! (`master` daemon), the others receive them (`backup`), so a failover keeps established
//! connections instead of resetting them.

use super::{check, listed, Check};
use std::collections::BTreeSet;
use std::net::SocketAddrV4;

/// `holder`: whether this director holds the VIP; `daemons`: what runs there.
pub fn run(director: &str, holder: bool, daemons: &BTreeSet<String>) -> Check {
    let want = if holder { "master" } else { "backup" };
    let seen: Vec<String> = daemons.iter().cloned().collect();
    check(
        format!("{director}: IPVS sync daemon"),
        daemons.contains(want),
        format!("a {want} sync daemon"),
        listed(&seen, "none running"),
    )
}

/// How many of `clients`' connections to `vip` a director's IPVS table holds, from its
/// `/proc/net/ip_vs_conn`. On a backup these entries came by sync: a
/// connection it does not hold is reset when it takes over.
pub fn known(ip_vs_conn: &str, vip: SocketAddrV4, clients: &[SocketAddrV4]) -> usize {
    let held: BTreeSet<std::net::SocketAddr> = crate::ipvs::conns(ip_vs_conn)
        .into_iter()
        .filter(|c| c.virt == vip.into())
        .map(|c| c.client)
        .collect();
    clients
        .iter()
        .filter(|c| held.contains(&(**c).into()))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_connection_is_known_by_its_address_and_port_to_the_vip() {
        // Recorded on lvs02 of the real-kernel lab (header, two synced clients, one other VIP).
        let table =
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                     TCP C0A86464 D2E4 C0A8640A 0050 C0A864C9 0050 ESTABLISHED     895\n\
                     TCP C0A86464 D2E6 C0A8640A 0050 C0A864CA 0050 ESTABLISHED     894\n\
                     TCP C0A86464 D2E8 C0A8640B 0050 C0A864CA 0050 ESTABLISHED     894\n";
        let vip: SocketAddrV4 = "192.168.100.10:80".parse().unwrap();
        let c = |p: u16| SocketAddrV4::new([192, 168, 100, 100].into(), p);
        assert_eq!(known(table, vip, &[c(0xD2E4), c(0xD2E6)]), 2);
        assert_eq!(known(table, vip, &[c(0xD2E4), c(0xD2E8), c(0xD2EA)]), 1);
        assert_eq!(known("", vip, &[c(0xD2E4)]), 0);
    }

    #[test]
    fn the_holder_sends_the_others_receive() {
        let both: BTreeSet<String> = ["master".to_string(), "backup".to_string()].into();
        assert!(run("lvs01", true, &both).ok);
        assert!(run("lvs02", false, &["backup".to_string()].into()).ok);
        assert!(!run("lvs02", false, &["master".to_string()].into()).ok);
        assert_eq!(run("lvs01", true, &BTreeSet::new()).seen, "none running");
    }
}
