//! IPv4 addresses per interface (with alias labels) and each interface's MAC.

use crate::sh;
use crate::shell::Script;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub const TAG: &str = "addr";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub dev: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub label: String,
}

/// Addresses and links from one `ip` (a batch from a here-document, which dash writes without a
/// fork): on a no-op run the host's processes are most of lvsprov's cost. `-4` filters the
/// addresses only; every link is listed.
pub fn fragment() -> Script {
    sh!("ip -o -4 -batch - <<'LVSPROV_IP'\naddr show\nlink show\nLVSPROV_IP")
}

/// Address lines and link lines tell themselves apart (`inet`, `link/ether`), so they may come in
/// one section (as `fragment` prints them) or two (`@@addr`, `@@link`: recorded facts before the
/// batch).
pub fn parse(lines: &[&str]) -> (Vec<Addr>, BTreeMap<String, String>) {
    (
        lines.iter().filter_map(|l| parse_addr(l)).collect(),
        lines.iter().filter_map(|l| parse_link(l)).collect(),
    )
}

/// `2: eth0@if15: <BROADCAST,...> mtu 1500 ... link/ether 02:42:c0:a8:64:c9 brd ff:ff:ff:ff:ff:ff`
fn parse_link(line: &str) -> Option<(String, String)> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let dev = w
        .get(1)?
        .trim_end_matches(':')
        .split('@')
        .next()?
        .to_string();
    let i = w.iter().position(|x| *x == "link/ether")?;
    Some((dev, w.get(i + 1)?.to_lowercase()))
}

/// `2: eth0    inet 192.168.100.201/24 brd 192.168.100.255 scope global eth0\       valid_lft ...`
/// Between the scope and the label iproute2 prints flags (`secondary`, `noprefixroute`,
/// `dynamic`): the label is the last word before the `\` that ends the address part.
pub fn parse_addr(line: &str) -> Option<Addr> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let dev = w.get(1)?.split('@').next()?.to_string();
    let i = w.iter().position(|x| *x == "inet")?;
    let (ip, prefix) = w.get(i + 1)?.split_once('/')?;
    let scope = w.iter().position(|x| *x == "scope")?;
    let label = w
        .iter()
        .skip(scope + 2)
        .take_while(|t| !t.starts_with("valid_lft"))
        .map(|t| t.trim_end_matches('\\'))
        .filter(|t| !t.is_empty())
        .last()
        .map(str::to_string);
    Some(Addr {
        ip: ip.parse().ok()?,
        prefix: prefix.parse().ok()?,
        label: label
            .filter(|l| l.starts_with(&dev))
            .unwrap_or_else(|| dev.clone()),
        dev,
    })
}

/// The NIC whose subnet holds `ip` (never lo).
pub fn nic_for(addrs: &[Addr], ip: Ipv4Addr) -> Option<&str> {
    addrs
        .iter()
        .filter(|a| a.dev != "lo")
        .find(|a| {
            ipnet::Ipv4Net::new(a.ip, a.prefix)
                .map(|n| n.trunc().contains(&ip))
                .unwrap_or(false)
        })
        .map(|a| a.dev.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_alias_labels() {
        let a = parse_addr("1: lo    inet 192.168.100.10/32 scope global lo:0\\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!(
            (a.dev.as_str(), a.prefix, a.label.as_str()),
            ("lo", 32, "lo:0")
        );
        // NetworkManager's and a second address's flags come before the label.
        let nm = parse_addr("2: ens33    inet 192.168.100.10/32 scope global secondary noprefixroute ens33:0\\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!((nm.dev.as_str(), nm.label.as_str()), ("ens33", "ens33:0"));
        let plain = parse_addr("2: ens33    inet 192.168.100.11/24 brd 192.168.100.255 scope global noprefixroute ens33\\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!(plain.label, "ens33");
        let b = parse_addr("14: eth0    inet 192.168.100.201/24 brd 192.168.100.255 scope global eth0\\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!((b.dev.as_str(), b.prefix), ("eth0", 24));
        assert_eq!(
            nic_for(&[a, b], "192.168.100.10".parse().unwrap()),
            Some("eth0")
        );
    }

    #[test]
    fn reads_macs_of_veth_pairs() {
        let (_, macs) = parse(&["14: eth0@if15: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:C0:A8:64:C9 brd ff:ff:ff:ff:ff:ff link-netnsid 0"]);
        assert_eq!(
            macs.get("eth0").map(String::as_str),
            Some("02:42:c0:a8:64:c9")
        );
    }

    /// The fragment run by this machine's own `ip`: one process gives both kinds of line, and
    /// each parses as its own kind (loopback has an address and no ethernet MAC).
    #[test]
    fn one_ip_batch_gives_addresses_and_macs() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(fragment().as_str())
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let (addrs, macs) = parse(&lines);
        assert!(
            addrs
                .iter()
                .any(|a| a.dev == "lo" && a.ip == Ipv4Addr::LOCALHOST),
            "{text}"
        );
        assert!(!macs.contains_key("lo"), "{text}");
        assert!(lines.iter().any(|l| l.contains("link/loopback")), "{text}");
    }
}
