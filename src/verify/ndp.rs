//! Who answers IPv6 neighbour discovery for a VIP: the IPv6 counterpart of `arping`, done here
//! because no tool for it ships with a minimal host. One neighbour solicitation to the VIP's
//! solicited-node group a second for three seconds, as arping asks; every neighbour
//! advertisement for the VIP that comes back names a MAC in its target link-layer option (Linux
//! always includes it when the solicitation was multicast).
//!
//! Linux answers a solicitation only for an address on the interface it arrived on, so a real
//! server with the VIP on `lo` keeps quiet by itself (no `arp_ignore` is needed or exists for
//! IPv6); a real server with it on its NIC answers, and this is what finds it.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::collections::BTreeSet;
use std::io::Read;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};

const SOLICIT: u8 = 135;
const ADVERT: u8 = 136;
/// RFC 4861: a neighbour discovery message with another hop limit is dropped by its receiver.
const HOPS: u32 = 255;

/// The MACs that advertise `target` on `dev` within `wait`; an error when the probe cannot run
/// (no raw socket without root or CAP_NET_RAW, no such interface).
pub fn answers(target: Ipv6Addr, dev: &str, wait: Duration) -> std::io::Result<BTreeSet<String>> {
    let sysfs = |f: &str| std::fs::read_to_string(format!("/sys/class/net/{dev}/{f}"));
    let index: u32 = sysfs("ifindex")?
        .trim()
        .parse()
        .map_err(std::io::Error::other)?;
    let mac = parse_mac(sysfs("address")?.trim())
        .ok_or_else(|| std::io::Error::other(format!("{dev} has no ethernet address")))?;
    let sock = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    sock.set_multicast_hops_v6(HOPS)?;
    sock.set_unicast_hops_v6(HOPS)?;
    sock.set_multicast_if_v6(index)?;
    sock.bind_device(Some(dev.as_bytes()))?;
    let to = SockAddr::from(SocketAddrV6::new(solicited_node(target), 0, 0, index));
    let message = solicitation(target, mac);
    let (start, mut sent, mut seen) = (Instant::now(), 0u32, BTreeSet::new());
    let sends = wait.as_secs().max(1) as u32;
    let mut buf = [0u8; 1500];
    while start.elapsed() < wait {
        if sent < sends && start.elapsed() >= Duration::from_secs(sent.into()) {
            sock.send_to(&message, &to)?;
            sent += 1;
        }
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        match (&sock).read(&mut buf) {
            Ok(n) => seen.extend(advertised(&buf[..n], target)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(seen)
}

/// `ff02::1:ffXX:XXXX`: the group a host joins for each of its addresses' last 24 bits.
fn solicited_node(target: Ipv6Addr) -> Ipv6Addr {
    let t = target.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(t[13]),
        u16::from_be_bytes([t[14], t[15]]),
    )
}

/// ICMPv6 type 135 with our source link-layer address; the kernel fills in the checksum.
fn solicitation(target: Ipv6Addr, mac: [u8; 6]) -> Vec<u8> {
    let mut m = vec![SOLICIT, 0, 0, 0, 0, 0, 0, 0];
    m.extend(target.octets());
    m.extend([1, 1]);
    m.extend(mac);
    m
}

/// The MAC in a neighbour advertisement for `target` (its target link-layer address option).
fn advertised(icmp: &[u8], target: Ipv6Addr) -> Option<String> {
    if icmp.len() < 24 || icmp[0] != ADVERT || icmp[8..24] != target.octets() {
        return None;
    }
    let mut opts = &icmp[24..];
    while opts.len() >= 8 {
        let len = usize::from(opts[1]) * 8;
        if len == 0 || len > opts.len() {
            return None;
        }
        if opts[0] == 2 {
            let m = &opts[2..8];
            return Some(
                m.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            );
        }
        opts = &opts[len..];
    }
    None
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solicits_the_vips_group_and_reads_the_advertised_mac() {
        let vip: Ipv6Addr = "fd00:100::10".parse().unwrap();
        assert_eq!(
            solicited_node(vip),
            "ff02::1:ff00:10".parse::<Ipv6Addr>().unwrap()
        );
        let mac = parse_mac("02:00:00:00:64:0b").unwrap();
        let ns = solicitation(vip, mac);
        assert_eq!((ns[0], ns.len(), &ns[26..]), (135, 32, &mac[..]));
        // A solicited advertisement (flags S and O) with its target link-layer address option.
        let mut na = vec![136, 0, 0, 0, 0x60, 0, 0, 0];
        na.extend(vip.octets());
        na.extend([2, 1, 0x02, 0, 0, 0, 0x64, 0x0b]);
        assert_eq!(advertised(&na, vip).as_deref(), Some("02:00:00:00:64:0b"));
        let other: Ipv6Addr = "fd00:100::11".parse().unwrap();
        assert_eq!(advertised(&na, other), None);
        assert_eq!(advertised(&ns, vip), None);
        assert_eq!(advertised(&na[..24], vip), None);
    }
}
