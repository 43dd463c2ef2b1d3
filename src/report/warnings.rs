//! What an `up` (or its `check`) did or would do that a user serving traffic should know before
//! it bites: neither is a failure, so each is a warning with the way around it.

use super::{Command, Report};
use crate::resources::Action;

/// The file whose `unicast_peer` block decides how a director sends its VRRP adverts.
const KEEPALIVED_CONF: &str = "file /etc/keepalived/keepalived.conf";

impl Report {
    /// Every warning the hosts' changes call for.
    pub fn warn(&mut self) {
        if !matches!(self.command, Command::Up | Command::Check) {
            return;
        }
        if self.rolling.is_none() {
            self.warn_if_not_rolling();
        }
        self.warn_if_vrrp_transport_changes();
    }

    fn verb<'a>(&self, done: &'a str, planned: &'a str) -> &'a str {
        if self.dry_run {
            planned
        } else {
            done
        }
    }

    /// A plain `up` that restarts or reloads a serving web server on more than one real server
    /// at once may cut off their clients together: say so, and how to avoid it.
    fn warn_if_not_rolling(&mut self) {
        let hit = self.hosts_where("real_server", |c| c.interrupts);
        if hit.len() > 1 {
            let verb = self.verb("restarted or reloaded", "would restart or reload");
            self.warnings.push(format!(
                "{} {verb} the web server on {} real servers at once ({}); `up --rolling` drains each first so no client is cut off",
                self.command.name(),
                hit.len(),
                hit.join(", ")
            ));
        }
    }

    /// keepalived does not keep an instance's state over a reload that moves its adverts between
    /// multicast and unicast: every director starts the election again as BACKUP, the MASTER
    /// resigns on the way (its backup may hold the VIP for a moment) and takes the VIP back
    /// about three adverts later (measured in the real-kernel lab at advert_int 1: lvs01 BACKUP
    /// 3.4 s, the VIP on no director for up to 2.2 s, new connections refused meanwhile).
    fn warn_if_vrrp_transport_changes(&mut self) {
        let hit = self.vrrp_transport_moved();
        if !hit.is_empty() {
            let verb = self.verb("moved", "would move");
            self.warnings.push(format!(
                "{} {verb} VRRP between multicast and unicast on {}: keepalived starts its election again on that reload, so each VIP is away for about three adverts (a few seconds) and may visit a backup; do it in a quiet moment",
                self.command.name(),
                hit.join(", ")
            ));
        }
    }

    /// The directors whose keepalived.conf moves its VRRP adverts between multicast and unicast.
    pub fn vrrp_transport_moved(&self) -> Vec<String> {
        // The instances stay: a director that gains or loses one (a master per VIP, ECMP in
        // place of VRRP) is not switching the transport of those it keeps.
        self.hosts_where("director", |c| {
            let changed = |what: &str| {
                c.diff.lines().any(|l| {
                    let l = l.strip_prefix(['+', '-']).unwrap_or("");
                    l.trim_start().starts_with(what)
                })
            };
            c.resource == KEEPALIVED_CONF
                && c.action == Action::Update
                && changed("unicast_peer {")
                && !changed("vrrp_instance ")
        })
    }

    fn hosts_where(
        &self,
        role: &str,
        change: impl Fn(&crate::resources::Change) -> bool,
    ) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|h| h.role == role && h.changes.iter().any(&change))
            .map(|h| h.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{HostReport, Status};
    use crate::resources::Change;
    use crate::shell::Script;

    fn director(name: &str, changes: Vec<Change>) -> HostReport {
        HostReport {
            name: name.into(),
            address: "192.0.2.1".into(),
            role: "director".into(),
            status: Status::Changed,
            changes,
            error: None,
            error_kind: None,
            notes: vec![],
        }
    }

    fn conf(action: Action, diff: &str) -> Change {
        Change::new(KEEPALIVED_CONF, action, diff, Script::default())
    }

    fn warnings(command: Command, hosts: Vec<HostReport>) -> Vec<String> {
        let mut r = Report::new(command, hosts, 0);
        r.dry_run = command == Command::Check;
        r.warn();
        r.warnings
    }

    #[test]
    fn moving_vrrp_between_multicast_and_unicast_is_named_per_director() {
        let to_unicast = "@@ -20,2 +20,6 @@\n     advert_int 1\n+    unicast_src_ip 192.0.2.11\n+    unicast_peer {\n+        192.0.2.12\n+    }\n";
        let to_multicast = to_unicast.replace("\n+", "\n-");
        let hosts = vec![
            director("lvs01", vec![conf(Action::Update, to_unicast)]),
            director("lvs02", vec![conf(Action::Update, &to_multicast)]),
        ];
        let w = warnings(Command::Check, hosts.clone());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(
                "check would move VRRP between multicast and unicast on lvs01, lvs02:"
            ),
            "{}",
            w[0]
        );
        assert!(warnings(Command::Up, hosts)[0].starts_with("up moved VRRP"));
    }

    #[test]
    fn a_first_conf_a_changed_peer_or_a_dropped_instance_warns_of_nothing() {
        let first = "@@ -0,0 +1,3 @@\n+    unicast_peer {\n+        192.0.2.12\n+    }\n";
        let peer_changed = "@@ -21,3 +21,3 @@\n     unicast_peer {\n-        192.0.2.12\n+        192.0.2.13\n     }\n";
        let to_ecmp = "@@ -8,20 +8,2 @@\n-vrrp_instance VI_LVSPROV {\n-    state MASTER\n-    unicast_peer {\n-        192.0.2.12\n-    }\n-}\n";
        let hosts = vec![
            director("lvs01", vec![conf(Action::Create, first)]),
            director("lvs02", vec![conf(Action::Update, peer_changed)]),
            director("lvs03", vec![conf(Action::Update, to_ecmp)]),
        ];
        assert_eq!(warnings(Command::Up, hosts.clone()), Vec::<String>::new());
        assert_eq!(warnings(Command::Down, hosts), Vec::<String>::new());
    }
}
