//! The services an imported director runs, from its live IPVS table or its keepalived.conf, as far
//! as an inventory can hold them; the rest is named with the reason.

use super::keepalived_conf::{self, Check, VirtualServer};
use crate::inventory::raw::RawHealthCheck;
use crate::ipvs::{Key, Method, Proto, Table};
use std::net::{Ipv4Addr, SocketAddr};

/// A virtual service as the inventory holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Service {
    pub vip: Ipv4Addr,
    pub port: u16,
    pub protocol: &'static str,
    pub scheduler: String,
    pub persistence: Option<u32>,
    /// (real server address, weight)
    pub members: Vec<(Ipv4Addr, u32)>,
    pub health: Option<RawHealthCheck>,
    /// keepalived's fallbacks: the sorry server's address, `quorum`, `inhibit_on_failure`.
    pub sorry: Option<Ipv4Addr>,
    pub quorum: Option<u32>,
    pub inhibit: bool,
}

impl Service {
    pub fn key(&self) -> String {
        format!("{}:{}/{}", self.vip, self.port, self.protocol)
    }
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Masq => "masquerading (NAT)",
        Method::Tunnel => "tunnelling (IPIP)",
        Method::Route => "direct routing",
    }
}

/// The services a director's live IPVS table holds.
pub(super) fn from_table(host: &str, table: &Table, out: &mut Vec<String>) -> Vec<Service> {
    let mut services: Vec<Service> = Vec::new();
    for t in &table.services {
        let (protocol, vip, port) = match t.key {
            Key::Addr(Proto::Tcp, SocketAddr::V4(a)) => ("tcp", *a.ip(), a.port()),
            Key::Addr(Proto::Udp, SocketAddr::V4(a)) => ("udp", *a.ip(), a.port()),
            key => {
                out.push(format!(
                    "{host}: IPVS service `{key}` is chosen by firewall mark, SCTP or an IPv6 address; an inventory holds IPv4 VIP:port services only, so it is left out and `up` would leave it alone only if it never touches it: keep this director out of lvsprov or define the service by VIP and port"
                ));
                continue;
            }
        };
        let mut svc = Service {
            vip,
            port,
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
            let (rip, rport) = (d.addr.ip(), d.addr.port());
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
            if let std::net::IpAddr::V4(rip) = rip {
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
    out: &mut Vec<String>,
) -> Vec<Service> {
    let mut services = Vec::new();
    for vs in &k.virtual_servers {
        let head = vs.head.join(" ");
        let (Some(Ok(vip)), Some(Ok(port))) = (
            vs.head.first().map(|v| v.parse::<Ipv4Addr>()),
            vs.head.get(1).map(|p| p.parse::<u16>()),
        ) else {
            out.push(format!(
                "{host}: keepalived's `virtual_server {head}` is not a VIP and a port (a firewall mark or a group); an inventory cannot hold it, so it is left out"
            ));
            continue;
        };
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
        let protocol = match vs
            .protocol
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("UDP") => "udp",
            _ => "tcp",
        };
        let mut members = Vec::new();
        let mut health = None;
        for r in &vs.real_servers {
            let Ok(rip) = r.ip.parse::<Ipv4Addr>() else {
                continue;
            };
            if r.port.is_some_and(|p| p != port) {
                out.push(format!(
                    "{host}: virtual_server {head} sends to {rip}:{}; direct routing cannot change the port, so this real server is left out",
                    r.port.unwrap_or_default()
                ));
                continue;
            }
            members.push((rip, r.weight.unwrap_or(1)));
            if let (None, Some(c)) = (&health, &r.check) {
                health = Some(health_check(host, vs, c, out));
            }
        }
        services.push(Service {
            vip,
            port,
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

/// keepalived's check of a virtual server's real servers, as the inventory's health check.
fn health_check(
    host: &str,
    vs: &VirtualServer,
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
    let service_port = vs.head.get(1).and_then(|p| p.parse::<u16>().ok());
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
