//! The bottom layer: which OS a host runs and how it boots, and the commands that differ by OS
//! below any resource (its package manager, its init system's service verbs, where its ipvsadm
//! keeps saved rules). Facts are parsed into these types, resources ask them for commands, and
//! platforms (`crate::platform`) build on them how a host persists things at boot. Nothing here
//! uses another module of the crate but `shell`.
//!
//! A new OS is one arm in [`PlatformId`] (and [`detect`]), its package manager and init verbs
//! below if they are new, and its file in `platform/`.

pub mod init;
pub mod packages;
pub mod sockets;

pub use init::Verb;
pub use packages::PackageManager;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformId {
    Debian,
    Rhel7,
    Rhel8,
}

impl PlatformId {
    pub const ALL: [PlatformId; 3] = [PlatformId::Debian, PlatformId::Rhel7, PlatformId::Rhel8];

    pub fn packages(self) -> PackageManager {
        match self {
            PlatformId::Debian => PackageManager::Apt,
            PlatformId::Rhel7 => PackageManager::Yum,
            PlatformId::Rhel8 => PackageManager::Dnf,
        }
    }

    /// The family whose sysvinit tools enable a service (`update-rc.d` or `chkconfig`).
    pub fn sysv(self) -> init::Sysv {
        match self {
            PlatformId::Debian => init::Sysv::UpdateRcD,
            PlatformId::Rhel7 | PlatformId::Rhel8 => init::Sysv::Chkconfig,
        }
    }

    /// `verb` for the service `name` on this platform booted by `init`.
    pub fn service(self, init: Init, name: &str, verb: Verb) -> crate::shell::Script {
        init::service(init, self.sysv(), name, verb)
    }

    /// Where the OS's ipvsadm package reads saved rules at boot (`ipvsadm-save` output).
    pub fn ipvs_rules_file(self) -> &'static str {
        match self {
            PlatformId::Debian => "/etc/ipvsadm.rules",
            PlatformId::Rhel7 | PlatformId::Rhel8 => "/etc/sysconfig/ipvsadm",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Systemd,
    /// sysvinit: `/etc/init.d` scripts and their rc links run at boot.
    Sysv,
    /// Nothing that starts anything at boot (a container's docker-init, a shell as PID 1).
    None,
}

/// What runs at boot that lvsprov can hook persistence into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Boot {
    pub init: Init,
    /// ifupdown is installed and `/etc/network/interfaces` sources `interfaces.d`.
    pub ifupdown: bool,
    /// NetworkManager runs: it reads ifcfg files only when told (`nmcli connection reload`).
    pub network_manager: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: String,
    pub id_like: String,
    pub version_id: String,
    pub major: u32,
}

/// Which platform a host is, from /etc/os-release. Err: the reason it is refused.
pub fn detect(os: &OsRelease) -> Result<PlatformId, String> {
    let like = |w: &str| os.id == w || os.id_like.split_whitespace().any(|l| l == w);
    if os.id == "ubuntu" || like("ubuntu") {
        return Err(format!(
            "{} {}: Ubuntu keeps addresses in netplan, which never reads /etc/network/interfaces.d, \
             so lvsprov cannot persist the VIP there yet; nothing was changed on this host",
            os.id, os.version_id
        ));
    }
    if like("debian") {
        return Ok(PlatformId::Debian);
    }
    if ["rhel", "centos", "rocky", "almalinux", "ol", "fedora"]
        .iter()
        .any(|w| like(w))
    {
        return match (os.id.as_str(), os.major) {
            ("fedora", _) => Ok(PlatformId::Rhel8),
            (_, 7) => Ok(PlatformId::Rhel7),
            (_, m) if m >= 8 => Ok(PlatformId::Rhel8),
            (_, m) => Err(format!(
                "{} {m}: lvsprov supports RHEL 7 and later (systemd, firewalld); nothing was changed on this host",
                os.id
            )),
        };
    }
    Err(format!(
        "unsupported OS {:?} (ID_LIKE {:?}): lvsprov knows Debian, RHEL 7 and RHEL 8+ and their rebuilds; nothing was changed on this host",
        os.id, os.id_like
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, like: &str, version: &str) -> OsRelease {
        OsRelease {
            id: id.into(),
            id_like: like.into(),
            version_id: version.into(),
            major: version.split('.').next().unwrap().parse().unwrap_or(0),
        }
    }

    #[test]
    fn known_systems_map_to_their_platform_and_others_are_refused() {
        assert_eq!(detect(&os("debian", "", "12")), Ok(PlatformId::Debian));
        assert_eq!(
            detect(&os("centos", "rhel fedora", "7")),
            Ok(PlatformId::Rhel7)
        );
        assert_eq!(
            detect(&os("rocky", "rhel centos fedora", "9.4")),
            Ok(PlatformId::Rhel8)
        );
        assert!(detect(&os("ubuntu", "debian", "24.04"))
            .unwrap_err()
            .contains("netplan"));
        assert!(detect(&os("centos", "rhel fedora", "6"))
            .unwrap_err()
            .contains("RHEL 7 and later"));
        assert!(detect(&os("alpine", "", "3.20"))
            .unwrap_err()
            .contains("unsupported OS"));
    }
}
