//! What the kernel's IPVS says beside the rules: its connection entries, its sync daemons and
//! its timeouts.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// One entry of `/proc/net/ip_vs_conn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    pub client: SocketAddr,
    pub virt: SocketAddr,
    pub dest: SocketAddr,
    pub state: String,
}

/// `/proc/net/ip_vs_conn`: `TCP C0A86464 D2E4 C0A8640A 0050 C0A864C9 0050 ESTABLISHED 895`
/// (client, virtual and real address in hex; IPv6 ones as 32 hex digits).
pub fn conns(text: &str) -> Vec<Conn> {
    let addr = |ip: &str, port: &str| -> Option<SocketAddr> {
        let port = u16::from_str_radix(port, 16).ok()?;
        let ip: IpAddr = match ip.len() {
            8 => std::net::Ipv4Addr::from(u32::from_str_radix(ip, 16).ok()?).into(),
            32 => std::net::Ipv6Addr::from(u128::from_str_radix(ip, 16).ok()?).into(),
            _ => ip.parse().ok()?,
        };
        Some(SocketAddr::new(ip, port))
    };
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some(Conn {
                client: addr(w.get(1)?, w.get(2)?)?,
                virt: addr(w.get(3)?, w.get(4)?)?,
                dest: addr(w.get(5)?, w.get(6)?)?,
                state: w.get(7)?.to_string(),
            })
        })
        .collect()
}

/// The sync daemons running, each role (`master`, `backup`) with what it syncs over
/// (`mcast=eth0, syncid=51`), from `ipvsadm -L --daemon`:
/// `master sync daemon (mcast=eth0, syncid=51)`, and on newer kernels with
/// `, maxlen=1472, group=224.0.0.81, port=8848, ttl=1` after the id (left out here).
pub fn daemons(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let (role, rest) = l.trim().split_once(' ')?;
            let args = rest.strip_prefix("sync daemon")?.trim();
            let args = args.trim_start_matches('(').trim_end_matches(')');
            let kept: Vec<&str> = args
                .split(", ")
                .filter(|w| w.starts_with("mcast=") || w.starts_with("syncid="))
                .collect();
            (role == "master" || role == "backup").then(|| (role.to_string(), kept.join(", ")))
        })
        .collect()
}

/// `Timeout (tcp tcpfin udp): 900 120 300` from `ipvsadm -L --timeout`.
pub fn timeouts(text: &str) -> Option<[u32; 3]> {
    let l = text
        .lines()
        .find(|l| l.starts_with("Timeout (tcp tcpfin udp):"))?;
    let v: Vec<u32> = l
        .rsplit(':')
        .next()?
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    v.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_entries_and_daemons() {
        // Recorded on lvs02 of the real-kernel lab (header, two synced clients, one other VIP).
        let table =
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                     TCP C0A86464 D2E4 C0A8640A 0050 C0A864C9 0050 ESTABLISHED     895\n\
                     TCP C0A86464 D2E8 C0A8640B 0050 C0A864CA 0050 ESTABLISHED     894\n";
        let c = conns(table);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].client.to_string(), "192.168.100.100:53988");
        assert_eq!(c[0].virt.to_string(), "192.168.100.10:80");
        assert_eq!(c[1].dest.to_string(), "192.168.100.202:80");
        assert_eq!(
            daemons("master sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\nbackup sync daemon (mcast=eth1, syncid=7)\njunk\n"),
            [
                ("backup".to_string(), "mcast=eth1, syncid=7".to_string()),
                ("master".to_string(), "mcast=eth0, syncid=51".to_string())
            ]
            .into()
        );
        assert_eq!(
            timeouts("Timeout (tcp tcpfin udp): 900 120 300\n"),
            Some([900, 120, 300])
        );
        assert_eq!(timeouts(""), None);
    }
}
