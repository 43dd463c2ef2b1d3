//! IPVS connection sync, run by lvsprov rather than by keepalived's `lvs_sync_daemon`: keepalived
//! stops its daemons when it stops, so a director whose keepalived was stopped for a failover
//! (or maintenance) missed how the sessions it had served ended on its peer, and when it took the
//! VIP back it kept them ESTABLISHED for the TCP timeout: a new connection that reused such a
//! client port went to that entry's real server, drained or removed ones included. Both daemons
//! on every director, all the time, also sync both ways when each director holds some VIPs.
//!
//! And no IPVS sync daemon where the inventory turned sync off. keepalived starts the kernel's sync
//! daemon for `lvs_sync_daemon`, but a reload (SIGHUP, what systemd's `reload` sends) without it
//! left the daemons running in the real-kernel lab, so the directors kept syncing against the
//! inventory (a failover then kept every established connection, as if sync were on).

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::sh;
use serde::{Deserialize, Serialize};

/// Both sync daemons running over `interface` with `id`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IpvsSync {
    pub interface: String,
    pub id: u8,
}

const ROLES: [&str; 2] = ["master", "backup"];

impl IpvsSync {
    /// As `ipvsadm -L --daemon` shows a daemon's arguments.
    fn args(&self) -> String {
        format!("mcast={}, syncid={}", self.interface, self.id)
    }

    fn start(&self, role: &str) -> crate::shell::Script {
        sh!(
            "ipvsadm --start-daemon {} --mcast-interface {} --syncid {}",
            role,
            self.interface.as_str(),
            self.id
        )
    }
}

impl Resource for IpvsSync {
    fn probe(&self, probe: &mut Probe) {
        probe.ipvs = true;
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let want = self.args();
        if ROLES
            .iter()
            .all(|r| facts.sync_daemons.get(*r) == Some(&want))
        {
            return Ok(vec![]);
        }
        let now: Vec<String> = facts
            .sync_daemons
            .iter()
            .map(|(r, a)| format!("{r} ({a})"))
            .collect();
        let now = if now.is_empty() {
            "none".to_string()
        } else {
            now.join(", ")
        };
        // keepalived's reload of a conf that no longer names `lvs_sync_daemon` (an earlier step)
        // acts after that step and may stop the daemons it had started: so, until both have run
        // as wanted for 2 s (bounded at 15 s), (re)start whichever is missing or different.
        let mut fix = crate::shell::Script::new();
        for role in ROLES {
            fix.push(sh!(
                "  l=$(ipvsadm -L --daemon 2>/dev/null | grep '^{} sync daemon' || true)\n  case \"$l\" in {}|{}*) ;;\n  *) ok=0; [ -z \"$l\" ] || ipvsadm --stop-daemon {} 2>/dev/null || true\n    {} 2>/dev/null || true ;;\n  esac",
                role,
                format!("{role} sync daemon ({want})"),
                format!("{role} sync daemon ({want}, "),
                role,
                self.start(role)
            ));
        }
        let script = sh!("ok=0; n=0\nwhile [ $ok -lt 4 ]; do\n  ok=$((ok+1))")
            .then(fix)
            .then(sh!(
                "  n=$((n+1)); if [ $n -gt 30 ]; then echo {} >&2; ipvsadm -L --daemon >&2; exit 1; fi\n  sleep 0.5\ndone",
                "the IPVS sync daemons would not stay running for 2 s in 15 s; is another keepalived (with lvs_sync_daemon) or a script stopping them?"
            ));
        Ok(vec![Change::new(
            "ipvs sync daemons",
            Action::Update,
            arrow(
                &now,
                &format!("master and backup ({want}), apart from keepalived"),
            ),
            script,
        )])
    }

    /// What `up` started, stopped (the boot unit's own stop runs only where it started them).
    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        if facts.sync_daemons.is_empty() {
            return vec![];
        }
        let mut stop = crate::shell::Script::new();
        for role in facts.sync_daemons.keys() {
            stop.push(sh!(
                "ipvsadm --stop-daemon {} 2>/dev/null || true",
                role.as_str()
            ));
        }
        vec![Change::new(
            "ipvs sync daemons",
            Action::Delete,
            arrow(
                &facts
                    .sync_daemons
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                "stopped",
            ),
            stop,
        )]
    }
}

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
        let running: Vec<&str> = facts.sync_daemons.keys().map(String::as_str).collect();
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
