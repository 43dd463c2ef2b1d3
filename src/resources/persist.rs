//! Intents a playbook states and a platform fulfils: the VIP back on a device at boot, the IPVS
//! rules restored at boot. The playbook loader replaces each by the platform's own steps
//! (`platform::Platform::persist_vip` / `persist_ipvs`), so a playbook never says how an OS does it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersistVip {
    /// `lo` on a real server, the NIC on a lone director.
    pub dev: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersistIpvs {}

/// The IPVS sync daemons (`ipvs_sync`) started again at boot, before keepalived.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PersistIpvsSync {
    pub interface: String,
    pub id: u8,
}

/// keepalived owns the IPVS table: nothing may restore a saved one at boot.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoIpvsRestore {}
