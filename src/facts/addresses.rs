//! IPv4 and IPv6 addresses per interface (with alias labels) and each interface's MAC.

use crate::sh;
use crate::shell::Script;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const TAG: &str = "addr";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub dev: String,
    pub ip: IpAddr,
    pub prefix: u8,
    pub label: String,
}

/// Addresses from one `ip`, and each interface's MAC from sysfs by the shell's own `read` (no
/// process). `ip link show` is not used on purpose: for every link whose peer is in another
/// namespace (a veth, a container's or a pod's interface) it looks up each name in /run/netns, so
/// its cost grows with the namespaces on the host: 12 ms of CPU per run with a thousand of them,
/// as many as `ssh true` costs the host. Only ethernet links (sysfs `type` 1) carry a MAC, as in
/// `ip`'s `link/ether`. A host without /sys falls back to `ip -o link show`.
pub fn fragment() -> Script {
    fragment_at("/sys/class/net")
}

fn fragment_at(sysfs: &str) -> Script {
    sh!(
        "ip -o addr show\n\
         _n=0\n\
         for _d in {}/*; do read -r _t < \"$_d/type\" && read -r _m < \"$_d/address\" || continue; _n=1; [ \"$_t\" = 1 ] && echo \"mac ${{_d##*/}} $_m\"; done 2>/dev/null\n\
         [ $_n = 1 ] || ip -o link show",
        sysfs
    )
}

/// Address lines and MAC lines tell themselves apart (`inet`; `mac` from sysfs or `link/ether`
/// from `ip -o link show`), so they may come in one section (as `fragment` prints them) or two
/// (`@@addr`, `@@link`: recorded facts before sysfs was read).
pub fn parse(lines: &[&str]) -> (Vec<Addr>, BTreeMap<String, String>) {
    (
        lines.iter().filter_map(|l| parse_addr(l)).collect(),
        lines
            .iter()
            .filter_map(|l| parse_sysfs_mac(l).or_else(|| parse_link(l)))
            .collect(),
    )
}

/// `mac eth0 02:42:c0:a8:64:c9`
fn parse_sysfs_mac(line: &str) -> Option<(String, String)> {
    let mut w = line.strip_prefix("mac ")?.split_whitespace();
    Some((w.next()?.to_string(), w.next()?.to_lowercase()))
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
/// or `2: eth0    inet6 fd00:100::201/64 scope global \       valid_lft ...` (IPv6 has no labels).
/// Between the scope and the label iproute2 prints flags (`secondary`, `noprefixroute`,
/// `dynamic`): the label is the last word before the `\` that ends the address part.
pub fn parse_addr(line: &str) -> Option<Addr> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let dev = w.get(1)?.split('@').next()?.to_string();
    let i = w.iter().position(|x| *x == "inet" || *x == "inet6")?;
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

/// Every address the host carries, one per line: what [`held`] reads. For commands that poll a
/// host for a VIP (a drained director giving it away, a restarted master taking it back), apart
/// from the facts' round trip.
pub fn listing() -> Script {
    sh!("PATH=$PATH:/usr/sbin:/sbin ip -o addr show")
}

/// The addresses in [`listing`]'s output, read as the facts read them.
pub fn held(text: &str) -> Vec<IpAddr> {
    text.lines().filter_map(parse_addr).map(|a| a.ip).collect()
}

/// The NIC whose subnet holds `ip` (never lo).
pub fn nic_for(addrs: &[Addr], ip: IpAddr) -> Option<&str> {
    addrs
        .iter()
        .filter(|a| a.dev != "lo")
        .find(|a| {
            ipnet::IpNet::new(a.ip, a.prefix)
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
        let v6 = parse_addr("14: eth0    inet6 fd00:100::201/64 scope global \\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!(
            (v6.dev.as_str(), v6.prefix, v6.label.as_str()),
            ("eth0", 64, "eth0")
        );
        let lo6 = parse_addr("1: lo    inet6 fd00:100::10/128 scope global \\       valid_lft forever preferred_lft forever").unwrap();
        let addrs = [a, b, v6, lo6];
        assert_eq!(
            nic_for(&addrs, "192.168.100.10".parse().unwrap()),
            Some("eth0")
        );
        assert_eq!(
            nic_for(&addrs, "fd00:100::10".parse().unwrap()),
            Some("eth0")
        );
        assert_eq!(nic_for(&addrs, "fd00:200::10".parse().unwrap()), None);
    }

    #[test]
    fn reads_macs_of_veth_pairs() {
        let (_, macs) = parse(&["14: eth0@if15: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:C0:A8:64:C9 brd ff:ff:ff:ff:ff:ff link-netnsid 0"]);
        assert_eq!(
            macs.get("eth0").map(String::as_str),
            Some("02:42:c0:a8:64:c9")
        );
    }

    /// `script`'s output as this machine's `sh` runs it; it must succeed.
    fn run(script: &Script) -> String {
        let out = crate::shell::run_sh(script.as_str());
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The fragment as this machine's `sh` runs it: addresses from `ip`, and the same ethernet
    /// MACs from sysfs that `ip -o link show` lists (loopback has an address and no MAC).
    #[test]
    fn addresses_from_ip_and_the_macs_ip_would_list() {
        let text = run(&fragment());
        let lines: Vec<&str> = text.lines().collect();
        let (addrs, macs) = parse(&lines);
        assert!(
            addrs
                .iter()
                .any(|a| a.dev == "lo" && a.ip == std::net::Ipv4Addr::LOCALHOST),
            "{text}"
        );
        assert!(!macs.contains_key("lo"), "{text}");
        assert!(!text.contains("link/"), "ip link ran: {text}");
        let by_ip = run(&sh!("ip -o link show"));
        let (_, want) = parse(&by_ip.lines().collect::<Vec<_>>());
        assert_eq!(macs, want, "sysfs:\n{text}\nip:\n{by_ip}");
    }

    /// Interfaces that are not ethernet are left out; where sysfs has no interface at all the
    /// fragment asks `ip` instead, and its lines parse the same way.
    #[test]
    fn sysfs_types_and_the_fallback_to_ip() {
        let dir = std::env::temp_dir().join(format!("lvsprov-sysfs-{}", std::process::id()));
        let put = |dev: &str, ty: &str, mac: &str| {
            std::fs::create_dir_all(dir.join(dev)).unwrap();
            std::fs::write(dir.join(dev).join("type"), format!("{ty}\n")).unwrap();
            std::fs::write(dir.join(dev).join("address"), format!("{mac}\n")).unwrap();
        };
        put("lo", "772", "00:00:00:00:00:00");
        put("eth0", "1", "02:42:C0:A8:64:C9");
        put("ipip0", "768", "00:00:00:00");
        let text = run(&fragment_at(dir.to_str().unwrap()));
        let (_, macs) = parse(&text.lines().collect::<Vec<_>>());
        assert_eq!(
            macs.into_iter().collect::<Vec<_>>(),
            vec![("eth0".to_string(), "02:42:c0:a8:64:c9".to_string())],
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let none = run(&fragment_at(dir.to_str().unwrap()));
        assert!(none.contains("link/loopback"), "{none}");
    }
}
