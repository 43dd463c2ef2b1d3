//! A service as the rest of lvsprov reads it: its VIP and ports, its real servers, and the views
//! of it that drains, real servers and IPVS need.

use super::{HealthCheck, Protocol, Scheduler, Vip};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub name: String,
    /// The host's address in the VIP's family (`address6` for an IPv6 VIP): IPVS in DR mode
    /// sends a packet to a real server of its own family only.
    pub address: IpAddr,
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub vip: Vip,
    /// The first of `ports`: where health checks connect and real servers are listed.
    pub port: u16,
    /// Every port the service takes; more than one with a firewall mark.
    pub ports: Vec<u16>,
    /// Set for a `ports` service: IPVS balances the packets the directors marked so.
    pub fwmark: Option<u32>,
    pub protocol: Protocol,
    pub scheduler: Scheduler,
    pub persistence_timeout: Option<u32>,
    pub health_check: HealthCheck,
    pub real_servers: Vec<Member>,
    /// The director that holds the VIP while healthy (a director's name); None: the highest
    /// priority. See [`super::Inventory::vrrp_instances`].
    pub master: Option<String>,
    /// What keepalived does when real servers fail: see [`Fallbacks`].
    pub fallbacks: Fallbacks,
    /// `mh` (or `sh`) hashes the client's port too (`-b mh-port`): ECMP directors, so that one
    /// client's connections spread over the real servers as the routers spread them.
    pub hash_port: bool,
}

/// keepalived's answers to failing real servers (`sorry_server`, `inhibit_on_failure`, `quorum`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fallbacks {
    /// The real server that takes the clients when the healthy ones' weights fall below quorum.
    pub sorry_server: Option<Member>,
    pub inhibit_on_failure: bool,
    /// None: keepalived's default, 1.
    pub quorum: Option<u32>,
}

impl Service {
    /// The port IPVS lists this service's real servers on: a mark's have none (keepalived
    /// clears it; the kernel lists :0).
    pub fn dest_port(&self) -> u16 {
        if self.fwmark.is_some() {
            0
        } else {
            self.port
        }
    }

    /// The ports a web server answers on for this service: every port of a TCP service, none of
    /// a UDP one (its answers are its own daemon's).
    pub fn web_ports(&self) -> &[u16] {
        match self.protocol {
            Protocol::Tcp => &self.ports,
            Protocol::Udp => &[],
        }
    }

    /// This service as the directors run it while `drained` real servers are held at weight 0
    /// (`lvsprov drain`): what keepalived is configured with and what `verify` expects.
    pub fn with_drained(&self, drained: &BTreeSet<String>) -> Service {
        let mut s = self.clone();
        for m in &mut s.real_servers {
            if drained.contains(&m.name) {
                m.weight = 0;
            }
        }
        s
    }

    /// The service as one of its real servers sees it: itself the only member. A real server has
    /// no use for the others, and with all of them each host's template context grew with the
    /// fleet, so rendering every host's playbook took time in the square of the fleet's size.
    pub fn as_seen_by(&self, name: &str) -> Service {
        Service {
            vip: self.vip,
            port: self.port,
            ports: self.ports.clone(),
            fwmark: self.fwmark,
            protocol: self.protocol,
            scheduler: self.scheduler,
            persistence_timeout: self.persistence_timeout,
            health_check: self.health_check.clone(),
            master: self.master.clone(),
            fallbacks: self.fallbacks.clone(),
            hash_port: self.hash_port,
            real_servers: self
                .real_servers
                .iter()
                .filter(|m| m.name == name)
                .cloned()
                .collect(),
        }
    }

    pub fn has_member(&self, name: &str) -> bool {
        self.real_servers.iter().any(|m| m.name == name)
    }
}
