//! IPVS connection sync runs between the directors: the VIP holder sends its connections
//! (`master` daemon), the others receive them (`backup`), so a failover keeps established
//! connections instead of resetting them.

use super::{check, listed, Check};
use std::collections::BTreeSet;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_sends_the_others_receive() {
        let both: BTreeSet<String> = ["master".to_string(), "backup".to_string()].into();
        assert!(run("lvs01", true, &both).ok);
        assert!(run("lvs02", false, &["backup".to_string()].into()).ok);
        assert!(!run("lvs02", false, &["master".to_string()].into()).ok);
        assert_eq!(run("lvs01", true, &BTreeSet::new()).seen, "none running");
    }
}
