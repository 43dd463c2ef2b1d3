//! The services an imported director runs, from its live IPVS table or its keepalived.conf, as far
//! as an inventory can hold them; the rest is named with the reason.

use super::keepalived_conf::{self, Check, VirtualServer};
use crate::facts::marks::Mark;
use crate::inventory::raw::RawHealthCheck;
use crate::ipvs::{Key, Method, Proto, Table};
use std::net::IpAddr;

/// A virtual service as the inventory holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Service {
    pub vip: IpAddr,
    /// The first of `ports`.
    pub port: u16,
    /// Every port: one, or those of a firewall mark.
    pub ports: Vec<u16>,
    /// The mark the director's own rules set on these ports' packets (`virtual_server fwmark N`).
    pub fwmark: Option<u32>,
    pub protocol: &'static str,
    pub scheduler: String,
    pub persistence: Option<u32>,
    /// (real server address, weight)
    pub members: Vec<(IpAddr, u32)>,
    pub health: Option<RawHealthCheck>,
    /// keepalived's fallbacks: the sorry server's address, `quorum`, `inhibit_on_failure`.
    pub sorry: Option<IpAddr>,
    pub quorum: Option<u32>,
    pub inhibit: bool,
}

impl Service {
    pub fn key(&self) -> String {
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        format!("{}:{}/{}", self.vip, ports.join(","), self.protocol)
    }
}

/// What mark `n` selects, by the host's own rules: one VIP's ports of one protocol. None (named
/// with the reason) when no rule sets it, or rules set it on more than that.
fn marked(host: &str, n: u32, marks: &[Mark], out: &mut Vec<String>) -> Option<Mark> {
    let rules: Vec<&Mark> = marks.iter().filter(|m| m.mark == n).collect();
    let Some(first) = rules.first() else {
        out.push(format!("{host}: firewall mark {n} is balanced but no nftables or iptables rule read there sets it on a VIP's ports; the service is left out: mark its packets by destination address and port"));
        return None;
    };
    if rules
        .iter()
        .any(|m| m.vip != first.vip || m.protocol != first.protocol)
    {
        out.push(format!("{host}: firewall mark {n} is set on packets to more than one VIP or protocol; an inventory's service over several `ports` has one VIP and one protocol, so it is left out"));
        return None;
    }
    let mut ports: Vec<u16> = rules.iter().flat_map(|m| m.ports.iter().copied()).collect();
    ports.sort_unstable();
    ports.dedup();
    Some(Mark {
        ports,
        ..(*first).clone()
    })
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Masq => "masquerading (NAT)",
        Method::Tunnel => "tunnelling (IPIP)",
        Method::Route => "direct routing",
    }
}

/// The services a director's live IPVS table holds.
pub(super) fn from_table(
    host: &str,
    table: &Table,
    marks: &[Mark],
    out: &mut Vec<String>,
) -> Vec<Service> {
    let mut services: Vec<Service> = Vec::new();
    for t in &table.services {
        let (protocol, vip, ports, fwmark) = match t.key {
            Key::Addr(Proto::Tcp, a) => ("tcp", a.ip(), vec![a.port()], None),
            Key::Addr(Proto::Udp, a) => ("udp", a.ip(), vec![a.port()], None),
            Key::Mark(n) => match marked(host, n, marks, out) {
                Some(Mark {
                    vip: std::net::IpAddr::V4(vip),
                    protocol,
                    ports,
                    ..
                }) => (protocol, IpAddr::V4(vip), ports, Some(n)),
                Some(_) => {
                    out.push(format!("{host}: firewall mark {n} is set on IPv6 packets; import reads IPv4 services only, so it is left out"));
                    continue;
                }
                None => continue,
            },
            key => {
                out.push(format!(
                    "{host}: IPVS service `{key}` is an SCTP one; import reads TCP and UDP services by VIP and port or firewall mark, so it is left out and `up` would leave it alone only if it never touches it: keep this director out of lvsprov"
                ));
                continue;
            }
        };
        let port = ports[0];
        let mut svc = Service {
            vip,
            port,
            ports,
            fwmark,
            protocol,
            scheduler: Some(t.scheduler.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "wlc".into()),
            persistence: t.persistence,
            members: vec![],
            health: None,
            sorry: None,
            quorum: None,
            inhibit: false,
        };
        for d in &t.dests {
            // A mark's real servers are listed on port 0: they take every port of it.
            let (rip, rport) = (
                d.addr.ip(),
                if fwmark.is_some() {
                    port
                } else {
                    d.addr.port()
                },
            );
            if d.method != Method::Route {
                out.push(format!(
                    "{host}: {vip}:{port} sends to {} by {}; lvsprov builds direct routing only, so this real server is left out of the inventory and `up` would take it out of the IPVS table: move it to DR (`-g`) first, or keep this service out of lvsprov",
                    d.addr,
                    method_name(d.method)
                ));
                continue;
            }
            if rport != port {
                out.push(format!(
                    "{host}: {vip}:{port} sends to {}; direct routing cannot change the port, so this real server is left out: make it listen on {port}",
                    d.addr
                ));
                continue;
            }
            if rip.is_ipv4() == vip.is_ipv4() {
                svc.members.push((rip, d.weight));
            }
        }
        services.push(svc);
    }
    services
}

