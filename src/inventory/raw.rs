//! The inventory JSON as written: strings where the user may be wrong, so the validator can say
//! what is wrong with each one (and all of them at once) instead of stopping at the first. The
//! same types write an inventory (`import`), so what is written is what is read.

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    /// An editor's pointer to the inventory's JSON Schema; lvsprov reads nothing from it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub network: String,
    #[serde(default, skip_serializing_if = "is_default")]
    pub ssh: RawSsh,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalived: Option<RawKeepalived>,
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

#[derive(Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawIpvs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn_reuse_mode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_nodest_conn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_quiescent_template: Option<u32>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub timeouts: RawIpvsTimeouts,
}

#[derive(Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawIpvsTimeouts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcpfin: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<u32>,
}

#[derive(Deserialize, Serialize, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
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

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeepalived {
    /// Required; optional here so that its absence is said like any other problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_router_id: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_pass: Option<String>,
    /// Seconds between adverts, as written (`1`, `0.2`): a fraction means VRRPv3.
    #[serde(default = "one_second")]
    pub advert_int: serde_json::Number,
    /// VRRP to the other directors' addresses instead of multicast to 224.0.0.18. Default: on
    /// whenever there are two or more directors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unicast: Option<bool>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub sync: RawSync,
}

/// IPVS connection sync between the directors (keepalived's `lvs_sync_daemon`).
#[derive(Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    /// Default: on whenever there are two or more directors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Default: the NIC the VIP is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Default: the virtual_router_id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

fn one_second() -> serde_json::Number {
    1.into()
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    pub name: String,
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// false: converge the live state only; nothing is set up to come back at boot (a container
    /// with no init). Default true: a host that boots nothing lvsprov can hook is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persist: Option<bool>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub ssh: RawSsh,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub vip: String,
    pub port: u16,
    #[serde(default = "tcp")]
    pub protocol: String,
    #[serde(default = "rr")]
    pub scheduler: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistence_timeout: Option<u32>,
    /// Always written: an imported inventory shows the check lvsprov will render.
    #[serde(default)]
    pub health_check: RawHealthCheck,
    pub real_servers: Vec<RawMember>,
}

#[derive(Deserialize, Serialize, Clone, PartialEq, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    #[serde(default = "tcp", rename = "type")]
    pub kind: String,
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
    pub status: Option<u16>,
    /// http: the Host header (default: none, the real server's address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
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
            kind: tcp(),
            connect_timeout: 3,
            delay_loop: 6,
            retry: 3,
            path: None,
            status: None,
            host: None,
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

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    pub name: String,
    #[serde(default = "weight_one")]
    pub weight: u32,
}

fn weight_one() -> u32 {
    1
}
