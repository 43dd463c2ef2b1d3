//! Whether the kernel has IPVS, and the rules it holds now (`ipvsadm-save -n`).

use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "ipvs";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipvs {
    /// The kernel has IPVS; the rules as `ipvsadm-save -n` prints them (empty without ipvsadm).
    Available(Vec<String>),
    /// ip_vs is a module that is not loaded yet: apply loads it.
    Module,
    /// The kernel has no IPVS at all.
    Absent,
    /// Not read: no step on this host looks at IPVS (`Probe::ipvs`).
    Unread,
}

pub fn fragment() -> Script {
    sh!("if [ -e /proc/net/ip_vs ]; then echo available; if command -v ipvsadm-save >/dev/null; then ipvsadm-save -n; fi\nelif modinfo ip_vs >/dev/null 2>&1; then echo module; else echo absent; fi\necho @@ipvsd; if [ -e /proc/net/ip_vs ] && command -v ipvsadm >/dev/null; then ipvsadm -L --daemon 2>/dev/null; ipvsadm -L --timeout 2>/dev/null; fi")
}

/// The sync daemons running (`master`, `backup`), from `ipvsadm -L --daemon`:
/// `master sync daemon (mcast=eth0, syncid=51)`.
pub fn parse_daemons(lines: &[&str]) -> std::collections::BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let role = w.next().filter(|r| *r == "master" || *r == "backup")?;
            (w.next() == Some("sync")).then(|| role.to_string())
        })
        .collect()
}

/// `Timeout (tcp tcpfin udp): 900 120 300` from `ipvsadm -L --timeout`.
pub fn parse_timeouts(lines: &[&str]) -> Option<[u32; 3]> {
    let l = lines
        .iter()
        .find(|l| l.starts_with("Timeout (tcp tcpfin udp):"))?;
    let v: Vec<u32> = l
        .rsplit(':')
        .next()?
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    v.try_into().ok()
}

pub fn parse(lines: &[&str]) -> Ipvs {
    match lines.first().map(|l| l.trim()) {
        Some("available") => Ipvs::Available(lines[1..].iter().map(|s| s.to_string()).collect()),
        Some("module") => Ipvs::Module,
        Some(super::UNREAD) => Ipvs::Unread,
        _ => Ipvs::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_the_availability_line() {
        assert_eq!(
            parse(&["available", "-A -t 192.168.100.10:80 -s rr"]),
            Ipvs::Available(vec!["-A -t 192.168.100.10:80 -s rr".into()])
        );
        assert_eq!(parse(&["module"]), Ipvs::Module);
        assert_eq!(parse(&["unread"]), Ipvs::Unread);
        assert_eq!(parse(&["garbage"]), Ipvs::Absent);
        let d = parse_daemons(&[
            "master sync daemon (mcast=eth0, syncid=51)",
            "backup sync daemon (mcast=eth0, syncid=51)",
            "junk",
        ]);
        assert_eq!(d.into_iter().collect::<Vec<_>>(), ["backup", "master"]);
        assert_eq!(
            parse_timeouts(&["Timeout (tcp tcpfin udp): 7260 120 300"]),
            Some([7260, 120, 300])
        );
        assert_eq!(parse_timeouts(&["master sync daemon"]), None);
    }
}
