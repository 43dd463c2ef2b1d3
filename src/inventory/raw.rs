//! The inventory JSON as written: strings where the user may be wrong, so the validator can say
//! what is wrong with each one (and all of them at once) instead of stopping at the first. The
//! same types write an inventory (`import`), so what is written is what is read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::raw_keepalived::{RawKeepalived, RawNotify, RawSync, RawTrackScript};

/// An lvsprov inventory: the LVS-DR cluster `lvsprov up` builds (docs/inventory.md).
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "lvsprov inventory")]
pub struct RawInventory {
    /// An editor's pointer to the inventory's JSON Schema; lvsprov reads nothing from it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The one L2 segment every host and VIP is on, as CIDR (`192.168.100.0/24`).
    #[schemars(pattern(r"^[0-9.]+/[0-9]{1,2}$"))]
    pub network: String,
    /// The same segment's IPv6 prefix (`fd00:100::/64`), for IPv6 VIPs: each host on it carries
    /// an `address6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network6: Option<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub ssh: RawSsh,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalived: Option<RawKeepalived>,
    /// Active-active directors behind BGP routers (docs/ecmp.md), instead of VRRP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecmp: Option<super::ecmp::RawEcmp>,
    /// Default for every host's `persist`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persist: Option<bool>,
    /// The directors' IPVS behaviour under churn.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ipvs: RawIpvs,
    #[serde(default)]
    pub directors: Vec<RawHost>,
    #[serde(default)]
    pub real_servers: Vec<RawHost>,
    #[serde(default)]
    pub services: Vec<RawService>,
}

#[derive(Deserialize, Serialize, JsonSchema, Default, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ipvs")]
pub struct RawIpvs {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 3))]
    pub conn_reuse_mode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 1))]
    pub expire_nodest_conn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 1))]
    pub expire_quiescent_template: Option<u32>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub timeouts: RawIpvsTimeouts,
}

#[derive(Deserialize, Serialize, JsonSchema, Default, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "IpvsTimeouts")]
pub struct RawIpvsTimeouts {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 604_800))]
    pub tcp: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 604_800))]
    pub tcpfin: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 604_800))]
    pub udp: Option<u32>,
}

#[derive(Deserialize, Serialize, JsonSchema, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ssh")]
pub struct RawSsh {
    /// Where to reach the host for SSH (management address or name), when not its LVS address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Bastions to go through, OpenSSH's `-J` syntax: `[user@]host[:port]`, comma-separated;
    /// `"none"` on a host overrides a top-level jump.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_hosts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sudo: Option<bool>,
}

