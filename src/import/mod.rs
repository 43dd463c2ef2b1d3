//! `lvsprov import`: a running LVS-DR cluster, read from its hosts' facts, written as an
//! inventory. Pure: facts in, inventory JSON and the list of what could not be mapped out; the
//! command (`commands::import`) does the reading and the writing. Whatever a hand-built cluster
//! has that an inventory cannot say is named with the reason, never silently dropped, because
//! `up` converges the cluster to the inventory: a real server left out would be taken out of
//! the IPVS table.

use crate::facts::{Facts, Init, Ipvs};
use crate::inventory::raw::{RawHost, RawInventory, RawKeepalived, RawService, RawSsh, RawSync};
use crate::inventory::Role;
use serde_json::{Map, Value};
use services::{from_keepalived, from_table, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

mod addresses;
mod ecmp;
mod hooks;
pub mod keepalived_conf;
mod masters;
mod services;
mod write_services;

use addresses::{address, address6, names};
pub use ecmp::BIRD_CONF;
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

/// What one host is, before names are settled.
struct Read<'a> {
    seen: &'a Seen,
    table: Vec<Service>,
    keepalived: Option<keepalived_conf::Keepalived>,
    /// Non-loopback addresses on `lo`: the VIPs a real server answers for.
    lo_vips: Vec<IpAddr>,
}

pub fn inventory(hosts: &[Seen], opts: &Options) -> Imported {
    let mut out: Vec<String> = Vec::new();
    let reads: Vec<Read> = hosts.iter().map(|s| read(s, &mut out)).collect();
    let roles: Vec<Option<Role>> = reads.iter().map(|r| role_of(r, opts)).collect();
    let services = agreed_services(&reads, &roles, &mut out);
    let vips: BTreeSet<IpAddr> = services.iter().map(|s| s.vip).collect();
    let names = names(&reads);
    let mut b = Builder {
        out,
        ..Builder::default()
    };
    for (r, role) in reads.iter().zip(&roles) {
        b.host(r, *role, &names[&r.seen.target], &vips);
    }
    b.masters = masters::of(&b.held);
    let services: Vec<RawService> = services.iter().map(|s| b.service(s)).collect();
    b.finish(services, opts)
}

fn read<'a>(s: &'a Seen, out: &mut Vec<String>) -> Read<'a> {
    let f = &s.facts;
    let keepalived = f.files.get(KEEPALIVED_CONF).map(|c| {
        let mut k = keepalived_conf::read(&c.content);
        if k.sync_interface.is_none() {
            (k.sync_interface, k.sync_id) = own_sync(&f.sync_daemons);
        }
        k
    });
    let table = match (&keepalived, &f.ipvs) {
        (Some(k), _) if !k.virtual_servers.is_empty() => {
            from_keepalived(&s.target, k, &f.marks, out)
        }
        (_, Ipvs::Available(table)) => from_table(&s.target, table, &f.marks, out),
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
}

/// Sync run apart from keepalived (as lvsprov runs it): both daemons with the same interface and
/// id, from `ipvsadm -L --daemon`'s `mcast=eth0, syncid=51`.
fn own_sync(daemons: &BTreeMap<String, String>) -> (Option<String>, Option<u16>) {
    let (Some(m), Some(b)) = (daemons.get("master"), daemons.get("backup")) else {
        return (None, None);
    };
    let field = |k: &str| {
        m.split(", ")
            .find_map(|w| w.strip_prefix(k))
            .map(str::to_string)
    };
    if m != b {
        return (None, None);
    }
    (
        field("mcast="),
        field("syncid=").and_then(|i| i.parse().ok()),
    )
}

fn role_of(r: &Read, opts: &Options) -> Option<Role> {
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
}

