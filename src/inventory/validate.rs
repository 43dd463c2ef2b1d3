//! From the JSON as written to the typed cluster, collecting every problem with its path and fix.
//! One function per part of the inventory; each adds problems and returns what it could type.

use super::raw::{RawHost, RawInventory, RawSsh};
use super::{Duty, Explicit, Hop, Host, Inventory, Problem, Role, SshTarget};
use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

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

/// OpenSSH's `-J` list: `[user@]host[:port]`, comma-separated, outermost first; `none` for no
/// jump. A hop without a user logs in as the target's user, as OpenSSH does.
pub fn parse_jump(text: &str, user: &str) -> Result<Vec<Hop>, String> {
    if text.trim() == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|hop| {
            let hop = hop.trim();
            let (u, rest) = match hop.split_once('@') {
                Some((u, r)) => (u, r),
                None => (user, hop),
            };
            let (h, port) = match rest.rsplit_once(':') {
                Some((h, p)) => {
                    let port = p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        format!("{hop:?}: {p:?} is not a port (1..65535); e.g. \"admin@bastion.example:2222\"")
                    })?;
                    (h, port)
                }
                None => (rest, 22),
            };
            if !valid_user(u) || !(valid_hostname(h) || h.parse::<Ipv4Addr>().is_ok()) {
                return Err(format!("{hop:?} is not [user@]host[:port]; write bastions like OpenSSH's -J, e.g. \"admin@bastion.example:22\", comma-separated, or \"none\""));
            }
            Ok(Hop { user: u.to_string(), host: h.to_string(), port })
        })
        .collect()
}

fn valid_user(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && !u.starts_with('-')
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

pub fn expand(p: &str) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/root".into());
    match p.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if p == "~" => home,
        None => PathBuf::from(p),
    }
}

#[derive(Default)]
pub(super) struct Validator {
    pub(super) problems: Vec<Problem>,
    /// `$.network6`, read first: hosts' `address6` and IPv6 VIPs are checked against it.
    pub(super) network6: Option<ipnet::Ipv6Net>,
    /// `$.network6` was given and said wrong: nothing else repeats it.
    pub(super) network6_invalid: bool,
    /// Hosts whose `address6` was said wrong: not said missing again where a VIP needs it.
    pub(super) bad_address6: Vec<String>,
}

pub fn run(raw: RawInventory) -> Result<Inventory, Vec<Problem>> {
    let mut v = Validator::default();
    let network = v.network(&raw.network);
    v.network6 = v.network6(&raw);
    v.user("$.ssh.user", &raw.ssh);
    if raw.ssh.host.is_some() {
        v.problem("$.ssh.host", "ssh.host is one host's SSH address; put it in that host's \"ssh\", not at the top level");
    }
    if let Some(Err(e)) = raw.ssh.jump.as_deref().map(|j| parse_jump(j, "root")) {
        v.problem("$.ssh.jump", e);
    }
    let mut hosts = Vec::new();
    for (role, list) in [
        (Role::Director, &raw.directors),
        (Role::RealServer, &raw.real_servers),
    ] {
        for (i, h) in list.iter().enumerate() {
            hosts.extend(v.host(role, i, h, &raw, network));
        }
    }
    v.unique(&raw);
    v.unique6(&raw);
    v.counts(&raw);
    let keepalived = v.keepalived(&raw);
    let ipvs = v.ipvs(&raw.ipvs);
    let services = v.services(&raw.services, &hosts, network);
    if raw.ecmp.is_none() {
        v.masters(&raw.services, &hosts, keepalived.as_ref());
    }
    let ecmp = v.ecmp(&raw, &hosts, network);
    let mut services = services;
    for s in services.iter_mut().filter(|_| ecmp.is_some()) {
        s.hash_port = true;
    }
    v.fallbacks_need_keepalived(&raw.services, raw.keepalived.is_some() || ecmp.is_some());
    match (v.problems.is_empty(), network) {
        (true, Some(network)) => Ok(Inventory {
            network,
            network6: v.network6,
            keepalived,
            ecmp,
            ipvs,
            hosts,
            services,
        }),
        _ => Err(v.problems),
    }
}

