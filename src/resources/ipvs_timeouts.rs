//! IPVS's connection timeouts (`ipvsadm --set TCP TCPFIN UDP`): how long the director remembers
//! an idle connection. The values before lvsprov are recorded on the host beside the sysctls',
//! so `down` puts them back; keepalived re-applies the inventory's at boot (`lvs_timeouts`).

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::host_state;
use crate::inventory::IpvsTuning;
use crate::sh;
use serde::{Deserialize, Serialize};

/// The line that records the old timeouts in the sysctl record (not a real sysctl key).
const RECORD_KEY: &str = "ipvs.timeouts";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsTimeouts {
    pub tcp: u32,
    pub tcpfin: u32,
    pub udp: u32,
}

impl IpvsTimeouts {
    fn shown(self) -> String {
        format!(
            "tcp {} s, tcpfin {} s, udp {} s",
            self.tcp, self.tcpfin, self.udp
        )
    }

    fn record(self) -> String {
        format!("{} {} {}", self.tcp, self.tcpfin, self.udp)
    }

    fn parse_record(s: &str) -> Option<IpvsTimeouts> {
        let v: Vec<u32> = s
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        match v[..] {
            [tcp, tcpfin, udp] => Some(IpvsTimeouts { tcp, tcpfin, udp }),
            _ => None,
        }
    }

    /// What the host has now: read with ipvsadm, or the kernel's own before ipvsadm is installed
    /// (nothing but ipvsadm or keepalived sets them).
    fn now(facts: &Facts) -> IpvsTimeouts {
        facts.ipvs_timeouts.map_or(
            IpvsTimeouts {
                tcp: IpvsTuning::KERNEL.tcp,
                tcpfin: IpvsTuning::KERNEL.tcpfin,
                udp: IpvsTuning::KERNEL.udp,
            },
            |[tcp, tcpfin, udp]| IpvsTimeouts { tcp, tcpfin, udp },
        )
    }

    fn set(self) -> crate::shell::Script {
        sh!("ipvsadm --set {} {} {}", self.tcp, self.tcpfin, self.udp)
    }
}

impl Resource for IpvsTimeouts {
    fn probe(&self, probe: &mut Probe) {
        probe.ipvs = true;
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let now = Self::now(facts);
        if now == *self {
            return Ok(vec![]);
        }
        let script =
            host_state::remember(&facts.sysctl_orig, RECORD_KEY, &now.record()).then(self.set());
        Ok(vec![Change::new(
            "ipvs timeouts",
            Action::Update,
            arrow(&now.shown(), &self.shown()),
            script,
        )])
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let Some(orig) = facts
            .sysctl_orig
            .get(RECORD_KEY)
            .and_then(|s| Self::parse_record(s))
        else {
            return vec![];
        };
        let now = Self::now(facts);
        if now == orig {
            return vec![];
        }
        vec![Change::new(
            "ipvs timeouts",
            Action::Update,
            arrow(&now.shown(), &orig.shown()),
            orig.set(),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_reads_back() {
        let t = IpvsTimeouts {
            tcp: 900,
            tcpfin: 120,
            udp: 300,
        };
        assert_eq!(IpvsTimeouts::parse_record(&t.record()), Some(t));
        assert_eq!(IpvsTimeouts::parse_record("900 120"), None);
    }
}
