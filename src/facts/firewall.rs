//! The active firewall (firewalld or ufw), and the ports it lets in.

use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "firewall";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Firewalld,
    Ufw,
    None,
}

pub fn fragment() -> Script {
    sh!("if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then echo firewalld; firewall-cmd --list-ports | tr ' ' '\\n'\nelif command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q 'Status: active'; then echo ufw; ufw status | awk '/ALLOW/{{print $1}}'\nelse echo none; fi")
}

pub fn parse(lines: &[&str]) -> (Firewall, Vec<String>) {
    let kind = match lines.first().map(|l| l.trim()) {
        Some("firewalld") => Firewall::Firewalld,
        Some("ufw") => Firewall::Ufw,
        _ => Firewall::None,
    };
    (kind, super::lines_of(lines.get(1..).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_ports_follow_the_firewall_name() {
        assert_eq!(
            parse(&["firewalld", "80/tcp", "", "443/tcp"]),
            (
                Firewall::Firewalld,
                vec!["80/tcp".to_string(), "443/tcp".to_string()]
            )
        );
        assert_eq!(parse(&["none"]), (Firewall::None, vec![]));
    }
}
