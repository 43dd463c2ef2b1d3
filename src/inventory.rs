//! The inventory: JSON in, typed and validated cluster out. Nothing here touches the network: every
//! mistake is found before the first SSH connection, reported with its JSON path and the fix.

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

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

// ---- the JSON as written -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    network: String,
    #[serde(default)]
    ssh: RawSsh,
    keepalived: Option<RawKeepalived>,
    #[serde(default)]
    directors: Vec<RawHost>,
    #[serde(default)]
    real_servers: Vec<RawHost>,
    #[serde(default)]
    services: Vec<RawService>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    user: Option<String>,
    port: Option<u16>,
    identity_file: Option<String>,
    known_hosts: Option<String>,
    sudo: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeepalived {
    virtual_router_id: u16,
    auth_pass: String,
    #[serde(default = "one")]
    advert_int: u16,
}

fn one() -> u16 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: String,
    address: String,
    nic: Option<String>,
    priority: Option<u16>,
    page: Option<String>,
    #[serde(default)]
    ssh: RawSsh,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    vip: String,
    port: u16,
    #[serde(default = "tcp")]
    protocol: String,
    #[serde(default = "rr")]
    scheduler: String,
    persistence_timeout: Option<u32>,
    #[serde(default)]
    health_check: HealthCheck,
    real_servers: Vec<RawMember>,
}

fn tcp() -> String {
    "tcp".into()
}
fn rr() -> String {
    "rr".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    name: String,
    #[serde(default = "weight_one")]
    weight: u32,
}

fn weight_one() -> u32 {
    1
}

// ---- the typed cluster -----------------------------------------------------------------------

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

#[derive(Debug, Clone, Serialize)]
pub struct SshTarget {
    pub user: String,
    pub port: u16,
    /// None: use the ssh-agent at SSH_AUTH_SOCK.
    pub identity_file: Option<PathBuf>,
    pub known_hosts: PathBuf,
    /// Run remote scripts through `sudo -n` (for a non-root user).
    pub sudo: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub name: String,
    pub address: Ipv4Addr,
    pub role: Role,
    /// None: the NIC whose subnet holds the VIP, found in the host's facts.
    pub nic: Option<String>,
    pub priority: Option<u8>,
    pub page: Option<String>,
    #[serde(skip)]
    pub ssh: SshTarget,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// "tcp" (connect) or "http" (GET /, expect 200).
    #[serde(default = "tcp", rename = "type")]
    pub kind: String,
    #[serde(default = "three")]
    pub connect_timeout: u32,
    #[serde(default = "six")]
    pub delay_loop: u32,
    #[serde(default = "three")]
    pub retry: u32,
}

fn three() -> u32 {
    3
}
fn six() -> u32 {
    6
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            kind: tcp(),
            connect_timeout: 3,
            delay_loop: 6,
            retry: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub name: String,
    pub address: Ipv4Addr,
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub vip: Ipv4Addr,
    pub port: u16,
    pub protocol: String,
    pub scheduler: String,
    pub persistence_timeout: Option<u32>,
    pub health_check: HealthCheck,
    pub real_servers: Vec<Member>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Keepalived {
    pub virtual_router_id: u8,
    /// Never printed: reports show the rendered file with this value masked.
    pub auth_pass: String,
    pub advert_int: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub network: Ipv4Net,
    pub keepalived: Option<Keepalived>,
    pub hosts: Vec<Host>,
    pub services: Vec<Service>,
}

const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
];

/// A valid hostname label set (RFC 1123): what `hostname` and keepalived accept everywhere.
pub fn valid_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A Linux interface name, optionally with an alias label (`eth0`, `ens33:0`).
pub fn valid_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 16
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/root".into())
}

