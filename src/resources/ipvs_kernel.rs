//! The director's kernel must have IPVS. Checked first, so a director that cannot balance is
//! refused before anything is changed on it.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Ipvs, Probe};
use crate::sh;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsKernel {}

pub const NO_IPVS: &str =
    "this kernel has no IPVS (no /proc/net/ip_vs, no ip_vs module): load ip_vs \
(modprobe ip_vs) or boot a kernel built with CONFIG_IP_VS; nothing was changed on this host";

impl Resource for IpvsKernel {
    fn probe(&self, probe: &mut Probe) {
        probe.ipvs = true;
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        match facts.ipvs {
            Ipvs::Available(_) => Ok(vec![]),
            Ipvs::Module => Ok(vec![Change::new(
                "kernel module ip_vs",
                Action::Update,
                arrow("not loaded", "loaded"),
                // At boot /etc/modules-load.d/lvsprov.conf (a file step) loads it.
                sh!("modprobe ip_vs"),
            )]),
            Ipvs::Absent => Err(Refusal(NO_IPVS.to_string())),
            Ipvs::Unread => Err(Refusal::unread("IPVS state")),
        }
    }

    fn down(&self, _: &Facts, _: DownOptions) -> Vec<Change> {
        vec![]
    }
}
