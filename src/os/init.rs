//! Service verbs by init system: systemd's `systemctl`, or the sysvinit tools of the host's
//! family where nothing else runs (containers, old init).

use super::Init;
use crate::sh;
use crate::shell::Script;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Enable,
    Disable,
    Start,
    Stop,
    /// Reload, or restart when the service cannot reload.
    Reload,
    /// Reload (or restart) only a running service: one that is stopped reads its files when
    /// it starts, and must not be started by a file going away.
    TryReload,
}

/// How a sysvinit host links a service into its runlevels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sysv {
    /// Debian.
    UpdateRcD,
    /// The RHEL family.
    Chkconfig,
}

/// `verb` for the service `name` on a host booted by `init`.
pub fn service(init: Init, sysv: Sysv, name: &str, verb: Verb) -> Script {
    match init {
        Init::Systemd => systemctl(name, verb),
        Init::Sysv | Init::None => sysv_verb(sysv, name, verb),
    }
}

pub fn systemctl(name: &str, verb: Verb) -> Script {
    match verb {
        // Links only: their own daemon-reload re-reads every unit (seconds on a small VM) and
        // nothing here needs it; a unit whose file changed is started by `Reload`.
        Verb::Enable => sh!("systemctl --no-reload enable {}", name),
        Verb::Disable => sh!("systemctl --no-reload disable {}", name),
        Verb::Start => sh!("systemctl start {}", name),
        Verb::Stop => sh!("systemctl stop {}", name),
        // A changed unit file is read only after daemon-reload, which re-reads every unit: only
        // when systemd says this one changed (anything but a plain `=no`, e.g. an old systemctl,
        // reloads).
        Verb::Reload => sh!(
            "case $(systemctl show -p NeedDaemonReload {} 2>/dev/null) in *=no) ;; *) systemctl daemon-reload ;; esac\nsystemctl reload-or-restart {}",
            name,
            name
        ),
        // Not `reload-or-try-restart`: that fails on a unit whose file `down` just removed.
        Verb::TryReload => sh!(
            "if systemctl -q is-active {}; then systemctl reload-or-restart {}; fi",
            name,
            name
        ),
    }
}

fn sysv_verb(sysv: Sysv, name: &str, verb: Verb) -> Script {
    match (sysv, verb) {
        (Sysv::UpdateRcD, Verb::Enable) => sh!(
            "update-rc.d {} defaults >/dev/null 2>&1 || update-rc.d {} enable",
            name,
            name
        ),
        (Sysv::UpdateRcD, Verb::Disable) => {
            sh!("update-rc.d {} disable >/dev/null 2>&1 || true", name)
        }
        (Sysv::Chkconfig, Verb::Enable) => sh!("chkconfig {} on", name),
        (Sysv::Chkconfig, Verb::Disable) => sh!("chkconfig {} off || true", name),
        (_, Verb::Start) => sh!("service {} start", name),
        (_, Verb::Stop) => sh!("service {} stop", name),
        (_, Verb::Reload) => sh!("service {} reload || service {} restart", name, name),
        (_, Verb::TryReload) => sh!(
            "if service {} status >/dev/null 2>&1; then service {} reload || service {} restart; fi",
            name,
            name,
            name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the script for `verb` would run a daemon-reload, in a shell where `systemctl show`
    /// prints `show` and every other systemctl call is written to stderr.
    fn reloads(verb: Verb, show: &str) -> bool {
        let script = systemctl("keepalived", verb);
        let out = crate::shell::run_sh(&format!(
            "systemctl() {{ if [ \"$1\" = show ]; then echo '{show}'; else echo \"$*\" >&2; fi; }}\n{script}"
        ));
        let calls = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{script}: {calls}");
        assert!(
            calls.lines().last().unwrap_or("").ends_with("keepalived"),
            "{calls}"
        );
        calls.lines().any(|l| l == "daemon-reload")
    }

    #[test]
    fn a_reload_rereads_the_units_only_when_systemd_says_the_unit_changed() {
        assert!(!reloads(Verb::Reload, "NeedDaemonReload=no"));
        assert!(reloads(Verb::Reload, "NeedDaemonReload=yes"));
        // A systemctl that does not know the property (or fails) prints nothing: reload.
        assert!(reloads(Verb::Reload, ""));
        // `enable` and `disable` only link: their own implicit daemon-reload is asked off.
        for (verb, word) in [(Verb::Enable, "enable"), (Verb::Disable, "disable")] {
            let script = systemctl("keepalived", verb);
            assert_eq!(
                script.as_str(),
                format!("systemctl --no-reload {word} keepalived")
            );
        }
    }
}