fn expand(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => home().join(rest),
        None => PathBuf::from(p),
    }
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
    let raw: RawInventory = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let hint = if inner.is_syntax() || inner.is_eof() {
            format!("{inner}: the file is not valid JSON")
        } else {
            format!("{inner}; see inventories/lab.json for the expected shape")
        };
        vec![Problem {
            path: format!("$.{path}").replace("$..", "$."),
            message: hint,
        }]
    })?;
    Validator::default().run(raw)
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn ssh(&self, defaults: &RawSsh, own: &RawSsh) -> SshTarget {
        let pick = |o: &Option<String>, d: &Option<String>| o.clone().or_else(|| d.clone());
        let user = pick(&own.user, &defaults.user).unwrap_or_else(|| "root".into());
        let sudo = own.sudo.or(defaults.sudo).unwrap_or(user != "root");
        SshTarget {
            port: own.port.or(defaults.port).unwrap_or(22),
            identity_file: pick(&own.identity_file, &defaults.identity_file).map(|p| expand(&p)),
            known_hosts: expand(
                &pick(&own.known_hosts, &defaults.known_hosts)
                    .unwrap_or_else(|| "~/.ssh/known_hosts".into()),
            ),
            sudo,
            user,
        }
    }

    fn run(mut self, raw: RawInventory) -> Result<Inventory, Vec<Problem>> {
        let network = match raw.network.parse::<Ipv4Net>() {
            Ok(n) => Some(n.trunc()),
            Err(_) => {
                self.problem(
                    "$.network",
                    format!(
                        "{:?} is not an IPv4 network; write it as CIDR, e.g. \"192.168.100.0/24\"",
                        raw.network
                    ),
                );
                None
            }
        };
        for (field, v) in [("user", &raw.ssh.user)] {
            if let Some(u) = v {
                if !valid_user(u) {
                    self.problem(
                        format!("$.ssh.{field}"),
                        format!("{u:?} is not a valid user name"),
                    );
                }
            }
        }

        let mut hosts = Vec::new();
        let groups = [
            (Role::Director, &raw.directors),
            (Role::RealServer, &raw.real_servers),
        ];
        for (role, list) in groups {
            for (i, h) in list.iter().enumerate() {
                let at = format!("$.{}[{i}]", role.group());
                if !valid_hostname(&h.name) {
                    self.problem(format!("{at}.name"), format!("{:?} is not a valid hostname; use letters, digits and '-', e.g. \"web01\"", h.name));
                }
                let address = match h.address.parse::<Ipv4Addr>() {
                    Ok(a) => a,
                    Err(_) => {
                        self.problem(
                            format!("{at}.address"),
                            format!(
                                "{:?} is not an IPv4 address, e.g. \"192.168.100.201\"",
                                h.address
                            ),
                        );
                        continue;
                    }
                };
                if let Some(net) = network {
                    if !net.contains(&address) {
                        self.problem(format!("{at}.address"), format!("{address} is outside $.network {net}; LVS-DR needs directors and real servers on one L2 segment"));
                    }
                }
                if let Some(nic) = &h.nic {
                    if !valid_ifname(nic) {
                        self.problem(format!("{at}.nic"), format!("{nic:?} is not an interface name, e.g. \"eth0\"; or leave it out to use the NIC whose subnet holds the VIP"));
                    }
                }
                let priority = match (role, h.priority) {
                    (Role::Director, Some(p)) if (1..=254).contains(&p) => Some(p as u8),
                    (Role::Director, Some(p)) => {
                        self.problem(format!("{at}.priority"), format!("{p} is out of range; VRRP priorities are 1..254, the active director highest"));
                        None
                    }
                    (Role::Director, None) => None,
                    (Role::RealServer, Some(_)) => {
                        self.problem(
                            format!("{at}.priority"),
                            "only directors have a priority; remove it",
                        );
                        None
                    }
                    (Role::RealServer, None) => None,
                };
                if role == Role::Director && h.page.is_some() {
                    self.problem(
                        format!("{at}.page"),
                        "only real servers serve a page; remove it",
                    );
                }
                if let Some(u) = &h.ssh.user {
                    if !valid_user(u) {
                        self.problem(
                            format!("{at}.ssh.user"),
                            format!("{u:?} is not a valid user name"),
                        );
                    }
                }
                hosts.push(Host {
                    name: h.name.clone(),
                    address,
                    role,
                    nic: h.nic.clone(),
                    priority,
                    page: h.page.clone(),
                    ssh: self.ssh(&raw.ssh, &h.ssh),
                });
            }
        }
        self.unique(&raw);

        let directors = hosts.iter().filter(|h| h.role == Role::Director).count();
        if directors == 0 {
            self.problem(
                "$.directors",
                "no director; add at least one host that runs IPVS",
            );
        }
        if raw.real_servers.is_empty() {
            self.problem(
                "$.real_servers",
                "no real server; add the web nodes that serve the VIP",
            );
        }
        let keepalived = match raw.keepalived {
            Some(k) => {
                if !(1..=255).contains(&k.virtual_router_id) {
                    self.problem(
                        "$.keepalived.virtual_router_id",
                        format!(
                            "{} is out of range; use 1..255, unique on the segment",
                            k.virtual_router_id
                        ),
                    );
                }
                if k.auth_pass.is_empty() || k.auth_pass.len() > 8 {
                    self.problem(
                        "$.keepalived.auth_pass",
                        "VRRP PASS authentication takes 1 to 8 characters; shorten it",
                    );
                }
                if k.advert_int == 0 {
                    self.problem("$.keepalived.advert_int", "must be at least 1 second");
                }
                Some(Keepalived {
                    virtual_router_id: k.virtual_router_id as u8,
                    auth_pass: k.auth_pass,
                    advert_int: k.advert_int,
                })
            }
            None => {
                if directors > 1 {
                    self.problem("$.keepalived", format!("{directors} directors need keepalived, or both would claim the VIP; add \"keepalived\": {{\"virtual_router_id\": 51, \"auth_pass\": \"...\"}}"));
                }
                None
            }
        };
        if keepalived.is_some() && directors > 1 {
            let mut seen = HashMap::new();
            for (i, h) in raw.directors.iter().enumerate() {
                match h.priority {
                    None => self.problem(format!("$.directors[{i}].priority"), "with keepalived every director needs a priority; the active one highest, e.g. 150 and 100"),
                    Some(p) => {
                        if let Some(other) = seen.insert(p, i) {
                            self.problem(format!("$.directors[{i}].priority"), format!("{p} is also $.directors[{other}].priority; give the active director the highest priority"));
                        }
                    }
                }
            }
        }

        let by_name: BTreeMap<&str, &Host> = hosts.iter().map(|h| (h.name.as_str(), h)).collect();
        let mut services = Vec::new();
        if raw.services.is_empty() {
            self.problem(
                "$.services",
                "no virtual service; add one with a vip, port and real_servers",
            );
        }
        let mut vips = HashMap::new();
        for (i, s) in raw.services.iter().enumerate() {
            let at = format!("$.services[{i}]");
            let vip = match s.vip.parse::<Ipv4Addr>() {
                Ok(v) => v,
                Err(_) => {
                    self.problem(
                        format!("{at}.vip"),
                        format!(
                            "{:?} is not an IPv4 address, e.g. \"192.168.100.10\"",
                            s.vip
                        ),
                    );
                    continue;
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
            if let Some(net) = network {
                if !net.contains(&vip) {
                    self.problem(format!("{at}.vip"), format!("{vip} is outside $.network {net}; DR needs the VIP on the directors' segment"));
                }
            }
            if s.port == 0 {
                self.problem(
                    format!("{at}.port"),
                    "port 0 is not a service port; use e.g. 80",
                );
            }
            if let Some(j) = vips.insert((vip, s.port, s.protocol.clone()), i) {
                self.problem(
                    at.clone(),
                    format!("{vip}:{} is already $.services[{j}]", s.port),
                );
            }
            if s.protocol != "tcp" && s.protocol != "udp" {
                self.problem(
                    format!("{at}.protocol"),
                    format!("{:?} is not supported; use \"tcp\" or \"udp\"", s.protocol),
                );
            }
            if !SCHEDULERS.contains(&s.scheduler.as_str()) {
                self.problem(
                    format!("{at}.scheduler"),
                    format!(
                        "{:?} is not an IPVS scheduler; use one of {}",
                        s.scheduler,
                        SCHEDULERS.join(", ")
                    ),
                );
            }
            if s.health_check.kind != "tcp" && s.health_check.kind != "http" {
                self.problem(
                    format!("{at}.health_check.type"),
                    format!(
                        "{:?} is not supported; use \"tcp\" or \"http\"",
                        s.health_check.kind
                    ),
                );
            }
            if s.real_servers.is_empty() {
                self.problem(
                    format!("{at}.real_servers"),
                    "empty; list the real servers that serve this VIP",
                );
            }
            let mut members = Vec::new();
            for (j, m) in s.real_servers.iter().enumerate() {
                let mat = format!("{at}.real_servers[{j}]");
                match by_name.get(m.name.as_str()) {
                    Some(h) if h.role == Role::RealServer => members.push(Member {
                        name: m.name.clone(),
                        address: h.address,
                        weight: m.weight,
                    }),
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
            services.push(Service {
                vip,
                port: s.port,
                protocol: s.protocol.clone(),
                scheduler: s.scheduler.clone(),
                persistence_timeout: s.persistence_timeout,
                health_check: s.health_check.clone(),
                real_servers: members,
            });
        }

        match (self.problems.is_empty(), network) {
            (true, Some(network)) => Ok(Inventory {
                network,
                keepalived,
                hosts,
                services,
            }),
            _ => Err(self.problems),
        }
    }

    fn unique(&mut self, raw: &RawInventory) {
        let mut names: HashMap<&str, String> = HashMap::new();
        let mut addrs: HashMap<Ipv4Addr, String> = HashMap::new();
        let all = raw
            .directors
            .iter()
            .map(|h| ("directors", h))
            .chain(raw.real_servers.iter().map(|h| ("real_servers", h)));
        let mut idx: HashMap<&str, usize> = HashMap::new();
        for (group, h) in all {
            let i = idx.entry(group).or_insert(0);
            let at = format!("$.{group}[{i}]");
            *i += 1;
            if let Some(first) = names.insert(&h.name, at.clone()) {
                self.problem(
                    format!("{at}.name"),
                    format!(
                        "{:?} is also {first}.name; every host needs its own name",
                        h.name
                    ),
                );
            }
            if let Ok(a) = h.address.parse::<Ipv4Addr>() {
                if let Some(first) = addrs.insert(a, at.clone()) {
                    self.problem(
                        format!("{at}.address"),
                        format!("{a} is also {first}.address; every host needs its own address"),
                    );
                }
            }
        }
    }
}

fn valid_user(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && !u.starts_with('-')
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

impl Service {
    /// This service as the directors run it while `drained` real servers are held at weight 0
    /// (`lvsprov drain`): what keepalived is configured with and what `verify` expects.
    pub fn with_drained(&self, drained: &std::collections::BTreeSet<String>) -> Service {
        let mut s = self.clone();
        for m in &mut s.real_servers {
            if drained.contains(&m.name) {
                m.weight = 0;
            }
        }
        s
    }
}

impl Inventory {
    /// Hosts selected by `--limit`: names or the groups `directors` / `real_servers`.
    pub fn select(&self, limit: Option<&str>) -> Result<Vec<&Host>, String> {
        let Some(limit) = limit else {
            return Ok(self.hosts.iter().collect());
        };
        let mut out: Vec<&Host> = Vec::new();
        for word in limit.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let matched: Vec<&Host> = self
                .hosts
                .iter()
                .filter(|h| h.name == word || h.role.group() == word)
                .collect();
            if matched.is_empty() {
                let names: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
                return Err(format!("--limit: {word:?} is no host or group; use directors, real_servers or one of {}", names.join(", ")));
            }
            for h in matched {
                if !out.iter().any(|o| o.name == h.name) {
                    out.push(h);
                }
            }
        }
        Ok(out)
    }

    pub fn directors(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.role == Role::Director)
    }

    /// The active director: the highest priority (or the only one).
    pub fn active_director(&self) -> Option<&Host> {
        self.directors().max_by_key(|h| h.priority.unwrap_or(0))
    }

    /// The services a real server takes part in.
    pub fn services_of<'a>(&'a self, host: &'a Host) -> impl Iterator<Item = &'a Service> + 'a {
        self.services
            .iter()
            .filter(move |s| s.real_servers.iter().any(|m| m.name == host.name))
    }
}