/// The services keepalived.conf defines, with their health checks.
pub(super) fn from_keepalived(
    host: &str,
    k: &keepalived_conf::Keepalived,
    marks: &[Mark],
    out: &mut Vec<String>,
) -> Vec<Service> {
    let mut services = Vec::new();
    for vs in &k.virtual_servers {
        let head = vs.head.join(" ");
        let Some(Head {
            vip,
            ports,
            fwmark,
            protocol: mark_protocol,
        }) = vs_head(host, vs, marks, out)
        else {
            continue;
        };
        let port = ports[0];
        if let Some(m) = vs
            .method
            .as_deref()
            .filter(|m| !m.eq_ignore_ascii_case("DR"))
        {
            out.push(format!(
                "{host}: keepalived's virtual_server {head} uses {}; lvsprov builds direct routing only, so the service is left out",
                match m.to_ascii_uppercase().as_str() {
                    "NAT" => method_name(Method::Masq),
                    "TUN" => method_name(Method::Tunnel),
                    _ => "an unknown forwarding method",
                }
            ));
            continue;
        }
        // A mark's protocol is its rules' (keepalived ignores one given with a mark).
        let protocol = mark_protocol.unwrap_or(
            match vs
                .protocol
                .as_deref()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("UDP") => "udp",
                _ => "tcp",
            },
        );
        let mut members = Vec::new();
        let mut health = None;
        for r in &vs.real_servers {
            let Ok(rip) = r.ip.parse::<IpAddr>() else {
                continue;
            };
            if fwmark.is_none() && r.port.is_some_and(|p| p != port) {
                out.push(format!(
                    "{host}: virtual_server {head} sends to {rip}:{}; direct routing cannot change the port, so this real server is left out",
                    r.port.unwrap_or_default()
                ));
                continue;
            }
            members.push((rip, r.weight.unwrap_or(1)));
            if let (None, Some(c)) = (&health, &r.check) {
                health = Some(health_check(host, vs, port, c, out));
            }
        }
        services.push(Service {
            vip,
            port,
            ports,
            fwmark,
            protocol,
            scheduler: vs.scheduler.clone().unwrap_or_else(|| "wlc".into()),
            persistence: vs.persistence_timeout,
            members,
            health,
            sorry: vs.sorry_server.as_deref().and_then(|a| a.parse().ok()),
            quorum: vs.quorum,
            inhibit: vs.inhibit_on_failure,
        });
    }
    services
}

/// What a `virtual_server` line names: a VIP and its port(s); with a mark, also its protocol.
struct Head {
    vip: IpAddr,
    ports: Vec<u16>,
    fwmark: Option<u32>,
    protocol: Option<&'static str>,
}

/// A virtual server's head: `VIP PORT`, or `fwmark N` with what the host's rules mark so (its
/// VIP, ports and protocol). None, named, for what an inventory cannot hold (a group).
fn vs_head(host: &str, vs: &VirtualServer, marks: &[Mark], out: &mut Vec<String>) -> Option<Head> {
    let head = vs.head.join(" ");
    match (vs.head.first().map(String::as_str), vs.head.get(1)) {
        (Some("fwmark"), Some(n)) => {
            let n: u32 = n.parse().ok()?;
            match marked(host, n, marks, out)? {
                Mark {
                    vip: std::net::IpAddr::V4(vip),
                    ports,
                    protocol,
                    ..
                } => Some(Head {
                    vip: IpAddr::V4(vip),
                    ports,
                    fwmark: Some(n),
                    protocol: Some(protocol),
                }),
                _ => {
                    out.push(format!("{host}: keepalived's `virtual_server {head}` balances IPv6 packets; import reads IPv4 services only, so it is left out"));
                    None
                }
            }
        }
        (Some(vip), Some(port)) if vip.parse::<IpAddr>().is_ok() && port.parse::<u16>().is_ok() => {
            Some(Head {
                vip: vip.parse().ok()?,
                ports: vec![port.parse().ok()?],
                fwmark: None,
                protocol: None,
            })
        }
        _ => {
            out.push(format!(
                "{host}: keepalived's `virtual_server {head}` is neither a VIP and a port nor a firewall mark (a group); import cannot read it, so it is left out"
            ));
            None
        }
    }
}

/// keepalived's check of a virtual server's real servers, as the inventory's health check.
/// `port`: the service's (a mark's first port), where a check without `connect_port` connects.
fn health_check(
    host: &str,
    vs: &VirtualServer,
    port: u16,
    c: &Check,
    out: &mut Vec<String>,
) -> RawHealthCheck {
    let kind = match c.kind.as_str() {
        "HTTP_GET" => "http",
        "TCP_CHECK" => "tcp",
        "UDP_CHECK" => "udp",
        "DNS_CHECK" => "dns",
        other => {
            out.push(format!(
                "{host}: virtual_server {} checks its real servers with {other}; lvsprov knows tcp, http, udp and dns checks, so a tcp check is written instead",
                vs.head.join(" ")
            ));
            "tcp"
        }
    };
    let d = RawHealthCheck::default();
    let (http, dns) = (kind == "http", kind == "dns");
    let service_port = Some(port);
    RawHealthCheck {
        kind: Some(kind.into()),
        connect_timeout: c.connect_timeout.unwrap_or(d.connect_timeout),
        retry: c.retry.unwrap_or(d.retry),
        delay_loop: vs.delay_loop.unwrap_or(d.delay_loop),
        // What lvsprov would render anyway is left out.
        path: c.path.clone().filter(|p| http && p != "/"),
        status: c.status.filter(|s| http && *s != 200),
        host: c.host.clone().filter(|_| http),
        // keepalived's own defaults, written out: lvsprov's differ (it asks for A, and wants a name).
        name: dns.then(|| c.name.clone().unwrap_or_else(|| ".".into())),
        query_type: dns.then(|| {
            c.query_type
                .as_deref()
                .unwrap_or("SOA")
                .to_ascii_uppercase()
        }),
        port: c.port.filter(|p| Some(*p) != service_port),
        through_vip: false,
    }
}