impl Validator {
    pub(super) fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn network(&mut self, text: &str) -> Option<Ipv4Net> {
        match text.parse::<Ipv4Net>() {
            Ok(n) => Some(n.trunc()),
            Err(_) => {
                self.problem(
                    "$.network",
                    format!("{text:?} is not an IPv4 network; write it as CIDR, e.g. \"192.168.100.0/24\""),
                );
                None
            }
        }
    }

    /// An IPv4 address inside `$.network`, or the problem said at `at` (`why`: what needs it
    /// there); None when it is no address at all.
    pub(super) fn address_on(
        &mut self,
        at: &str,
        text: &str,
        example: &str,
        network: Option<Ipv4Net>,
        why: &str,
    ) -> Option<Ipv4Addr> {
        let Ok(address) = text.parse::<Ipv4Addr>() else {
            self.problem(
                at,
                format!("{text:?} is not an IPv4 address, e.g. \"{example}\""),
            );
            return None;
        };
        if let Some(net) = network.filter(|n| !n.contains(&address)) {
            self.problem(at, format!("{address} is outside $.network {net}; {why}"));
        }
        Some(address)
    }

    fn user(&mut self, at: &str, ssh: &RawSsh) {
        if let Some(u) = &ssh.user {
            if !valid_user(u) {
                self.problem(at, format!("{u:?} is not a valid user name"));
            }
        }
    }

    fn ssh(defaults: &RawSsh, own: &RawSsh) -> SshTarget {
        let pick = |o: &Option<String>, d: &Option<String>| o.clone().or_else(|| d.clone());
        let user = pick(&own.user, &defaults.user).unwrap_or_else(|| "root".into());
        SshTarget {
            host: String::new(),
            jump: Vec::new(),
            port: own.port.or(defaults.port).unwrap_or(22),
            identity_files: pick(&own.identity_file, &defaults.identity_file)
                .map(|p| expand(&p))
                .into_iter()
                .collect(),
            known_hosts: expand(
                &pick(&own.known_hosts, &defaults.known_hosts)
                    .unwrap_or_else(|| "~/.ssh/known_hosts".into()),
            ),
            sudo: own.sudo.or(defaults.sudo).unwrap_or(user != "root"),
            accept_new: false,
            connect_timeout: None,
            keepalive: None,
            explicit: Explicit {
                user: own.user.is_some() || defaults.user.is_some(),
                port: own.port.is_some() || defaults.port.is_some(),
                identity_file: own.identity_file.is_some() || defaults.identity_file.is_some(),
                known_hosts: own.known_hosts.is_some() || defaults.known_hosts.is_some(),
                jump: own.jump.is_some() || defaults.jump.is_some(),
                sudo: own.sudo.is_some() || defaults.sudo.is_some(),
            },
            user,
        }
    }

    /// Where and how SSH reaches a machine at `address` whose `ssh` block (at `at`.ssh) is `own`.
    pub(super) fn target(
        &mut self,
        at: &str,
        defaults: &RawSsh,
        own: &RawSsh,
        address: Ipv4Addr,
    ) -> SshTarget {
        self.user(&format!("{at}.ssh.user"), own);
        let mut ssh = Self::ssh(defaults, own);
        if let Some(s) = &own.host {
            if valid_hostname(s) || s.parse::<Ipv4Addr>().is_ok() {
                ssh.host = s.clone();
            } else {
                self.problem(format!("{at}.ssh.host"), format!("{s:?} is neither a hostname nor an IPv4 address; give where SSH reaches the host, e.g. \"mgmt-web01\" or \"10.0.0.21\""));
            }
        } else {
            ssh.host = address.to_string();
        }
        // A top-level jump's mistakes are said once, at $.ssh.jump.
        match (&own.jump, &defaults.jump) {
            (Some(j), _) => match parse_jump(j, &ssh.user) {
                Ok(hops) => ssh.jump = hops,
                Err(e) => self.problem(format!("{at}.ssh.jump"), e),
            },
            (None, Some(top)) => ssh.jump = parse_jump(top, &ssh.user).unwrap_or_default(),
            (None, None) => {}
        }
        ssh
    }

