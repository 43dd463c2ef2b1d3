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
        Verb::Enable => sh!("systemctl enable {}", name),
        Verb::Disable => sh!("systemctl disable {}", name),
        Verb::Start => sh!("systemctl start {}", name),
        Verb::Stop => sh!("systemctl stop {}", name),
        // A changed unit file is read only after daemon-reload.
        Verb::Reload => sh!(
            "systemctl daemon-reload\nsystemctl reload-or-restart {}",
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
