//! The services part of the inventory: VIPs, ports, protocols, schedulers, health checks and
//! the real servers each one balances over.

use super::raw::{RawHealthCheck, RawService};
use super::validate::Validator;
use super::{HealthCheck, HealthKind, Host, Member, Protocol, Role, Service, Vip};
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

impl Validator {
    pub(super) fn services(
        &mut self,
        raw: &[RawService],
        hosts: &[Host],
        network: Option<Ipv4Net>,
    ) -> Vec<Service> {
        let by_name: BTreeMap<&str, &Host> = hosts.iter().map(|h| (h.name.as_str(), h)).collect();
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        let marks = self.fwmarks(raw);
        for (i, s) in raw.iter().enumerate() {
            let at = format!("$.services[{i}]");
            let Some(vip) = self.vip(&at, &s.vip, hosts, network) else {
                continue;
            };
            let Some(ports) = self.ports(&at, s) else {
                continue;
            };
            for port in &ports {
                if let Some(j) = seen.insert((vip, *port, s.protocol.clone()), i) {
                    self.problem(
                        at.clone(),
                        format!("{vip}:{port} is already $.services[{j}]"),
                    );
                }
            }
            let protocol = self.parsed(format!("{at}.protocol"), &s.protocol);
            let scheduler = self.parsed(format!("{at}.scheduler"), &s.scheduler);
            let health_check =
                protocol.and_then(|p| self.health_check(&at, &s.health_check, p, ports[0]));
            if s.health_check.through_vip && s.protocol != "tcp" {
                self.problem(
                    format!("{at}.health_check.through_vip"),
                    "a check through the VIP is a TCP connection; leave it out on a UDP service",
                );
            }
            if vip.is_v6() {
                self.service6(&at, s, hosts);
            }
            let real_servers = self.members(&at, s, vip, &by_name);
            let fallbacks = self.fallbacks(&at, s, vip, &real_servers, &by_name);
            if let (Some(protocol), Some(scheduler), Some(health_check)) =
                (protocol, scheduler, health_check)
            {
                out.push(Service {
                    vip,
                    port: ports[0],
                    fwmark: marks[i],
                    ports,
                    protocol,
                    scheduler,
                    persistence_timeout: s.persistence_timeout,
                    health_check,
                    real_servers,
                    master: s.master.clone(),
                    fallbacks,
                    hash_port: false,
                });
            }
        }
        out
    }