    fn host(
        &mut self,
        role: Role,
        i: usize,
        h: &RawHost,
        raw: &RawInventory,
        network: Option<Ipv4Net>,
    ) -> Option<Host> {
        let defaults = &raw.ssh;
        let at = format!("$.{}[{i}]", role.group());
        if !valid_hostname(&h.name) {
            self.problem(
                format!("{at}.name"),
                format!(
                    "{:?} is not a valid hostname; use letters, digits and '-', e.g. \"web01\"",
                    h.name
                ),
            );
        }
        let on_segment = "LVS-DR needs directors and real servers on one L2 segment";
        let address = self.address_on(
            &format!("{at}.address"),
            &h.address,
            "192.168.100.201",
            network,
            on_segment,
        )?;
        if let Some(nic) = h.nic.as_ref().filter(|n| !valid_ifname(n)) {
            self.problem(format!("{at}.nic"), format!("{nic:?} is not an interface name, e.g. \"eth0\"; or leave it out to use the NIC whose subnet holds the VIP"));
        }
        let ssh = self.target(&at, defaults, &h.ssh, address);
        Some(Host {
            name: h.name.clone(),
            address,
            address6: self.address6(&at, h),
            nic: h.nic.clone(),
            persist: h.persist.or(raw.persist).unwrap_or(true),
            duty: self.duty(role, &at, h),
            ssh,
        })
    }

    fn duty(&mut self, role: Role, at: &str, h: &RawHost) -> Duty {
        match role {
            Role::Director => {
                if h.page.is_some() {
                    self.problem(
                        format!("{at}.page"),
                        "only real servers serve a page; remove it",
                    );
                }
                if h.web_server.is_some() {
                    self.problem(
                        format!("{at}.web_server"),
                        "only real servers run a web server; remove it",
                    );
                }
                let priority = match h.priority {
                    Some(p) if (1..=254).contains(&p) => Some(p as u8),
                    Some(p) => {
                        self.problem(format!("{at}.priority"), format!("{p} is out of range; VRRP priorities are 1..254, the active director highest"));
                        None
                    }
                    None => None,
                };
                Duty::Director { priority }
            }
            Role::RealServer => {
                if h.priority.is_some() {
                    self.problem(
                        format!("{at}.priority"),
                        "only directors have a priority; remove it",
                    );
                }
                let web_server = h.web_server.unwrap_or(true);
                if h.page.is_some() && !web_server {
                    self.problem(
                        format!("{at}.page"),
                        "lvsprov writes a page only for the web server it runs, and \"web_server\": false leaves that to your backend; remove \"page\" (or \"web_server\": false)",
                    );
                }
                Duty::RealServer {
                    page: h.page.clone(),
                    web_server,
                }
            }
        }
    }

    fn unique(&mut self, raw: &RawInventory) {
        let mut names: HashMap<&str, String> = HashMap::new();
        let mut addrs: HashMap<Ipv4Addr, String> = HashMap::new();
        let all = raw
            .directors
            .iter()
            .enumerate()
            .map(|(i, h)| (format!("$.directors[{i}]"), h))
            .chain(
                raw.real_servers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (format!("$.real_servers[{i}]"), h)),
            );
        for (at, h) in all {
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

    fn counts(&mut self, raw: &RawInventory) {
        if raw.directors.is_empty() {
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
        if raw.services.is_empty() {
            self.problem(
                "$.services",
                "no virtual service; add one with a vip, port and real_servers",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_list_reads_like_openssh_dash_j() {
        let hop = |u: &str, h: &str, p: u16| Hop {
            user: u.into(),
            host: h.into(),
            port: p,
        };
        assert_eq!(
            parse_jump("admin@b1.example:2222, 10.0.0.5", "deploy").unwrap(),
            vec![
                hop("admin", "b1.example", 2222),
                hop("deploy", "10.0.0.5", 22)
            ],
            "outermost first; a hop without a user logs in as the target's user"
        );
        assert_eq!(parse_jump("none", "root").unwrap(), vec![]);
        for bad in ["a@b;id", "b:0", "b:x", "@b", "", "a b"] {
            assert!(parse_jump(bad, "root").is_err(), "{bad:?} accepted");
        }
    }
}
