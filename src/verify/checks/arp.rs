//! Who answers ARP (IPv6: neighbour solicitations) for the VIP. With the directors observed: the
//! VIP holder's MAC and nothing else (a real server answering steals the VIP's traffic). With only
//! real servers observed: none of theirs.

use super::{check, listed, Check};
use crate::inventory::Vip;

/// `answered`: MACs seen answering, each with the host it belongs to when known.
pub fn holder_only(
    vip: Vip,
    holder: Option<(&str, &str)>,
    answered: &[(String, Option<String>)],
) -> Check {
    let shown: Vec<String> = answered.iter().map(show).collect();
    let ok = match (holder, answered) {
        (Some((_, mac)), [(only, _)]) => mac == only,
        _ => false,
    };
    check(
        format!("{} for {vip} answered only by the VIP holder", asked(vip)),
        ok,
        holder
            .map(|(n, m)| format!("{n} ({m})"))
            .unwrap_or_else(|| "a director holding the VIP".into()),
        listed(&shown, "no answer"),
    )
}

/// None of `hosts` (name, its MACs) answered.
pub fn none_of(
    vip: Vip,
    hosts: &[(String, Vec<String>)],
    answered: &[(String, Option<String>)],
) -> Check {
    let guilty: Vec<String> = answered
        .iter()
        .filter(|(mac, _)| hosts.iter().any(|(_, macs)| macs.contains(mac)))
        .map(show)
        .collect();
    let names: Vec<String> = hosts.iter().map(|(n, _)| n.clone()).collect();
    check(
        format!(
            "{} for {vip} not answered by {}",
            asked(vip),
            names.join(", ")
        ),
        guilty.is_empty(),
        "no answer from a real server",
        listed(&guilty, "none of them answered"),
    )
}

/// What a VIP's address is resolved by: ARP, or IPv6's neighbour discovery.
fn asked(vip: Vip) -> &'static str {
    if vip.is_v6() {
        "ND"
    } else {
        "ARP"
    }
}

fn show((mac, host): &(String, Option<String>)) -> String {
    match host {
        Some(h) => format!("{h} ({mac})"),
        None => mac.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_holder_may_answer() {
        let vip = Vip("192.168.100.10".parse().unwrap());
        let lvs01 = ("aa".to_string(), Some("lvs01".to_string()));
        let web01 = ("bb".to_string(), Some("web01".to_string()));
        let c = holder_only(vip, Some(("lvs01", "aa")), std::slice::from_ref(&lvs01));
        assert!(c.ok && c.seen.starts_with("lvs01 ("), "{c:?}");
        assert!(!holder_only(vip, Some(("lvs01", "aa")), &[lvs01.clone(), web01.clone()]).ok);
        assert!(!holder_only(vip, None, &[]).ok);
        let real = [("web01".to_string(), vec!["bb".to_string()])];
        assert!(none_of(vip, &real, &[lvs01]).ok);
        assert!(!none_of(vip, &real, &[web01]).ok);
    }
}
