//! The active firewall (firewalld, ufw, or an nftables input chain whose policy is drop), and
//! what it lets in for the cluster. For nftables that is lvsprov's own chain `lvsprov` in the
//! host's table, reached by one jump from the host's input chain (`@jump`).

use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "firewall";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Firewalld,
    Ufw,
    /// The host's own input chain drops by default: `family table chain`, e.g. `inet filter input`.
    Nftables,
    None,
}

pub fn fragment() -> Script {
    sh!("if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then echo firewalld; firewall-cmd --list-ports | tr ' ' '\\n'; firewall-cmd --list-protocols | tr ' ' '\\n'\n\
         elif command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q 'Status: active'; then echo ufw; ufw status | awk '/ALLOW/{{print $1}}'\n\
         elif command -v nft >/dev/null && c=$(nft list chains 2>/dev/null | awk '$1==\"table\"{{t=$2\" \"$3}} $1==\"chain\"{{ch=$2}} /hook input/ && /policy drop/{{print t\" \"ch; exit}}') && [ -n \"$c\" ]; then \
           echo \"nftables $c\"; nft list chain $(echo $c | cut -d' ' -f1,2) lvsprov 2>/dev/null | awk '$2==\"dport\"{{print $3\"/\"$1}} $1==\"ip\" && $2==\"protocol\"{{print $3}}'; \
           nft list chain $c 2>/dev/null | grep -q 'jump lvsprov' && echo @jump\n\
         else echo none; fi")
}

/// The nftables input chain (`family table chain`) and whether it jumps to lvsprov's chain.
pub fn nft_chain(lines: &[&str]) -> Option<(String, bool)> {
    let chain = lines.first()?.trim().strip_prefix("nftables ")?.to_string();
    Some((chain, lines.iter().any(|l| l.trim() == "@jump")))
}

pub fn parse(lines: &[&str]) -> (Firewall, Vec<String>) {
    let kind = match lines.first().map(|l| l.trim()) {
        Some("firewalld") => Firewall::Firewalld,
        Some("ufw") => Firewall::Ufw,
        Some(l) if l.starts_with("nftables ") => Firewall::Nftables,
        _ => Firewall::None,
    };
    // nft prints IP protocol 112 by name only where /etc/protocols has it.
    let open = super::lines_of::<Vec<String>>(lines.get(1..).unwrap_or_default())
        .into_iter()
        .filter(|l| l != "@jump")
        .map(|l| if l == "112" { "vrrp".to_string() } else { l })
        .collect();
    (kind, open)
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
        let nft = ["nftables inet filter input", "80/tcp", "112", "@jump"];
        assert_eq!(
            parse(&nft),
            (
                Firewall::Nftables,
                vec!["80/tcp".to_string(), "vrrp".to_string()]
            )
        );
        assert_eq!(
            nft_chain(&nft),
            Some(("inet filter input".to_string(), true))
        );
    }
}
