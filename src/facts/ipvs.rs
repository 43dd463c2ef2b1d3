//! Whether the kernel has IPVS, and the rules it holds now (`ipvsadm-save -n`, read into
//! [`crate::ipvs`]'s model, as are the sync daemons and timeouts).

use crate::ipvs::Table;
use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "ipvs";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipvs {
    /// The kernel has IPVS, and this table (empty without ipvsadm).
    Available(Table),
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

/// The sync daemons running: role (`master`, `backup`) → `mcast=eth0, syncid=51`.
pub fn parse_daemons(lines: &[&str]) -> std::collections::BTreeMap<String, String> {
    crate::ipvs::daemons(&lines.join("\n"))
}

/// IPVS's tcp, tcpfin and udp timeouts.
pub fn parse_timeouts(lines: &[&str]) -> Option<[u32; 3]> {
    crate::ipvs::timeouts(&lines.join("\n"))
}

pub fn parse(lines: &[&str]) -> Ipvs {
    match lines.first().map(|l| l.trim()) {
        Some("available") => Ipvs::Available(Table::from_save(&lines[1..].join("\n"))),
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
            Ipvs::Available(Table::from_save("-A -t 192.168.100.10:80 -s rr"))
        );
        assert_eq!(parse(&["module"]), Ipvs::Module);
        assert_eq!(parse(&["unread"]), Ipvs::Unread);
        assert_eq!(parse(&["garbage"]), Ipvs::Absent);
        let d = parse_daemons(&[
            "master sync daemon (mcast=eth0, syncid=51)",
            "backup sync daemon (mcast=eth0, syncid=51)",
            "junk",
        ]);
        assert_eq!(d.keys().collect::<Vec<_>>(), ["backup", "master"]);
        assert_eq!(
            parse_timeouts(&["Timeout (tcp tcpfin udp): 7260 120 300"]),
            Some([7260, 120, 300])
        );
        assert_eq!(parse_timeouts(&["master sync daemon"]), None);
    }
}
