//! No IPVS sync daemon where the inventory turned sync off. keepalived starts the kernel's sync
//! daemon for `lvs_sync_daemon`, but a reload (SIGHUP, what systemd's `reload` sends) without it
//! left the daemons running in the real-kernel lab, so the directors kept syncing against the
//! inventory (a failover then kept every established connection, as if sync were on).

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsSyncOff {}

impl Resource for IpvsSyncOff {
    fn probe(&self, probe: &mut Probe) {
        probe.ipvs = true;
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        if facts.sync_daemons.is_empty() {
            return Ok(vec![]);
        }
        let running: Vec<&str> = facts.sync_daemons.iter().map(String::as_str).collect();
        // keepalived's reload (an earlier step) is a signal: it acts after the step that sent
        // it, and sometimes stops a daemon itself, sometimes not. So: stop whatever runs, until
        // none has run for 2 s (bounded at 15 s).
        let stop = sh!(
            "quiet=0; n=0\nwhile [ $quiet -lt 4 ]; do\n  d=$(ipvsadm -L --daemon 2>/dev/null | awk '$2 == \"sync\" {{print $1}}')\n  if [ -z \"$d\" ]; then quiet=$((quiet+1)); else quiet=0; for x in $d; do ipvsadm --stop-daemon \"$x\" 2>/dev/null || true; done; fi\n  n=$((n+1)); if [ $n -gt 30 ]; then echo {} >&2; exit 1; fi\n  sleep 0.5\ndone",
            "IPVS sync daemons keep coming back after 15 s; is another keepalived or a script starting them?"
        );
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
