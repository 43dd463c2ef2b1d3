//! `lvsprov import`: a running LVS-DR cluster, read from its hosts' facts, written as an
//! inventory. Pure: facts in, inventory JSON and the list of what could not be mapped out; the
//! command (`commands::import`) does the reading and the writing. Whatever a hand-built cluster
//! has that an inventory cannot say is named with the reason, never silently dropped, because
//! `up` converges the cluster to the inventory: a real server left out would be taken out of
//! the IPVS table.

use crate::facts::{Facts, Init, Ipvs};
use crate::inventory::{valid_hostname, Role};
use crate::ipvs::{Key, Method, Proto, Table};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};

pub mod keepalived_conf;

/// What the facts of an import ask each host for, beside what every host reports.
pub const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";
pub const PAGE: &str = "/var/www/html/index.html";

/// One host as read: the SSH target it was given as, and its facts.
pub struct Seen {
    pub target: String,
    pub facts: Facts,
}

#[derive(Default)]
pub struct Options {
    /// Roles forced on the command line, by target.
    pub forced: BTreeMap<String, Role>,
    /// The top-level `ssh` block, as the command line gave it.
    pub ssh: Map<String, Value>,
}

#[derive(Debug)]
pub struct Imported {
    pub inventory: Value,
    /// Each thing the inventory does not hold, with why and what to do.
    pub not_mapped: Vec<String>,
    /// keepalived's auth_pass was found: the inventory holds a secret.
    pub secret: bool,
}

/// A virtual service as the inventory holds it.
#[derive(Debug, Clone, PartialEq)]
struct Service {
    vip: Ipv4Addr,
    port: u16,
    protocol: &'static str,
    scheduler: String,
    persistence: Option<u32>,
    /// (real server address, weight)
    members: Vec<(Ipv4Addr, u32)>,
    health: Option<Value>,
}

impl Service {
    fn key(&self) -> String {
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
fn from_table(host: &str, table: &Table, out: &mut Vec<String>) -> Vec<Service> {
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
fn from_keepalived(
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
                let kind = match c.kind.as_str() {
                    "HTTP_GET" => "http",
                    "TCP_CHECK" => "tcp",
                    other => {
                        out.push(format!(
                            "{host}: virtual_server {head} checks its real servers with {other}; lvsprov knows tcp and http checks, so a tcp check is written instead"
                        ));
                        "tcp"
                    }
                };
                let mut h = json!({ "type": kind });
                if let Some(t) = c.connect_timeout {
                    h["connect_timeout"] = t.into();
                }
                if let Some(r) = c.retry {
                    h["retry"] = r.into();
                }
                if let Some(d) = vs.delay_loop {
                    h["delay_loop"] = d.into();
                }
                health = Some(h);
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
        });
    }
    services
}

/// What one host is, before names are settled.
struct Read<'a> {
    seen: &'a Seen,
    table: Vec<Service>,
    keepalived: Option<keepalived_conf::Keepalived>,
    /// Non-loopback addresses on `lo`: the VIPs a real server answers for.
    lo_vips: Vec<Ipv4Addr>,
}

