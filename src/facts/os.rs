//! The OS (from /etc/os-release, which decides the platform), how the host boots (its init, and
//! whether ifupdown brings `/etc/network/interfaces.d` up), and the hostname.

use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "os";

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

pub fn fragment() -> Script {
    sh!("print_file /etc/os-release\n\
         echo @@init; if [ -d /run/systemd/system ]; then echo systemd; \
         elif [ -f /etc/inittab ] && [ \"$(cat /proc/1/comm 2>/dev/null)\" = init ]; then echo sysv; else echo none; fi\n\
         [ -x /sbin/ifup ] && grep -qsE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\\.d' /etc/network/interfaces && echo ifupdown\n\
         [ -e /run/NetworkManager/NetworkManager.pid ] && echo networkmanager\n\
         echo @@hostname; print_file /proc/sys/kernel/hostname")
}

pub fn parse(lines: &[&str]) -> OsRelease {
    let field = |k: &str| {
        lines
            .iter()
            .filter_map(|l| l.split_once('='))
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let version_id = field("VERSION_ID");
    OsRelease {
        id: field("ID"),
        id_like: field("ID_LIKE"),
        major: version_id
            .split('.')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        version_id,
    }
}

pub fn parse_boot(lines: &[&str]) -> Boot {
    let init = match lines.first().map(|l| l.trim()) {
        Some("systemd") => Init::Systemd,
        Some("sysv") => Init::Sysv,
        _ => Init::None,
    };
    Boot {
        init,
        ifupdown: lines.iter().skip(1).any(|l| l.trim() == "ifupdown"),
        network_manager: lines.iter().skip(1).any(|l| l.trim() == "networkmanager"),
    }
}

pub fn parse_hostname(lines: &[&str]) -> String {
    lines
        .first()
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_os_release_fields_quoted_or_not() {
        let os = parse(&[
            "NAME=\"Rocky Linux\"",
            "ID=\"rocky\"",
            "ID_LIKE=\"rhel centos fedora\"",
            "VERSION_ID=\"9.4\"",
        ]);
        assert_eq!(
            (os.id.as_str(), os.id_like.as_str(), os.major),
            ("rocky", "rhel centos fedora", 9)
        );
        assert_eq!(parse_boot(&["systemd"]).init, Init::Systemd);
        assert_eq!(
            parse_boot(&["sysv", "ifupdown"]),
            Boot {
                init: Init::Sysv,
                ifupdown: true,
                network_manager: false,
            }
        );
        assert!(parse_boot(&["systemd", "networkmanager"]).network_manager);
        assert_eq!(parse_boot(&[]).init, Init::None);
        assert_eq!(parse_hostname(&["web01 "]), "web01");
    }
}