pub(super) fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Host")]
pub struct RawHost {
    pub name: String,
    /// Its address on the LVS segment (IPv4).
    #[schemars(pattern(r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"))]
    pub address: String,
    /// Its IPv6 address on the segment (in `network6`): needed by directors and real servers of
    /// an IPv6 VIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address6: Option<String>,
    /// The NIC on the segment; default: the one whose subnet holds the VIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nic: Option<String>,
    /// A director's VRRP priority: the highest is the active director.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 254))]
    pub priority: Option<u16>,
    /// A real server's index page (`/var/www/html/index.html`); without it the page is the
    /// operator's and lvsprov never writes or removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// false: the real server's own backend (nginx, an application) serves its services; lvsprov
    /// installs, starts and writes nothing for it and does the VIP and ARP part only. Default true:
    /// apache2 (Debian) or httpd (RHEL), listening on each TCP port of its services (not 443).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_server: Option<bool>,
    /// false: converge the live state only; nothing is set up to come back at boot (a container
    /// with no init). Default true: a host that boots nothing lvsprov can hook is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persist: Option<bool>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub ssh: RawSsh,
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Service")]
pub struct RawService {
    /// The virtual IP clients connect to: IPv4 in `network`, or IPv6 in `network6`; no host's
    /// address.
    pub vip: String,
    /// The service's port; or `ports` instead, for one service over several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub port: Option<u16>,
    /// One service over several ports (e.g. [80, 8080]): the directors mark the VIP's packets to
    /// any of them (an nftables table of lvsprov's) and IPVS balances the mark, so with
    /// `persistence_timeout` a client keeps its real server on every port. Health checks go to
    /// the first port. Needs systemd and nftables on the directors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<u16>>,
    /// The firewall mark of a `ports` service (default: 1 for the first such service, 2 for the
    /// next, ...); pick others if the directors' own rules use these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub fwmark: Option<u32>,
    #[serde(default = "tcp")]
    #[schemars(schema_with = "protocols")]
    pub protocol: String,
    #[serde(default = "rr")]
    #[schemars(schema_with = "schedulers")]
    pub scheduler: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistence_timeout: Option<u32>,
    /// Always written: an imported inventory shows the check lvsprov will render.
    #[serde(default)]
    pub health_check: RawHealthCheck,
    pub real_servers: Vec<RawMember>,
    /// The director that holds this service's VIP while it is healthy (keepalived, two or more
    /// directors): each master gets a VRRP instance of its own, so each director can carry some
    /// VIPs. Services on one VIP name the same master. Default: the highest priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// When the healthy real servers' weights add up to less than `quorum` (every one down, by
    /// default), keepalived sends this service's clients to this real server instead (a "sorry,
    /// we are down" page): a real server from $.real_servers that is not in this service. It gets
    /// the VIP on `lo` like the others. Needs keepalived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_server: Option<String>,
    /// true: a real server whose check fails stays in the IPVS table with weight 0 (its open
    /// connections go on, no new one reaches it) instead of being removed. Needs keepalived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inhibit_on_failure: bool,
    /// The least total weight of healthy real servers the service runs on (default 1); below it,
    /// the sorry server (if any) takes the clients. Needs keepalived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub quorum: Option<u32>,
}

#[derive(Deserialize, Serialize, JsonSchema, Clone, PartialEq, Debug)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HealthCheck")]
pub struct RawHealthCheck {
    /// tcp: a connect; http: GET `path`, expecting `status`; udp: a datagram, healthy until the
    /// real server answers "port unreachable"; dns: a query for `name` that must come back
    /// NOERROR. Default: tcp on a TCP service, dns on UDP port 53, udp on other UDP ports.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "check_kinds")]
    pub kind: Option<String>,
    #[serde(default = "three")]
    pub connect_timeout: u32,
    #[serde(default = "six")]
    pub delay_loop: u32,
    #[serde(default = "three")]
    pub retry: u32,
    /// http: the path asked for (default `/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// http: the status that means healthy (default 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 599))]
    pub status: Option<u16>,
    /// http: the Host header (default: none, the real server's address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// dns: the name asked for, one the real servers answer with NOERROR (e.g. "example.com").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// dns: the record type asked for (default A).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "query_types")]
    pub query_type: Option<String>,
    /// The real server's port the check connects to (default: the service's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The check reaches the web server through the VIP on the real server's `lo`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub through_vip: bool,
}

impl Default for RawHealthCheck {
    fn default() -> Self {
        RawHealthCheck {
            kind: None,
            connect_timeout: 3,
            delay_loop: 6,
            retry: 3,
            path: None,
            status: None,
            host: None,
            name: None,
            query_type: None,
            port: None,
            through_vip: false,
        }
    }
}

fn tcp() -> String {
    "tcp".into()
}
fn rr() -> String {
    "rr".into()
}
fn three() -> u32 {
    3
}
fn six() -> u32 {
    6
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Member")]
pub struct RawMember {
    pub name: String,
    #[serde(default = "weight_one")]
    #[schemars(range(max = 65535))]
    pub weight: u32,
}

fn weight_one() -> u32 {
    1
}

/// A string that is one of `words`, for the schema (the parser says the same list when it refuses).
fn one_of(words: &[&str], default: &str) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": words, "default": default })
}

fn protocols(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of(&["tcp", "udp"], "tcp")
}

fn schedulers(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of(super::Scheduler::ALL, "rr")
}

fn check_kinds(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of(&["tcp", "http", "udp", "dns"], "tcp")
}

/// The record types keepalived's DNS_CHECK can ask for.
pub const QUERY_TYPES: &[&str] = &["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

fn query_types(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of(QUERY_TYPES, "A")
}
