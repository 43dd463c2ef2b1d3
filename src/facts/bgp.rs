//! BIRD's protocols on an ECMP director (`birdc show protocols`): whether each BGP session is
//! established and each VIP's announcement (lvsprov's static protocol) enabled. Read with the
//! IPVS facts; empty where BIRD is not installed or not running.

use crate::shell::Script;

pub const TAG: &str = "bgp";

/// One line of `birdc show protocols`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    pub name: String,
    /// `BGP`, `Static`, `Device`, ...
    pub proto: String,
    /// `up`, `down`, `start`
    pub state: String,
    /// What follows the time: a BGP session's state (`Established`, `Active`, `Connect`, ...).
    pub info: String,
}

impl Protocol {
    pub fn is_up(&self) -> bool {
        self.state == "up"
    }
}

/// The state of BGP session `name` as people read it: `Established`, else what BIRD says it is
/// doing (`Active Socket: Connection refused`), or `no session` when BIRD has none by that name.
pub fn session(protocols: &[Protocol], name: &str) -> String {
    match protocols.iter().find(|p| p.name == name) {
        Some(p) if p.info.is_empty() => p.state.clone(),
        Some(p) => p.info.clone(),
        None => "no session".into(),
    }
}

/// BIRD's name for the second announcement of the VIP announced by protocol `name`: the same
/// route carrying the graceful-shutdown community (65535:0, RFC 8326), enabled in its place while
/// a drain moves the routers' flows away, before the withdrawal.
pub fn graceful(name: &str) -> String {
    format!("{name}_gshut")
}

/// Whether the VIP of announcement `name` (a VIP's static protocol) is announced, plainly or in
/// its graceful shutdown: either way the routers still have the route.
pub fn announced(protocols: &[Protocol], name: &str) -> bool {
    let gshut = graceful(name);
    protocols
        .iter()
        .any(|p| (p.name == name || p.name == gshut) && p.is_up())
}

/// Whether the VIP of announcement `name` is in its graceful shutdown (a drain's first seconds).
pub fn shutting_down(protocols: &[Protocol], name: &str) -> bool {
    let gshut = graceful(name);
    protocols.iter().any(|p| p.name == gshut && p.is_up())
}

pub fn fragment() -> Script {
    Script::lit("if command -v birdc >/dev/null; then birdc show protocols 2>/dev/null; fi; true")
}

/// `Name Proto Table State Since Info` rows; the banner and the header are not protocols.
pub fn parse(lines: &[&str]) -> Vec<Protocol> {
    lines
        .iter()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 5 || w[0] == "Name" || w[0] == "BIRD" {
                return None;
            }
            Some(Protocol {
                name: w[0].into(),
                proto: w[1].into(),
                state: w[3].into(),
                info: w.get(5..).map(|i| i.join(" ")).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_announcements_are_read() {
        let out = "BIRD 2.0.12 ready.\n\
            Name       Proto      Table      State  Since         Info\n\
            device1    Device     ---        up     10:00:01.123  \n\
            lvsprov_vip0 Static   master4    down   10:00:01.123  \n\
            lvsprov_peer0 BGP     ---        up     10:00:05.456  Established   \n\
            lvsprov_peer1 BGP     ---        start  10:00:05.456  Active        Socket: Connection refused\n";
        let p = parse(&out.lines().collect::<Vec<_>>());
        assert_eq!(p.len(), 4);
        assert_eq!((p[1].name.as_str(), p[1].is_up()), ("lvsprov_vip0", false));
        assert_eq!(
            (p[2].proto.as_str(), p[2].info.as_str()),
            ("BGP", "Established")
        );
        assert_eq!(p[3].info, "Active Socket: Connection refused");
    }

    #[test]
    fn a_vip_in_its_graceful_shutdown_is_still_announced() {
        let out = "lvsprov_vip0 Static   master4    down   10:00:01.123  \n\
            lvsprov_vip0_gshut Static master4 up     10:00:01.123  \n\
            lvsprov_vip1 Static   master4    up     10:00:01.123  \n";
        let p = parse(&out.lines().collect::<Vec<_>>());
        assert!(announced(&p, "lvsprov_vip0") && shutting_down(&p, "lvsprov_vip0"));
        assert!(announced(&p, "lvsprov_vip1") && !shutting_down(&p, "lvsprov_vip1"));
        assert!(!announced(&p, "lvsprov_vip2"));
    }
}
