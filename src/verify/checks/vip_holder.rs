//! Exactly one director holds the VIP: none is an outage, two is a split brain where both answer
//! ARP and clients flap between them.

use super::{check, listed, Check};
use crate::inventory::Vip;

/// `holders`: the directors whose facts show the VIP; `active`: who should (highest priority).
pub fn run(vip: Vip, holders: &[String], active: &str) -> Check {
    check(
        format!("VIP {vip} held by exactly one director"),
        holders.len() == 1,
        active,
        listed(holders, "nobody"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_only() {
        let vip = Vip("192.168.100.10".parse().unwrap());
        assert!(run(vip, &["lvs01".into()], "lvs01").ok);
        assert!(!run(vip, &[], "lvs01").ok);
        let both = run(vip, &["lvs01".into(), "lvs02".into()], "lvs01");
        assert_eq!((both.ok, both.seen.as_str()), (false, "lvs01, lvs02"));
    }
}
