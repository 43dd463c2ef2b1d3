//! The firewall marks a host sets on a VIP's packets (read by `import` only): what a
//! `virtual_server fwmark N` balances is in the host's packet filter, not in keepalived.conf or
//! the IPVS table. Read from nftables (lvsprov's own `lvsprov_fwmark` table among the rest) and
//! from iptables' mangle table, where hand-built clusters put them.

use super::{Probe, UNREAD};
use crate::sh;
use crate::shell::Script;
use std::net::IpAddr;

pub const TAG: &str = "marks";

/// What one marking rule says: packets to `vip` on `ports` of `protocol` get `mark`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub mark: u32,
    pub vip: IpAddr,
    pub protocol: &'static str,
    pub ports: Vec<u16>,
}

/// A range wider than this is no service's port list: left unread rather than listed port by port.
const MAX_RANGE: u32 = 1024;

pub fn fragment(p: &Probe) -> Script {
    if !p.marks {
        return sh!("echo {}", UNREAD);
    }
    Script::lit(
        "command -v nft >/dev/null && nft list ruleset 2>/dev/null | grep 'mark set'\n\
         command -v iptables-save >/dev/null && iptables-save -t mangle 2>/dev/null | grep -e '-j MARK'\n\
         command -v ip6tables-save >/dev/null && ip6tables-save -t mangle 2>/dev/null | grep -e '-j MARK'\n\
         true",
    )
}

pub fn parse(lines: &[&str]) -> Vec<Mark> {
    lines
        .iter()
        .filter_map(|l| {
            if l.trim_start().starts_with("-A ") {
                iptables(l)
            } else {
                nft(l)
            }
        })
        .collect()
}

/// `ip daddr 192.168.100.10 tcp dport { 80, 8080 } meta mark set 0x00000001`
fn nft(line: &str) -> Option<Mark> {
    let text = line.replace(['{', '}', ','], " ");
    let w: Vec<&str> = text.split_whitespace().collect();
    let at = |word: &str| w.iter().position(|x| *x == word);
    let vip = w.get(at("daddr")? + 1)?.parse().ok()?;
    let dport = at("dport")?;
    let protocol = proto(w.get(dport.checked_sub(1)?)?)?;
    let set = w.windows(2).position(|p| p == ["mark", "set"])?;
    let ports: Option<Vec<Vec<u16>>> = w[dport + 1..set]
        .iter()
        .take_while(|x| x.starts_with(|c: char| c.is_ascii_digit()))
        .map(|p| range(p, '-'))
        .collect();
    Some(Mark {
        mark: number(w.get(set + 2)?)?,
        vip,
        protocol,
        ports: ports?.concat(),
    })
}

/// `-A PREROUTING -d 192.168.100.10/32 -p tcp -m multiport --dports 80,443 -j MARK --set-xmark 0x1/0xffffffff`
fn iptables(line: &str) -> Option<Mark> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let after = |flag: &str| w.iter().position(|x| *x == flag).and_then(|i| w.get(i + 1));
    let vip = after("-d")?.split('/').next()?.parse().ok()?;
    let ports = after("--dports").or_else(|| after("--dport"))?;
    let ports: Option<Vec<Vec<u16>>> = ports.split(',').map(|p| range(p, ':')).collect();
    let mark = after("--set-xmark").or_else(|| after("--set-mark"))?;
    Some(Mark {
        mark: number(mark.split('/').next()?)?,
        vip,
        protocol: proto(after("-p")?)?,
        ports: ports?.concat(),
    })
}

fn proto(word: &str) -> Option<&'static str> {
    match word {
        "tcp" => Some("tcp"),
        "udp" => Some("udp"),
        _ => None,
    }
}

/// `80`, or a range `8000-8010` (nft) / `8000:8010` (iptables).
fn range(text: &str, sep: char) -> Option<Vec<u16>> {
    match text.split_once(sep) {
        None => Some(vec![text.parse().ok()?]),
        Some((a, b)) => {
            let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b && u32::from(b - a) < MAX_RANGE).then(|| (a..=b).collect())
        }
    }
}

fn number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_from_nftables_and_iptables() {
        let got = parse(&[
            "\t\tip daddr 192.168.100.10 tcp dport { 80, 8080 } meta mark set 0x00000001",
            "\t\tip daddr 192.168.100.20 udp dport 5000-5002 meta mark set 7",
            "-A PREROUTING -d 192.168.100.30/32 -p tcp -m multiport --dports 80,443 -j MARK --set-xmark 0x2/0xffffffff",
            "-A PREROUTING -d 192.168.100.40/32 -p tcp -m tcp --dport 25 -j MARK --set-mark 3",
            // Not a VIP's ports: a mark on everything from a subnet.
            "\t\tip saddr 10.0.0.0/8 meta mark set 0x00000009",
            "unread",
        ]);
        let m = |mark, vip: &str, protocol, ports: &[u16]| Mark {
            mark,
            vip: vip.parse().unwrap(),
            protocol,
            ports: ports.to_vec(),
        };
        assert_eq!(
            got,
            [
                m(1, "192.168.100.10", "tcp", &[80, 8080]),
                m(7, "192.168.100.20", "udp", &[5000, 5001, 5002]),
                m(2, "192.168.100.30", "tcp", &[80, 443]),
                m(3, "192.168.100.40", "tcp", &[25]),
            ]
        );
        assert!(parse(&["ip daddr 192.168.100.10 tcp dport 1-60000 meta mark set 1"]).is_empty());
    }
}