pub fn inventory(hosts: &[Seen], opts: &Options) -> Imported {
    let mut out: Vec<String> = Vec::new();
    let reads: Vec<Read> = hosts
        .iter()
        .map(|s| {
            let f = &s.facts;
            let keepalived = f
                .files
                .get(KEEPALIVED_CONF)
                .map(|c| keepalived_conf::read(&c.content));
            let table = match (&keepalived, &f.ipvs) {
                (Some(k), _) if !k.virtual_servers.is_empty() => {
                    from_keepalived(&s.target, k, &mut out)
                }
                (_, Ipvs::Available(table)) => from_table(&s.target, table, &mut out),
                _ => vec![],
            };
            let lo_vips = f
                .addrs
                .iter()
                .filter(|a| a.dev == "lo" && !a.ip.is_loopback())
                .map(|a| a.ip)
                .collect();
            Read {
                seen: s,
                table,
                keepalived,
                lo_vips,
            }
        })
        .collect();

    let role_of = |r: &Read| -> Option<Role> {
        if let Some(role) = opts.forced.get(&r.seen.target) {
            return Some(*role);
        }
        let keepalived_vrrp = r.keepalived.as_ref().is_some_and(|k| !k.vrrp.is_empty());
        if !r.table.is_empty() || keepalived_vrrp {
            Some(Role::Director)
        } else if !r.lo_vips.is_empty() {
            Some(Role::RealServer)
        } else {
            None
        }
    };

    // The services: the first director's, compared with every other director's.
    let mut services: Vec<Service> = Vec::new();
    let mut from: Option<&str> = None;
    for r in reads.iter().filter(|r| role_of(r) == Some(Role::Director)) {
        if r.table.is_empty() {
            continue;
        }
        match from {
            None => {
                services = r.table.clone();
                from = Some(&r.seen.target);
            }
            Some(first) => {
                let keys = |s: &[Service]| -> BTreeSet<String> {
                    s.iter()
                        .map(|s| format!("{} {:?}", s.key(), s.members))
                        .collect()
                };
                if keys(&services) != keys(&r.table) {
                    out.push(format!(
                        "{}: its IPVS services differ from {first}'s; the inventory holds {first}'s, and `up` would make {} the same",
                        r.seen.target, r.seen.target
                    ));
                }
            }
        }
    }
    let vips: BTreeSet<Ipv4Addr> = services.iter().map(|s| s.vip).collect();

    // Each host's LVS address: the target itself when it is one of its addresses, else the first
    // global address that is not a VIP.
    let address = |r: &Read| -> Option<(Ipv4Addr, u8)> {
        let mine: Vec<_> = r
            .seen
            .facts
            .addrs
            .iter()
            .filter(|a| a.dev != "lo" && !vips.contains(&a.ip) && !a.ip.is_loopback())
            .collect();
        let target: Option<Ipv4Addr> = r.seen.target.parse().ok();
        mine.iter()
            .find(|a| Some(a.ip) == target)
            .or_else(|| {
                // On the VIP's subnet, where the cluster talks.
                mine.iter().find(|a| {
                    vips.iter().any(|v| {
                        ipnet::Ipv4Net::new(a.ip, a.prefix).is_ok_and(|n| n.trunc().contains(v))
                    })
                })
            })
            .or(mine.first())
            .map(|a| (a.ip, a.prefix))
    };

    // Names: the host's own, when it is a valid and unique inventory name.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for r in &reads {
        let own = r
            .seen
            .facts
            .hostname
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let name = [own, r.seen.target.replace('.', "-")]
            .into_iter()
            .find(|n| valid_hostname(n) && n != "localhost" && !taken.contains(n))
            .unwrap_or_else(|| format!("host{}", names.len() + 1));
        taken.insert(name.clone());
        names.insert(r.seen.target.clone(), name);
    }

    let mut directors = Vec::new();
    let mut real_servers = Vec::new();
    let mut by_address: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    let mut network: Option<ipnet::Ipv4Net> = None;
    let mut keepalived: Option<Value> = None;
    let mut secret = false;
    for r in &reads {
        let target = &r.seen.target;
        let name = names[target].clone();
        let Some(role) = role_of(r) else {
            out.push(format!(
                "{target}: neither a director (no IPVS service, no keepalived.conf) nor a real server (no VIP on lo); it is left out; force a role with --director {target} or --real-server {target}"
            ));
            continue;
        };
        let Some((ip, prefix)) = address(r) else {
            out.push(format!(
                "{target}: no IPv4 address besides the VIPs; it is left out"
            ));
            continue;
        };
        by_address.insert(ip, name.clone());
        let mut host = json!({ "name": name, "address": ip.to_string() });
        if r.seen.target != ip.to_string() {
            host["ssh"] = json!({ "host": target });
        }
        if r.seen.facts.boot.init == Init::None {
            // A container: nothing runs at boot for lvsprov to hook into.
            host["persist"] = false.into();
        }
        match role {
            Role::Director => {
                if role == Role::Director && network.is_none() {
                    network = ipnet::Ipv4Net::new(ip, prefix).ok().map(|n| n.trunc());
                }
                if let Some(k) = &r.keepalived {
                    if k.vrrp.len() > 1 {
                        out.push(format!(
                            "{target}: keepalived.conf has {} vrrp_instances; the inventory holds the first ({}) only",
                            k.vrrp.len(),
                            k.vrrp[0].name
                        ));
                    }
                    if let Some(v) = k.vrrp.first() {
                        if let Some(p) = v.priority {
                            host["priority"] = p.into();
                        }
                        if keepalived.is_none() {
                            let mut block = json!({});
                            match v.virtual_router_id {
                                Some(id) => block["virtual_router_id"] = id.into(),
                                None => out.push(format!("{target}: vrrp_instance {} has no virtual_router_id; set one in the inventory", v.name)),
                            }
                            match &v.auth_pass {
                                Some(p) => {
                                    block["auth_pass"] = p.as_str().into();
                                    secret = true;
                                }
                                None => out.push(format!("{target}: vrrp_instance {} has no PASS authentication; lvsprov's keepalived uses one: set `keepalived.auth_pass` in the inventory (up to 8 characters, the same on every director)", v.name)),
                            }
                            if let Some(a) = v.advert_int {
                                block["advert_int"] = a.into();
                            }
                            if let Some(i) = &k.sync_interface {
                                let mut sync = json!({ "enabled": true });
                                if v.interface.as_ref() != Some(i) {
                                    sync["interface"] = i.as_str().into();
                                }
                                if let Some(id) =
                                    k.sync_id.filter(|id| Some(*id) != v.virtual_router_id)
                                {
                                    sync["id"] = id.into();
                                }
                                block["sync"] = sync;
                            }
                            keepalived = Some(block);
                        }
                    }
                }
                directors.push(host);
            }
            Role::RealServer => {
                match r.seen.facts.files.get(PAGE) {
                    // lvsprov's page template ends the page with a newline of its own.
                    Some(p) => {
                        let page = p.content.strip_suffix('\n').unwrap_or(&p.content);
                        host["page"] = page.into();
                    }
                    None => out.push(format!(
                        "{target}: no {PAGE}; the inventory gives it lvsprov's default page: set `page` for {name} if it serves another"
                    )),
                }
                real_servers.push(host);
            }
        }
    }

    let mut svc_json = Vec::new();
    for s in &services {
        let mut members = Vec::new();
        for (rip, weight) in &s.members {
            match by_address.get(rip) {
                Some(name) => members.push(json!({ "name": name, "weight": weight })),
                None => out.push(format!(
                    "{}:{}: real server {rip} was not among the hosts read; it is left out, and `up` would take it out of the IPVS table: give its address to import too",
                    s.vip, s.port
                )),
            }
        }
        let mut v = json!({
            "vip": s.vip.to_string(),
            "port": s.port,
            "protocol": s.protocol,
            "scheduler": s.scheduler,
            "real_servers": members,
        });
        if let Some(p) = s.persistence {
            v["persistence_timeout"] = p.into();
        }
        if let Some(h) = &s.health {
            v["health_check"] = h.clone();
        }
        svc_json.push(v);
    }
    if directors.len() > 1 && keepalived.is_none() {
        out.push(format!(
            "{} directors and no keepalived.conf on any: without VRRP each would claim the VIP; add a `keepalived` block (virtual_router_id, auth_pass) to the inventory",
            directors.len()
        ));
    }

    let mut inv = Map::new();
    inv.insert(
        "network".into(),
        network.map(|n| n.to_string()).unwrap_or_default().into(),
    );
    if network.is_none() {
        out.push("no director was found, so the network is unknown: set `network` (the VIP's subnet, e.g. \"192.168.100.0/24\")".into());
    }
    if !opts.ssh.is_empty() {
        inv.insert("ssh".into(), Value::Object(opts.ssh.clone()));
    }
    if let Some(k) = keepalived {
        inv.insert("keepalived".into(), k);
    }
    inv.insert("directors".into(), directors.into());
    inv.insert("real_servers".into(), real_servers.into());
    inv.insert("services".into(), svc_json.into());
    Imported {
        inventory: Value::Object(inv),
        not_mapped: out,
        secret,
    }
}
