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
/// first bytes arrive, and until then the kernel holds it in syn-recv). `-o` adds each one's
/// timer, which tells such a connection from a handshake that will never finish (see
/// [`open_to`]). `-H` (no header) and state filters are in iproute2 since 2017 (RHEL 7.5+,
/// Debian 10+).
pub fn sessions() -> Script {
    sh!("PATH=$PATH:/usr/sbin:/sbin ss -Htno state established state close-wait state syn-recv")
}

/// Sessions in `ss` output (see [`sessions`]) whose local end is one of `vips` on one of `ports`.
/// A dual-stack listener shows an IPv4 session as `[::ffff:A.B.C.D]:PORT`.
///
/// A syn-recv whose SYN-ACK the server has had to resend is no session: the client's ACK never
/// came. After a VIP move it went to the new holder, which did not know the connection and reset
/// it, and the server goes on resending to a client that gave up until `tcp_synack_retries` runs
/// out, about 63 s (a CI run's drain after a failback waited its 60 s out on one). A client
/// that did finish the handshake and has not sent yet is not resent to while apache defers it
/// (30 s): so one whose request was reset at a VIP move after its handshake counts that long.
pub fn open_to(ss: &str, vips: &[IpAddr], ports: &[u16]) -> u64 {
    ss.lines()
        .filter_map(Line::parse)
        .filter(|l| !(l.state == Some("SYN-RECV") && l.resent > 0))
        .filter(|l| vips.contains(&l.local.0) && ports.contains(&l.local.1))
        .count() as u64
}

/// One line of `ss -tno`: `[STATE] RECV-Q SEND-Q LOCAL PEER [timer:(NAME,EXPIRES,RESENT)]`.
struct Line<'a> {
    /// Present when more than one state was asked for.
    state: Option<&'a str>,
    local: (IpAddr, u16),
    /// How often the timer's segment (a syn-recv's SYN-ACK) has been sent again.
    resent: u32,
}

impl<'a> Line<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let timer = fields.iter().find_map(|f| f.strip_prefix("timer:("));
        let ends: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !f.contains('(') && f.contains(':'))
            .collect();
        let (addr, port) = ends.get(ends.len().checked_sub(2)?)?.rsplit_once(':')?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let addr = addr.strip_prefix("::ffff:").unwrap_or(addr);
        let addr = addr.split('%').next()?;
        let resent = timer
            .and_then(|t| t.trim_end_matches(')').rsplit(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Some(Line {
            state: fields
                .first()
                .filter(|f| f.parse::<u64>().is_err())
                .copied(),
            local: (addr.parse().ok()?, port.parse().ok()?),
            resent,
        })
    }
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

    #[test]
    fn a_handshake_the_server_resends_is_no_session() {
        // Read from a network namespace: a client connected with no data yet (apache defers it,
        // never resent), one whose final ACK was dropped (resent twice), and live sessions
        // with keep-alive timers.
        let ss = "SYN-RECV 0 0 192.168.100.100:80 192.168.100.50:60024 timer:(on,1.840ms,0)\n\
                  SYN-RECV 0 0 192.168.100.100:80 192.168.100.50:60034 timer:(on,3.028ms,2)\n\
                  ESTAB    0 0 192.168.100.100:80 192.168.100.50:60040 timer:(keepalive,4.2sec,0)\n\
                  ESTAB    0 0 192.168.100.100:80 192.168.100.50:60042 timer:(on,200ms,3)\n";
        assert_eq!(
            count(ss, &[80]),
            3,
            "only the resent syn-recv is no session"
        );
    }
}
