//! The inventory: JSON in, typed and validated cluster out. Nothing here touches the network: every
//! mistake is found before the first SSH connection, reported with its JSON path and the fix.

use ipnet::Ipv4Net;
use serde::Serialize;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

mod ecmp;
mod limit;
pub mod raw;
mod raw_keepalived;
mod service;
mod types;
mod validate;
mod validate_cluster;
mod validate_fallbacks;
mod validate_ipv6;
mod validate_ports;
mod validate_services;
pub use validate_services::WEB_PORT;
mod vrrp;
mod vrrp_hooks;
mod words;

pub use ecmp::{Ecmp, RawEcmp, RawRouter, Router};
pub use service::{Fallbacks, Member, Service};
pub use types::{AdvertInt, HealthCheck, HealthKind, Protocol, Scheduler, Vip};
pub use validate::{expand, parse_jump, valid_hostname, valid_ifname};
pub use vrrp::VrrpInstance;
pub use vrrp_hooks::{Command, Notify, TrackScript, VrrpHooks};

/// One mistake in the inventory: where it is and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found, so one edit can fix them all.
#[derive(Debug)]
pub struct Invalid {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid inventory {}:", self.file)?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        write!(f, "nothing was contacted; fix the inventory and run again")
    }
}

impl std::error::Error for Invalid {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Director,
    RealServer,
}

impl Role {
    /// As in reports: `director`, `real_server`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::RealServer => "real_server",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Role::Director => "directors",
            Role::RealServer => "real_servers",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SshTarget {
    /// Where SSH connects: `ssh.host`, else the host's LVS address; known_hosts is keyed by it.
    pub host: String,
    /// Bastions, outermost first (empty: direct).
    pub jump: Vec<Hop>,
    pub user: String,
    pub port: u16,
    /// Offered in order; empty: the agent's keys, then the default `~/.ssh/id_*`.
    pub identity_files: Vec<PathBuf>,
    pub known_hosts: PathBuf,
    /// Run remote scripts through `sudo -n` (for a non-root user).
    pub sudo: bool,
    /// Learn this host's unknown key (ssh_config's `StrictHostKeyChecking accept-new`).
    pub accept_new: bool,
    /// ssh_config's ConnectTimeout and ServerAliveInterval for this host.
    pub connect_timeout: Option<std::time::Duration>,
    pub keepalive: Option<std::time::Duration>,
    /// Which fields the inventory itself set: those win over ssh_config.
    pub explicit: Explicit,
}

/// The `ssh` fields an inventory gave (at the host or the top level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Explicit {
    pub user: bool,
    pub port: bool,
    pub identity_file: bool,
    pub known_hosts: bool,
    pub jump: bool,
    pub sudo: bool,
}

/// One bastion on the way to a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Hop {
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

/// What only one role has: a director's VRRP priority, a real server's page and web server.
#[derive(Debug, Clone, PartialEq)]
pub enum Duty {
    Director {
        priority: Option<u8>,
    },
    RealServer {
        page: Option<String>,
        /// lvsprov installs and runs the platform's web server (false: the operator's backend).
        web_server: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub address: Ipv4Addr,
    /// Its IPv6 address on the segment, for IPv6 VIPs.
    pub address6: Option<std::net::Ipv6Addr>,
    /// None: the NIC whose subnet holds the VIP, found in the host's facts.
    pub nic: Option<String>,
    /// Set up what `up` changes to come back at boot (false: live state only).
    pub persist: bool,
    pub duty: Duty,
    pub ssh: SshTarget,
}

impl Host {
    pub fn role(&self) -> Role {
        match self.duty {
            Duty::Director { .. } => Role::Director,
            Duty::RealServer { .. } => Role::RealServer,
        }
    }

    pub fn priority(&self) -> Option<u8> {
        match self.duty {
            Duty::Director { priority } => priority,
            Duty::RealServer { .. } => None,
        }
    }

    pub fn page(&self) -> Option<&str> {
        match &self.duty {
            Duty::RealServer { page, .. } => page.as_deref(),
            Duty::Director { .. } => None,
        }
    }

