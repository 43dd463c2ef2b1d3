//! The OS (from /etc/os-release, which decides the platform), the init system and the hostname.

use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "os";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Systemd,
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: String,
    pub id_like: String,
    pub version_id: String,
    pub major: u32,
}

pub fn fragment() -> Script {
    sh!("cat /etc/os-release 2>/dev/null\necho @@init; if [ -d /run/systemd/system ]; then echo systemd; else echo none; fi\necho @@hostname; hostname")
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

pub fn parse_init(lines: &[&str]) -> Init {
    if lines.first().map(|l| l.trim()) == Some("systemd") {
        Init::Systemd
    } else {
        Init::None
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
        assert_eq!(parse_init(&["systemd"]), Init::Systemd);
        assert_eq!(parse_init(&[]), Init::None);
        assert_eq!(parse_hostname(&["web01 "]), "web01");
    }
}