/// The services: the first director's, compared with every other director's.
fn agreed_services(reads: &[Read], roles: &[Option<Role>], out: &mut Vec<String>) -> Vec<Service> {
    let keys = |s: &[Service]| -> BTreeSet<String> {
        s.iter()
            .map(|s| format!("{} {:?}", s.key(), s.members))
            .collect()
    };
    let mut first: Option<&Read> = None;
    for (r, _) in reads
        .iter()
        .zip(roles)
        .filter(|(r, role)| **role == Some(Role::Director) && !r.table.is_empty())
    {
        match first {
            None => first = Some(r),
            Some(f) if keys(&f.table) != keys(&r.table) => out.push(format!(
                "{}: its IPVS services differ from {}'s; the inventory holds {}'s, and `up` would make {} the same",
                r.seen.target, f.seen.target, f.seen.target, r.seen.target
            )),
            Some(_) => {}
        }
    }
    first.map(|f| f.table.clone()).unwrap_or_default()
}

/// The inventory as it is put together, host by host, in the inventory's own types.
#[derive(Default)]
struct Builder {
    out: Vec<String>,
    directors: Vec<RawHost>,
    real_servers: Vec<RawHost>,
    by_address: BTreeMap<IpAddr, String>,
    network: Option<ipnet::Ipv4Net>,
    network6: Option<ipnet::Ipv6Net>,
    keepalived: Option<RawKeepalived>,
    /// From the first director with BGP sessions in its bird.conf ([`ecmp`]).
    ecmp: Option<crate::inventory::RawEcmp>,
    secret: bool,
    /// Each director's VRRP instances, and the VIPs whose instance another director tops.
    held: Vec<masters::Held>,
    masters: BTreeMap<IpAddr, String>,
}

impl Builder {
    fn host(&mut self, r: &Read, role: Option<Role>, name: &str, vips: &BTreeSet<IpAddr>) {
        let target = &r.seen.target;
        let Some(role) = role else {
            self.out.push(format!(
                "{target}: neither a director (no IPVS service, no keepalived.conf) nor a real server (no VIP on lo); it is left out; force a role with --director {target} or --real-server {target}"
            ));
            return;
        };
        let Some((ip, prefix)) = address(r, vips) else {
            self.out.push(format!(
                "{target}: no IPv4 address besides the VIPs; it is left out"
            ));
            return;
        };
        self.by_address.insert(ip.into(), name.to_string());
        let v6 = address6(r, vips);
        if let Some((ip6, prefix6)) = v6 {
            self.by_address.insert(ip6.into(), name.to_string());
            if self.network6.is_none() {
                self.network6 = ipnet::Ipv6Net::new(ip6, prefix6).ok().map(|n| n.trunc());
            }
        }
        let mut host = RawHost {
            name: name.to_string(),
            address: ip.to_string(),
            address6: v6.map(|(a, _)| a.to_string()),
            nic: None,
            priority: None,
            page: None,
            web_server: None,
            // A container: nothing runs at boot for lvsprov to hook into.
            persist: (r.seen.facts.boot.init == Init::None).then_some(false),
            ssh: RawSsh {
                host: (*target != ip.to_string()).then(|| target.clone()),
                ..RawSsh::default()
            },
        };
        match role {
            Role::Director => {
                if self.network.is_none() {
                    self.network = ipnet::Ipv4Net::new(ip, prefix).ok().map(|n| n.trunc());
                }
                if let Some(k) = &r.keepalived {
                    host.priority = self.vrrp(target, name, k);
                }
                if let Some(bird) = r.seen.facts.files.get(BIRD_CONF) {
                    self.bgp(target, &bird.content);
                }
                self.directors.push(host);
            }
            Role::RealServer => {
                match r.seen.facts.files.get(PAGE) {
                    // lvsprov's page template ends the page with a newline of its own.
                    Some(p) => host.page = Some(p.content.strip_suffix('\n').unwrap_or(&p.content).into()),
                    None => self.out.push(format!(
                        "{target}: no {PAGE}; the inventory has no `page` for {name}, so lvsprov leaves its index page alone: set `page` to have lvsprov write one"
                    )),
                }
                self.real_servers.push(host);
            }
        }
    }