    /// A real server whose web server lvsprov installs and runs.
    pub fn manages_web_server(&self) -> bool {
        matches!(
            self.duty,
            Duty::RealServer {
                web_server: true,
                ..
            }
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Keepalived {
    pub virtual_router_id: u8,
    /// Never printed: templates render it twice, once masked, and diffs show the masked one.
    /// Empty with VRRPv3, which has no authentication.
    pub auth_pass: String,
    pub advert_int: AdvertInt,
    /// 2, or 3 for a fractional `advert_int` (sub-second failover).
    pub vrrp_version: u8,
    /// Adverts go to each other director's address (`unicast_peer`), not to 224.0.0.18: clouds,
    /// switches and host firewalls drop multicast, and then every director claims the VIP.
    pub unicast: bool,
    /// The IPVS sync daemon between the directors, so the backup knows the master's connections
    /// and they survive a failover. None with one director or when turned off.
    pub sync: Option<Sync>,
    /// The operator's scripts and NICs that move VIPs, and the commands told of each change.
    pub hooks: VrrpHooks,
    /// Seconds after its keepalived starts before a director preempts a peer holding its VIPs
    /// (0: at once). keepalived honours it only in instances that start as BACKUP.
    pub preempt_delay: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sync {
    /// None: the NIC the VIP is on.
    pub interface: Option<String>,
    pub id: u8,
}

/// How the directors' IPVS behaves under churn: sysctls and connection timeouts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IpvsTuning {
    pub conn_reuse_mode: u32,
    pub expire_nodest_conn: u32,
    pub expire_quiescent_template: u32,
    pub tcp: u32,
    pub tcpfin: u32,
    pub udp: u32,
}

impl IpvsTuning {
    /// The kernel's own values: what a director has before lvsprov, and after `down`.
    pub const KERNEL: IpvsTuning = IpvsTuning {
        conn_reuse_mode: 1,
        expire_nodest_conn: 0,
        expire_quiescent_template: 0,
        tcp: 900,
        tcpfin: 120,
        udp: 300,
    };

    /// lvsprov's defaults, and why each is what it is:
    /// - conn_reuse_mode 2: a director in DR sees only the client's half of a connection, so a
    ///   closed one stays FIN_WAIT (tcpfin, 120 s), and with the kernel's 1 a new connection
    ///   whose source port matches one is sent to that one's server without scheduling: even to
    ///   a drained one (weight 0), and out of round-robin order. 2 schedules it afresh, as the
    ///   kernel's documentation advises for DR (the lab saw 1 and 3 of 20 requests so misplaced);
    /// - expire_nodest_conn stays 0: keepalived removes and re-adds every real server when it
    ///   restarts (and a failback goes through that), and with 1 a packet arriving in between
    ///   expires its connection instead of waiting the second it takes (README: what the lab
    ///   runs did and did not show);
    /// - expire_quiescent_template 1: persistence templates to a drained (weight 0) server
    ///   expire, so `drain` also moves persistent clients;
    /// - tcp 7260 s: longer than a 2-hour TCP keepalive, so an idle kept-alive connection (a
    ///   database pool, a websocket) is not forgotten by the director (the kernel's 900 s is).
    pub const DEFAULT: IpvsTuning = IpvsTuning {
        conn_reuse_mode: 2,
        expire_nodest_conn: 0,
        expire_quiescent_template: 1,
        tcp: 7260,
        tcpfin: 120,
        udp: 300,
    };
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub network: Ipv4Net,
    /// The segment's IPv6 prefix: where IPv6 VIPs and the hosts' `address6` are.
    pub network6: Option<ipnet::Ipv6Net>,
    pub keepalived: Option<Keepalived>,
    /// Active-active directors announcing the VIPs by BGP (no VRRP: `keepalived` is None).
    pub ecmp: Option<Ecmp>,
    pub ipvs: IpvsTuning,
    pub hosts: Vec<Host>,
    pub services: Vec<Service>,
}

pub fn load(path: &Path) -> Result<Inventory, Invalid> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Invalid {
        file: file.clone(),
        problems: vec![Problem {
            path: "$".into(),
            message: format!(
                "cannot read the file ({e}); pass an inventory path, e.g. inventories/lab.json"
            ),
        }],
    })?;
    parse(&text).map_err(|problems| Invalid { file, problems })
}

pub fn parse(text: &str) -> Result<Inventory, Vec<Problem>> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: raw::RawInventory = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let hint = if inner.is_syntax() || inner.is_eof() {
            format!("{inner}: the file is not valid JSON")
        } else {
            let at = format!(" at line {} column {}", inner.line(), inner.column());
            let said = inner.to_string();
            format!(
                "{} (line {}, column {}); docs/inventory.md lists every field",
                words::in_words(said.strip_suffix(&at).unwrap_or(&said)),
                inner.line(),
                inner.column()
            )
        };
        vec![Problem {
            path: format!("$.{path}").replace("$..", "$."),
            message: hint,
        }]
    })?;
    validate::run(raw)
}

impl Inventory {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    pub fn directors(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role() == Role::Director)
    }

    /// The active director: the highest priority (or the only one).
    pub fn active_director(&self) -> Option<&Host> {
        self.directors().max_by_key(|h| h.priority().unwrap_or(0))
    }

    /// The services a real server takes part in.
    pub fn services_of<'a>(&'a self, host: &'a Host) -> impl Iterator<Item = &'a Service> + 'a {
        self.services
            .iter()
            .filter(move |s| s.has_member(&host.name))
    }

    /// The services a real server must be ready to serve: those it is a member of, and those it
    /// is the sorry server of (keepalived may send their clients to it at any time), so it
    /// carries their VIPs on `lo`.
    pub fn services_ready_on<'a>(
        &'a self,
        host: &'a Host,
    ) -> impl Iterator<Item = &'a Service> + 'a {
        self.services.iter().filter(move |s| {
            s.has_member(&host.name)
                || s.fallbacks
                    .sorry_server
                    .as_ref()
                    .is_some_and(|m| m.name == host.name)
        })
    }

    /// The VIPs, each once, in the order the services name them.
    pub fn vips(&self) -> Vec<Vip> {
        let mut out: Vec<Vip> = Vec::new();
        for s in &self.services {
            if !out.contains(&s.vip) {
                out.push(s.vip);
            }
        }
        Vip::ipv4_first(&mut out);
        out
    }
}
