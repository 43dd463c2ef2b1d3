//! Exactly one director holds the VIP: none is an outage, two is a split brain where both answer
//! ARP and clients flap between them.

use super::{check, listed, Check};
use crate::inventory::Vip;

/// `holders`: the directors whose facts show the VIP; `active`: who should (highest priority).
/// A split brain is named with its usual cause, so the operator looks at VRRP first.
pub fn run(vip: Vip, holders: &[String], active: &str) -> Check {
    let seen = match holders.len() {
        0 | 1 => listed(holders, "nobody"),
        _ => format!(
            "{} (split brain: the directors do not hear each other's VRRP adverts; look for a firewall dropping IP protocol 112, multicast filtered on the segment (use unicast), or a different virtual_router_id or auth_pass)",
            holders.join(", ")
        ),
    };
    check(
        format!("VIP {vip} held by exactly one director"),
        holders.len() == 1,
        active,
        seen,
    )
}

/// A VIP whose service names its `master` is held by it: with both directors up, another
/// holder means the priorities keepalived runs are not the inventory's (`lvsprov up` renders
/// them) or the master does not hear its peers' adverts.
pub fn by_master(vip: Vip, holders: &[String], master: &str) -> Check {
    check(
        format!("VIP {vip} held by its master"),
        holders == [master],
        master,
        listed(holders, "nobody"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_master_holds_it() {
        let vip = Vip("192.168.100.20".parse().unwrap());
        assert!(by_master(vip, &["lvs02".into()], "lvs02").ok);
        let other = by_master(vip, &["lvs01".into()], "lvs02");
        assert_eq!((other.ok, other.seen.as_str()), (false, "lvs01"));
        assert!(!by_master(vip, &["lvs01".into(), "lvs02".into()], "lvs02").ok);
    }

    #[test]
    fn one_holder_only() {
        let vip = Vip("192.168.100.10".parse().unwrap());
        assert!(run(vip, &["lvs01".into()], "lvs01").ok);
        let none = run(vip, &[], "lvs01");
        assert_eq!((none.ok, none.seen.as_str()), (false, "nobody"));
        let both = run(vip, &["lvs01".into(), "lvs02".into()], "lvs01");
        assert!(!both.ok);
        assert!(
            both.seen.starts_with("lvs01, lvs02 (split brain: "),
            "{}",
            both.seen
        );
    }
}
