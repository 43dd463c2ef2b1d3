//! The inventory's `keepalived` section as written (see [`super::raw`]): VRRP, connection sync,
//! tracked scripts and NICs, notify hooks.

use super::raw::is_default;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Keepalived")]
pub struct RawKeepalived {
    /// Required; optional here so that its absence is said like any other problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 255))]
    pub virtual_router_id: Option<u16>,
    /// VRRPv2's PASS authentication, 1 to 8 characters; never printed. Left out with a fractional
    /// advert_int (VRRPv3 has no authentication).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 8))]
    pub auth_pass: Option<String>,
    /// Seconds between adverts, as written (`1`, `0.2`): a fraction means VRRPv3.
    #[serde(default = "one_second")]
    #[schemars(range(min = 0.01, max = 255))]
    pub advert_int: serde_json::Number,
    /// VRRP to the other directors' addresses instead of multicast to 224.0.0.18. Default: on
    /// whenever there are two or more directors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unicast: Option<bool>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub sync: RawSync,
    /// Commands keepalived runs every `interval` on each director: while one fails, that
    /// director's priority drops by its `weight` (or, with weight 0, it gives up its VIPs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_scripts: Vec<RawTrackScript>,
    /// NICs besides the VIP's (which keepalived always tracks) whose link going down makes a
    /// director give up its VIPs, e.g. its uplink.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_interfaces: Vec<String>,
    /// Commands keepalived runs on a director when one of its VRRP instances changes state.
    #[serde(default, skip_serializing_if = "is_default")]
    pub notify: RawNotify,
    /// Seconds a director that (re)starts waits before it takes its VIPs back from a peer
    /// serving them, so that the peer's connection sync fills its IPVS table first (failback
    /// without broken sessions). Default 0: at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub preempt_delay: Option<u32>,
}

/// keepalived's `vrrp_script`, tracked by every VRRP instance.
#[derive(Deserialize, Serialize, JsonSchema, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TrackScript")]
pub struct RawTrackScript {
    /// Letters, digits, `_` and `-`; unique.
    pub name: String,
    /// An absolute path and its arguments, run as root (no shell: words of letters, digits and
    /// `/._-+=:,@%` only). keepalived refuses a script a non-root user could change.
    pub script: String,
    /// Seconds between runs (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub interval: Option<u32>,
    /// Added to the priority while the script fails when negative (or while it passes when
    /// positive); 0 (the default): the director gives up its VIPs while it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -253, max = 253))]
    pub weight: Option<i32>,
    /// Failures in a row before it counts as failed (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub fall: Option<u32>,
    /// Successes in a row before it counts as passing again (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub rise: Option<u32>,
}

/// keepalived's notify hooks: each an absolute path and its arguments, run as root.
#[derive(Deserialize, Serialize, JsonSchema, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Notify")]
pub struct RawNotify {
    /// On every change, with `INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>` appended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// When keepalived stops the instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
}

/// IPVS connection sync between the directors (both daemons on each, run by lvsprov on systemd
/// hosts, by keepalived's `lvs_sync_daemon` elsewhere).
#[derive(Deserialize, Serialize, JsonSchema, Default, PartialEq)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Sync")]
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

fn one_second() -> serde_json::Number {
    1.into()
}
