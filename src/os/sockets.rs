//! The TCP sessions a real server itself has open for a VIP: the one count of "clients still
//! mid-session" that no director's table can fake. A director's IPVS table keeps an entry
//! "active" until its TCP timeout once it stops seeing the session's packets, and after a
//! failover and back the director that holds the VIP again has entries of sessions that ended on
//! the other one (a CI run's rolling `up` waited out its 300 s drain timeout on one). The real
//! server's kernel knows: in DR a client's session is a socket whose local address is the VIP,
//! and keepalived's own checks, made to the server's own address, are not counted.

use crate::sh;
use crate::shell::Script;
use std::net::IpAddr;

/// `ss` lists sessions a client still holds: established, half-closed by the client while the
/// server still sends, or connected with no data yet (apache accepts a connection only once its
/// first bytes arrive, and until then the kernel holds it in syn-recv). `-H` (no header) and state filters are in iproute2 since 2017 (RHEL 7.5+,
/// Debian 10+).
pub fn sessions() -> Script {
    sh!("PATH=$PATH:/usr/sbin:/sbin ss -Htn state established state close-wait state syn-recv")
}

/// Sessions in `ss` output (see [`sessions`]) whose local end is one of `vips` on one of `ports`.
/// A dual-stack listener shows an IPv4 session as `[::ffff:A.B.C.D]:PORT`.
pub fn open_to(ss: &str, vips: &[IpAddr], ports: &[u16]) -> u64 {
    let local = |line: &str| -> Option<(IpAddr, u16)> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (addr, port) = fields.get(fields.len().checked_sub(2)?)?.rsplit_once(':')?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let addr = addr.strip_prefix("::ffff:").unwrap_or(addr);
        let addr = addr.split('%').next()?;
        Some((addr.parse().ok()?, port.parse().ok()?))
    };
    ss.lines()
        .filter_map(local)
        .filter(|(a, p)| vips.contains(a) && ports.contains(p))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIP: &str = "192.168.100.100";

    fn count(ss: &str, ports: &[u16]) -> u64 {
        open_to(ss, &[VIP.parse().unwrap()], ports)
    }

    #[test]
    fn counts_sessions_whose_local_end_is_the_vip() {
        let ss = "0      0      192.168.100.100:80   192.168.100.50:41234\n\
                  0      0      192.168.100.100:80   192.168.100.50:41236\n\
                  0      0      192.168.100.201:80   192.168.100.11:50000\n\
                  0      0      192.168.100.201:22   192.168.100.1:60000\n";
        assert_eq!(
            count(ss, &[80]),
            2,
            "a check to the server's own address is no client"
        );
        assert_eq!(count(ss, &[443]), 0);
    }

    #[test]
    fn reads_a_dual_stack_listener_and_the_state_column() {
        let ss = "ESTAB      0 0 [::ffff:192.168.100.100]:80 [::ffff:192.168.100.50]:41234\n\
                  CLOSE-WAIT 1 0 [::ffff:192.168.100.100]:80 [::ffff:192.168.100.50]:41240\n\
                  ESTAB      0 0 [fd00:100::64]:80 [fd00:100::32]:5000\n";
        assert_eq!(count(ss, &[80]), 2);
        let v6: IpAddr = "fd00:100::64".parse().unwrap();
        assert_eq!(open_to(ss, &[v6], &[80]), 1);
    }

    #[test]
    fn ignores_what_is_not_a_session_line() {
        assert_eq!(count("", &[80]), 0);
        assert_eq!(count("garbage\n\n:80\n", &[80]), 0);
    }
}