    /// The first vrrp_instance of a director's keepalived.conf: its priority, and the
    /// inventory's `keepalived` block from the first director that has one. Every instance is
    /// kept for the masters per VIP ([`masters`]).
    fn vrrp(&mut self, target: &str, name: &str, k: &keepalived_conf::Keepalived) -> Option<u16> {
        if !k.vrrp.is_empty() {
            self.held.push(masters::Held {
                director: name.to_string(),
                instances: k.vrrp.clone(),
            });
        }
        let v = k.vrrp.first()?;
        if self.keepalived.is_none() {
            if v.virtual_router_id.is_none() {
                self.out.push(format!(
                    "{target}: vrrp_instance {} has no virtual_router_id; set one in the inventory",
                    v.name
                ));
            }
            // A fraction of a second between adverts is VRRPv3, which has no authentication.
            let v3 = v
                .advert_int
                .as_ref()
                .and_then(|n| n.as_f64())
                .is_some_and(|s| s.fract() != 0.0);
            if v.auth_pass.is_none() && !v3 {
                self.out.push(format!("{target}: vrrp_instance {} has no PASS authentication; lvsprov's keepalived uses one: set `keepalived.auth_pass` in the inventory (up to 8 characters, the same on every director)", v.name));
            }
            self.secret |= v.auth_pass.is_some();
            let sync = k.sync_interface.as_ref().map(|i| RawSync {
                enabled: Some(true),
                interface: (v.interface.as_ref() != Some(i)).then(|| i.clone()),
                id: k.sync_id.filter(|id| Some(*id) != v.virtual_router_id),
            });
            self.keepalived = Some(RawKeepalived {
                virtual_router_id: v.virtual_router_id,
                auth_pass: v.auth_pass.clone(),
                advert_int: v.advert_int.clone().unwrap_or_else(|| 1.into()),
                // Multicast stays multicast: importing must not change how the directors talk.
                unicast: (!v.unicast).then_some(false),
                sync: sync.unwrap_or_default(),
                track_scripts: hooks::track_scripts(k, v, &mut self.out),
                track_interfaces: hooks::track_interfaces(v, &mut self.out),
                notify: hooks::notify(v, &mut self.out),
                preempt_delay: hooks::preempt_delay(v, &mut self.out),
            });
        }
        v.priority
    }

    fn finish(mut self, services: Vec<RawService>, opts: &Options) -> Imported {
        if self.directors.len() > 1 && self.keepalived.is_none() && self.ecmp.is_none() {
            self.out.push(format!(
                "{} directors and no keepalived.conf on any: without VRRP each would claim the VIP; add a `keepalived` block (virtual_router_id, auth_pass) to the inventory",
                self.directors.len()
            ));
        }
        if self.network.is_none() {
            self.out.push("no director was found, so the network is unknown: set `network` (the VIP's subnet, e.g. \"192.168.100.0/24\")".into());
        }
        let ssh = match serde_json::from_value(Value::Object(opts.ssh.clone())) {
            Ok(ssh) => ssh,
            Err(e) => {
                self.out.push(format!(
                    "the ssh options given ({e}) are not an inventory's `ssh`; they are left out"
                ));
                RawSsh::default()
            }
        };
        let inv = RawInventory {
            schema: None,
            network: self.network.map(|n| n.to_string()).unwrap_or_default(),
            network6: self.network6.map(|n| n.to_string()),
            ssh,
            keepalived: self.keepalived,
            ecmp: self.ecmp,
            persist: None,
            ipvs: Default::default(),
            directors: self.directors,
            real_servers: self.real_servers,
            services,
        };
        let inventory = serde_json::to_value(&inv).expect("an inventory serialises");
        if let Ok(parsed) = crate::inventory::parse(&inventory.to_string()) {
            self.out.extend(masters::renumbered(&self.held, &parsed));
        }
        Imported {
            inventory,
            not_mapped: self.out,
            secret: self.secret,
        }
    }
}
