//! The inventory JSON as written: strings where the user may be wrong, so the validator can say
//! what is wrong with each one (and all of them at once) instead of stopping at the first.

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    pub network: String,
    #[serde(default)]
    pub ssh: RawSsh,
    pub keepalived: Option<RawKeepalived>,
    /// Default for every host's `persist`.
    pub persist: Option<bool>,
    /// The directors' IPVS behaviour under churn.
    #[serde(default)]
    pub ipvs: RawIpvs,
    #[serde(default)]
    pub directors: Vec<RawHost>,
    #[serde(default)]
    pub real_servers: Vec<RawHost>,
    #[serde(default)]
    pub services: Vec<RawService>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIpvs {
    pub conn_reuse_mode: Option<u32>,
    pub expire_nodest_conn: Option<u32>,
    pub expire_quiescent_template: Option<u32>,
    #[serde(default)]
    pub timeouts: RawIpvsTimeouts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawIpvsTimeouts {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSsh {
    /// Where to reach the host for SSH (management address or name), when not its LVS address.
    pub host: Option<String>,
    /// Bastions to go through, OpenSSH's `-J` syntax: `[user@]host[:port]`, comma-separated;
    /// `"none"` on a host overrides a top-level jump.
    pub jump: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_file: Option<String>,
    pub known_hosts: Option<String>,
    pub sudo: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeepalived {
    pub virtual_router_id: u16,
    pub auth_pass: String,
    #[serde(default = "one")]
    pub advert_int: u16,
    #[serde(default)]
    pub sync: RawSync,
}

/// IPVS connection sync between the directors (keepalived's `lvs_sync_daemon`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    /// Default: on whenever there are two or more directors.
    pub enabled: Option<bool>,
    /// Default: the NIC the VIP is on.
    pub interface: Option<String>,
    /// Default: the virtual_router_id.
    pub id: Option<u16>,
}

fn one() -> u16 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    pub name: String,
    pub address: String,
    pub nic: Option<String>,
    pub priority: Option<u16>,
    pub page: Option<String>,
    /// false: converge the live state only; nothing is set up to come back at boot (a container
    /// with no init). Default true: a host that boots nothing lvsprov can hook is refused.
    pub persist: Option<bool>,
    #[serde(default)]
    pub ssh: RawSsh,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub vip: String,
    pub port: u16,
    #[serde(default = "tcp")]
    pub protocol: String,
    #[serde(default = "rr")]
    pub scheduler: String,
    pub persistence_timeout: Option<u32>,
    #[serde(default)]
    pub health_check: RawHealthCheck,
    pub real_servers: Vec<RawMember>,
}

#[derive(Deserialize, Clone)]
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
}

impl Default for RawHealthCheck {
    fn default() -> Self {
        RawHealthCheck {
            kind: tcp(),
            connect_timeout: 3,
            delay_loop: 6,
            retry: 3,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    pub name: String,
    #[serde(default = "weight_one")]
    pub weight: u32,
}

fn weight_one() -> u32 {
    1
}
