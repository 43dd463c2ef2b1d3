//! IPVS's counters and rates, per virtual service and per real server: `ipvsadm -Ln --stats
//! --exact` (connections, packets and bytes since the service was added) and `--rate --exact`
//! (the kernel's per-second estimates, refreshed every 2 s). Both print five numbers after the
//! same address column, so one reader takes either.

use super::{proto_word, Key};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The counters since each service was added, as [`five`] reads them; `--rate --exact` gives the
/// per-second estimates in the same shape.
pub const COMMAND: &str = "ipvsadm -Ln --stats --exact";

/// A service's own line (`dest` None) or one of its real servers' (`Some`).
pub type Row = (Key, Option<SocketAddr>);

/// The five numbers of each row, in `ipvsadm`'s column order: Conns InPkts OutPkts InBytes
/// OutBytes (`--stats`) or CPS InPPS OutPPS InBPS OutBPS (`--rate`).
pub fn five(text: &str) -> BTreeMap<Row, [u64; 5]> {
    let mut out = BTreeMap::new();
    let mut service: Option<Key> = None;
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let nums = |from: usize| -> Option<[u64; 5]> {
            let v: Vec<u64> = w
                .get(from..from + 5)?
                .iter()
                .map(|n| n.parse().ok())
                .collect::<Option<_>>()?;
            v.try_into().ok()
        };
        match w.first().copied() {
            Some("->") => {
                let (Some(key), Some(addr)) = (service, w.get(1).and_then(|a| a.parse().ok()))
                else {
                    continue;
                };
                if let Some(n) = nums(2) {
                    out.insert((key, Some(addr)), n);
                }
            }
            Some(p @ ("TCP" | "UDP" | "SCTP" | "FWM")) => {
                service = match (p, w.get(1)) {
                    ("FWM", Some(m)) => m.parse().ok().map(Key::Mark),
                    (_, Some(a)) => a.parse().ok().map(|a| Key::Addr(proto_word(p), a)),
                    _ => None,
                };
                if let (Some(key), Some(n)) = (service, nums(2)) {
                    out.insert((key, None), n);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Proto;

    #[test]
    fn reads_services_and_their_real_servers() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n\
  -> RemoteAddress:Port\n\
TCP  192.168.100.10:80                  12       72        0     4712        0\n\
  -> 192.168.100.201:80                  7       40        0     2600        0\n\
  -> 192.168.100.202:80                  5       32        0     2112        0\n\
FWM  7                                   1        2        0      120        0\n\
  -> 192.168.100.201:0                   1        2        0      120        0\n";
        let t = five(text);
        let svc = Key::Addr(Proto::Tcp, "192.168.100.10:80".parse().unwrap());
        assert_eq!(t[&(svc, None)], [12, 72, 0, 4712, 0]);
        assert_eq!(
            t[&(svc, Some("192.168.100.202:80".parse().unwrap()))],
            [5, 32, 0, 2112, 0]
        );
        assert_eq!(
            t[&(Key::Mark(7), Some("192.168.100.201:0".parse().unwrap()))][3],
            120
        );
        assert_eq!(t.len(), 5, "the header lines are no rows");
    }

    #[test]
    fn a_row_without_five_numbers_is_left_out() {
        assert!(five("TCP  192.168.100.10:80  12 72 0\n").is_empty());
        assert!(
            five("  -> 192.168.100.201:80  1 2 3 4 5\n").is_empty(),
            "no service above it"
        );
    }
}
