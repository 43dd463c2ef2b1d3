//! No IPVS sync daemon where the inventory turned sync off. keepalived starts the kernel's sync
//! daemon for `lvs_sync_daemon`, but a reload (SIGHUP, what systemd's `reload` sends) without it
//! left the daemons running in the real-kernel lab, so the directors kept syncing against the
//! inventory (a failover then kept every established connection, as if sync were on).

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsSyncOff {}

impl Resource for IpvsSyncOff {
    fn probe(&self, _: &mut Probe) {}

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        if facts.sync_daemons.is_empty() {
            return Ok(vec![]);
        }
        let running: Vec<&str> = facts.sync_daemons.iter().map(String::as_str).collect();
        // keepalived's reload (an earlier step) sometimes stops a daemon itself: one already
        // gone is what this step wants, not a failure.
        let stop = running.iter().fold(Script::new(), |s, d| {
            s.then(sh!(
                "ipvsadm --stop-daemon {} 2>/dev/null || ! ipvsadm -L --daemon | grep -q {}",
                *d,
                format!("^{d} sync")
            ))
        });
        Ok(vec![Change::new(
            "ipvs sync daemon",
            Action::Update,
            arrow(
                &running.join(", "),
                "stopped (sync is off in the inventory)",
            ),
            stop,
        )])
    }

    /// keepalived's own stop ends the daemons it started.
    fn down(&self, _: &Facts, _: DownOptions) -> Vec<Change> {
        vec![]
    }
}
