//! The OS (from /etc/os-release, which decides the platform), how the host boots (its init, and
//! whether ifupdown brings `/etc/network/interfaces.d` up), and the hostname, read into
//! [`crate::os`]'s types.

pub use crate::os::{Boot, Init, OsRelease};
use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "os";

pub fn fragment() -> Script {
    sh!("print_file /etc/os-release\n\
         echo @@init; if [ -d /run/systemd/system ]; then echo systemd; \
         elif [ -f /etc/inittab ] && read -r c 2>/dev/null </proc/1/comm && [ \"$c\" = init ]; then echo sysv; else echo none; fi\n\
         {}\n\
         [ -e /run/NetworkManager/NetworkManager.pid ] && echo networkmanager\n\
         echo @@hostname; print_file /proc/sys/kernel/hostname", ifupdown("/sbin/ifup", "/etc/network/interfaces"))
}

/// Prints `ifupdown` when `ifup` is installed and `interfaces` sources `interfaces.d` (`source`
/// or `source-directory`, any indent). The shell reads the file itself: a `grep` would be a
/// process on every run of every Debian host.
fn ifupdown(ifup: &str, interfaces: &str) -> Script {
    sh!(
        "[ -x {} ] && while read -r w1 w2 _; do case \"$w1 $w2\" in \
         ('source /etc/network/interfaces.d'*|'source-directory /etc/network/interfaces.d'*) echo ifupdown; break ;; \
         esac; done 2>/dev/null <{}",
        ifup,
        interfaces
    )
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

    /// The check as this machine's sh runs it, on interfaces files as Debian writes them.
    #[test]
    fn ifupdown_counts_only_when_interfaces_d_is_sourced() {
        let dir = std::env::temp_dir().join(format!("lvsprov-ifupdown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ifup = dir.join("ifup");
        std::fs::write(&ifup, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ifup, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("interfaces");
        let seen = |ifup: &std::path::Path, text: Option<&str>| {
            match text {
                Some(t) => std::fs::write(&file, t).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&file);
                }
            }
            let s = ifupdown(ifup.to_str().unwrap(), file.to_str().unwrap());
            // The facts script goes on after it, whatever the file.
            let out = crate::shell::run_sh(&format!("{}\necho next", s.as_str()));
            assert!(out.stderr.is_empty(), "{out:?}");
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(stdout.ends_with("next\n"), "{stdout:?}");
            stdout == "ifupdown\nnext\n"
        };
        let debian = "# interfaces(5)\n\nsource /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n";
        assert!(seen(&ifup, Some(debian)));
        assert!(seen(
            &ifup,
            Some("auto lo\n\t  source-directory   /etc/network/interfaces.d\n")
        ));
        assert!(!seen(
            &ifup,
            Some("auto lo\n# source /etc/network/interfaces.d/*\n")
        ));
        assert!(!seen(&ifup, Some("source /etc/network/other.d/*\n")));
        assert!(!seen(&ifup, None));
        assert!(!seen(&dir.join("no-ifup"), Some(debian)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