    /// Each `master` names a director, needs keepalived with two or more directors, agrees with
    /// the other services on its VIP, and the instances' router ids stay within VRRP's 1..255.
    pub(super) fn masters(
        &mut self,
        raw: &[RawService],
        hosts: &[Host],
        keepalived: Option<&super::Keepalived>,
    ) {
        let directors: Vec<&str> = hosts
            .iter()
            .filter(|h| h.role() == Role::Director)
            .map(|h| h.name.as_str())
            .collect();
        let mut by_vip: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        let mut masters: Vec<&str> = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let Some(m) = s.master.as_deref() else {
                continue;
            };
            let at = format!("$.services[{i}].master");
            if !directors.contains(&m) {
                self.problem(
                    at,
                    format!(
                        "{m:?} is not a director; name one of: {}",
                        directors.join(", ")
                    ),
                );
                continue;
            }
            if keepalived.is_none() || directors.len() < 2 {
                self.problem(at, "a master only means something with keepalived and two or more directors; remove it");
                continue;
            }
            match by_vip.get(s.vip.as_str()) {
                Some((j, other)) if *other != m => self.problem(
                    at,
                    format!("$.services[{j}] on the same VIP names {other}; a VIP moves as one, so give them the same master"),
                ),
                _ => {
                    by_vip.insert(&s.vip, (i, m));
                }
            }
            if !masters.contains(&m) {
                masters.push(m);
            }
        }
        // The instances: one per master, the highest priority's for VIPs that name none.
        let top = hosts
            .iter()
            .filter(|h| h.role() == Role::Director)
            .max_by_key(|h| h.priority())
            .map(|h| h.name.as_str());
        let unnamed = raw.iter().any(|s| !by_vip.contains_key(s.vip.as_str()));
        if let Some(t) = top.filter(|t| unnamed && !masters.contains(t)) {
            masters.push(t);
        }
        if let Some(k) = keepalived.filter(|_| masters.len() > 1) {
            let last = u16::from(k.virtual_router_id) + masters.len() as u16 - 1;
            if last > 255 {
                self.problem(
                    "$.keepalived.virtual_router_id",
                    format!("each master's VRRP instance takes the next id after it (up to {last}); VRRP ids end at 255, so use {} or less", 256 - masters.len()),
                );
            }
        }
    }

    fn parsed<T: std::str::FromStr<Err = String>>(&mut self, at: String, text: &str) -> Option<T> {
        text.parse().map_err(|e| self.problem(at, e)).ok()
    }

    fn vip(
        &mut self,
        at: &str,
        text: &str,
        hosts: &[Host],
        network: Option<Ipv4Net>,
    ) -> Option<Vip> {
        let vip = match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => v4,
            Ok(IpAddr::V6(v6)) => return Some(self.vip6(at, v6, hosts)),
            Err(_) => {
                self.problem(
                    format!("{at}.vip"),
                    format!("{text:?} is not an IP address, e.g. \"192.168.100.10\" (or an IPv6 one in $.network6)"),
                );
                return None;
            }
        };
        if let Some(h) = hosts.iter().find(|h| h.address == vip) {
            self.problem(
                format!("{at}.vip"),
                format!(
                    "{vip} is the address of {}; the VIP must be a free address",
                    h.name
                ),
            );
        }
        if let Some(net) = network.filter(|n| !n.contains(&vip)) {
            self.problem(
                format!("{at}.vip"),
                format!(
                    "{vip} is outside $.network {net}; DR needs the VIP on the directors' segment"
                ),
            );
        }
        Some(Vip(IpAddr::V4(vip)))
    }

    /// The check as keepalived will run it; a UDP service is checked over UDP unless told.
    fn health_check(
        &mut self,
        at: &str,
        h: &RawHealthCheck,
        protocol: Protocol,
        port: u16,
    ) -> Option<HealthCheck> {
        let at = format!("{at}.health_check");
        let kind = match &h.kind {
            Some(k) => self.parsed(format!("{at}.type"), k)?,
            None => match (protocol, port) {
                (Protocol::Tcp, _) => HealthKind::Tcp,
                (Protocol::Udp, 53) => HealthKind::Dns,
                (Protocol::Udp, _) => HealthKind::Udp,
            },
        };
        if kind.is_udp() && protocol == Protocol::Tcp {
            self.problem(
                format!("{at}.type"),
                "a UDP check on a TCP service never passes; use \"tcp\" or \"http\"",
            );
        }
        let path = h.path.clone().unwrap_or_else(|| "/".into());
        if !path.starts_with('/') || !word(&path) {
            self.problem(format!("{at}.path"), format!("{path:?} is not a URL path; use one such as \"/health\" (no spaces, quotes or braces)"));
        }
        if let Some(host) = h.host.as_ref().filter(|h| !word(h)) {
            self.problem(
                format!("{at}.host"),
                format!(
                    "{host:?} is not a host name for the Host header, e.g. \"www.example.com\""
                ),
            );
        }
        let status = h.status.unwrap_or(200);
        if !(100..=599).contains(&status) {
            self.problem(
                format!("{at}.status"),
                format!("{status} is not an HTTP status; use 100..599, e.g. 200"),
            );
        }
        if h.port == Some(0) {
            self.problem(
                format!("{at}.port"),
                "0 is not a port; use 1..65535, or leave it out for the service's",
            );
        }
        self.fields_of_other_kinds(&at, h, kind);
        let query_type = h.query_type.clone().unwrap_or_else(|| "A".into());
        if kind == HealthKind::Dns {
            self.dns_query(&at, h.name.as_deref(), &query_type);
        }
        Some(HealthCheck {
            kind,
            connect_timeout: h.connect_timeout,
            delay_loop: h.delay_loop,
            retry: h.retry,
            path,
            status,
            host: h.host.clone(),
            name: h.name.clone(),
            query_type,
            port: h.port,
            through_vip: h.through_vip,
        })
    }

    /// A field that only another kind of check reads is a mistake, not a wish to ignore.
    fn fields_of_other_kinds(&mut self, at: &str, h: &RawHealthCheck, kind: HealthKind) {
        let fields = [
            ("path", h.path.is_some(), HealthKind::Http),
            ("status", h.status.is_some(), HealthKind::Http),
            ("host", h.host.is_some(), HealthKind::Http),
            ("name", h.name.is_some(), HealthKind::Dns),
            ("query_type", h.query_type.is_some(), HealthKind::Dns),
        ];
        for (field, _, of) in fields.iter().filter(|(_, set, of)| *set && *of != kind) {
            let of = serde_json::to_value(of).expect("a kind serialises");
            self.problem(
                format!("{at}.{field}"),
                format!(
                    "only a {} check reads it; use \"type\": {of} or leave it out",
                    of.as_str().unwrap_or_default()
                ),
            );
        }
    }

    fn dns_query(&mut self, at: &str, name: Option<&str>, query_type: &str) {
        let Some(name) = name else {
            self.problem(
                format!("{at}.name"),
                "a DNS check asks for a name and passes on a NOERROR answer; give one your DNS servers answer, e.g. \"name\": \"example.com\"",
            );
            return;
        };
        let label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let trimmed = name.strip_suffix('.').unwrap_or(name);
        if name != "." && (name.len() > 253 || !trimmed.split('.').all(label)) {
            self.problem(
                format!("{at}.name"),
                format!("{name:?} is not a DNS name; use one such as \"example.com\""),
            );
        }
        if !super::raw::QUERY_TYPES.contains(&query_type) {
            self.problem(
                format!("{at}.query_type"),
                format!(
                    "{query_type:?} is not a record type keepalived asks for; use one of {}",
                    super::raw::QUERY_TYPES.join(", ")
                ),
            );
        }
    }

    fn members(
        &mut self,
        at: &str,
        s: &RawService,
        vip: Vip,
        by_name: &BTreeMap<&str, &Host>,
    ) -> Vec<Member> {
        if s.real_servers.is_empty() {
            self.problem(
                format!("{at}.real_servers"),
                "empty; list the real servers that serve this VIP",
            );
        }
        let mut out = Vec::new();
        for (j, m) in s.real_servers.iter().enumerate() {
            let mat = format!("{at}.real_servers[{j}]");
            match by_name.get(m.name.as_str()) {
                Some(h) if h.role() == Role::RealServer => {
                    self.served(&format!("{mat}.name"), s, h);
                    out.push(Member {
                        name: m.name.clone(),
                        address: self.member_address(&format!("{mat}.name"), h, vip),
                        weight: m.weight,
                    })
                }
                Some(_) => self.problem(
                    format!("{mat}.name"),
                    format!("{} is a director; list real servers here", m.name),
                ),
                None => self.problem(
                    format!("{mat}.name"),
                    format!(
                        "{:?} is not in $.real_servers; add it there or fix the name",
                        m.name
                    ),
                ),
            }
            if m.weight > 65535 {
                self.problem(
                    format!("{mat}.weight"),
                    format!("{} is out of range; IPVS weights are 0..65535", m.weight),
                );
            }
        }
        out
    }

    /// A TCP service on a real server whose web server lvsprov runs must be on the port that web
    /// server listens on (80), or the directors' checks never pass and no request is served.
    /// The managed web server listens on every TCP port of its services (lvsprov adds a Listen
    /// for each); 443 is the one it cannot take: mod_ssl's own `Listen 443` is there already.
    pub(super) fn served(&mut self, at: &str, s: &RawService, h: &Host) {
        let ports = s.port.into_iter().chain(s.ports.iter().flatten().copied());
        if h.manages_web_server()
            && s.protocol == "tcp"
            && ports.into_iter().any(|p| p == HTTPS_PORT)
        {
            self.problem(
                at.to_string(),
                format!(
                    "{}'s web server (installed by lvsprov) serves plain HTTP, and port 443 is mod_ssl's; give {} \"web_server\": false when your own backend serves HTTPS on 443",
                    h.name, h.name
                ),
            );
        }
    }
}

const HTTPS_PORT: u16 = 443;

/// The port the web server lvsprov installs (apache2, httpd) listens on as packaged (lvsprov adds
/// a Listen for each other port of its services); `import` reads a service on any other port as
/// served by the real servers' own backend, which it cannot tell from apache's.
pub const WEB_PORT: u16 = 80;

/// keepalived.conf takes these as bare words: a space or a brace would end the keyword.
fn word(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "{}\"'#!".contains(c))
}
