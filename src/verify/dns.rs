//! A DNS query through a VIP, as a DNS service's clients send it: `verify`'s traffic check for a
//! UDP service checked with `"type": "dns"`. UDP answers carry nothing that tells the real servers
//! apart, so what is proven is that every query through the VIP comes back NOERROR.

use super::checks::{check, Check};
use crate::inventory::{HealthKind, Service};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// A UDP service's check through its VIP: the `dns` check's own query, `requests` times, every
/// answer NOERROR. A plain `udp` check's service has no request lvsprov knows an answer to: none.
pub async fn through_vip(svc: &Service, requests: usize) -> Vec<Check> {
    let hc = &svc.health_check;
    let Some(name) = hc.name.as_deref().filter(|_| hc.kind == HealthKind::Dns) else {
        return vec![];
    };
    let (mut answered, mut last) = (0, String::new());
    for _ in 0..requests {
        let timeout = Duration::from_secs(2);
        match ask(svc.vip.0, svc.port, name, &hc.query_type, timeout).await {
            Ok(0) => answered += 1,
            Ok(code) => last = format!("RCODE {code}"),
            Err(e) => last = e,
        }
    }
    let got = match answered {
        n if n == requests => format!("{n}"),
        n => format!("{n} (the others: {last})"),
    };
    let what = format!(
        "{}:{}/udp {name} {} answered NOERROR",
        svc.vip, svc.port, hc.query_type
    );
    vec![check(
        what,
        answered == requests,
        format!("{requests} of {requests}"),
        got,
    )]
}

/// The record types keepalived's DNS_CHECK asks for, by their wire codes (RFC 1035, 3596).
fn qtype(name: &str) -> Option<u16> {
    Some(match name {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        _ => return None,
    })
}

/// The query's bytes: one question, recursion desired (what keepalived's DNS_CHECK sends too).
fn query(id: u16, name: &str, query_type: &str) -> Option<Vec<u8>> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        q.push(u8::try_from(label.len()).ok().filter(|n| *n <= 63)?);
        q.extend(label.bytes());
    }
    q.push(0);
    q.extend(qtype(query_type)?.to_be_bytes());
    q.extend(1u16.to_be_bytes()); // IN
    Some(q)
}

/// The RCODE of `reply` when it answers query `id`; None for anything else.
fn rcode(reply: &[u8], id: u16) -> Option<u8> {
    (reply.len() >= 12 && reply[..2] == id.to_be_bytes() && reply[2] & 0x80 != 0)
        .then(|| reply[3] & 0x0f)
}

/// One query from a fresh socket (a new source port: a new connection for IPVS to schedule).
/// Ok(0) is NOERROR; Ok(n) the server's RCODE.
pub async fn ask(
    ip: IpAddr,
    port: u16,
    name: &str,
    query_type: &str,
    timeout: Duration,
) -> Result<u8, String> {
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u16)
        .unwrap_or(0x4c56);
    let q = query(id, name, query_type)
        .ok_or_else(|| format!("cannot ask for {name:?} {query_type}"))?;
    let work = async {
        let any: IpAddr = match ip {
            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let sock = tokio::net::UdpSocket::bind((any, 0))
            .await
            .map_err(|e| e.to_string())?;
        sock.connect((ip, port)).await.map_err(|e| e.to_string())?;
        sock.send(&q).await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 1500];
        loop {
            let n = sock.recv(&mut buf).await.map_err(|e| e.to_string())?;
            if let Some(code) = rcode(&buf[..n], id) {
                return Ok(code);
            }
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| "no answer".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_laid_out_as_rfc_1035_says() {
        let q = query(0x1234, "who.lab.", "TXT").unwrap();
        assert_eq!(
            q,
            [
                0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'h', b'o', 3, b'l', b'a', b'b',
                0, 0, 16, 0, 1
            ]
        );
        assert_eq!(query(1, ".", "SOA").unwrap()[12..], [0, 0, 6, 0, 1]);
        assert!(query(1, "x", "ANY").is_none());
    }

    #[test]
    fn only_an_answer_to_the_query_counts() {
        let mut r = query(7, "a", "A").unwrap();
        assert_eq!(rcode(&r, 7), None, "a query is no answer");
        r[2] |= 0x80;
        r[3] = 0x05;
        assert_eq!(rcode(&r, 7), Some(5));
        assert_eq!(rcode(&r, 8), None);
        assert_eq!(rcode(&r[..11], 7), None);
    }
}
