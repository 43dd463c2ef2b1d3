//! Files (content, mode, whether lvsprov kept the pre-lvsprov copy) and directories (mode) that
//! the steps manage. Content travels as base64, so any byte survives the trip. A managed path that
//! is a symbolic link is reported as a link and never read: root following a link a user planted
//! (the docroot's `index.html` → `/etc/shadow`) would put that file in the diff and the backup.

use super::{FactsError, Probe};
use crate::host_state::{backup_none, backup_path};
use crate::resources::file::MASK;
use crate::sh;
use crate::shell::Script;
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};

pub const TAG: &str = "files";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFact {
    pub mode: String,
    pub content: String,
    /// SHA-256 of the exact bytes read (as `sha256sum` prints it): the apply checks the file still
    /// has them before it replaces it.
    pub sha256: String,
}

impl FileFact {
    pub fn from_bytes(mode: &str, bytes: &[u8]) -> FileFact {
        use sha2::Digest;
        FileFact {
            mode: mode.to_string(),
            content: String::from_utf8_lossy(bytes).into_owned(),
            sha256: format!("{:x}", sha2::Sha256::digest(bytes)),
        }
    }

    pub fn new(mode: impl AsRef<str>, content: impl AsRef<str>) -> FileFact {
        FileFact::from_bytes(mode.as_ref(), content.as_ref().as_bytes())
    }
}

pub fn fragment(p: &Probe) -> Script {
    let files = p.files.iter().map(|f| {
        sh!(
            "if [ -L {} ]; then printf '%s @link %s\\n' {} \"$(readlink {})\"; \
             elif [ -f {} ]; then printf '%s %s ' {} \"$(stat -c %a {})\"; base64 -w0 < {}; echo; fi; \
             if [ -e {} ] || [ -e {} ]; then echo @backup {}; fi",
            f, f, f, f, f, f, f, backup_path(f), backup_none(f), f
        )
    });
    let dirs = p.dirs.iter().map(|d| {
        sh!(
            "if [ -d {} ]; then printf '%s %s\\n' {} \"$(stat -c %a {})\"; fi",
            d,
            d,
            d
        )
    });
    Script::lines(files)
        .then(sh!("echo @@dirs"))
        .then(Script::lines(dirs))
}

/// Files, paths with a pre-lvsprov copy, directories (mode), symbolic links (target).
type Parsed = (
    BTreeMap<String, FileFact>,
    BTreeSet<String>,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
);

pub fn parse(files: &[&str], dirs: &[&str]) -> Result<Parsed, FactsError> {
    let mut out = BTreeMap::new();
    let mut backups = BTreeSet::new();
    let mut links = BTreeMap::new();
    for line in files {
        if let Some(p) = line.strip_prefix("@backup ") {
            backups.insert(p.to_string());
            continue;
        }
        let mut w = line.splitn(3, ' ');
        let (Some(path), Some(mode)) = (w.next(), w.next()) else {
            continue;
        };
        if mode == "@link" {
            links.insert(path.to_string(), w.next().unwrap_or("").to_string());
            continue;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(w.next().unwrap_or("").trim())
            .map_err(|e| FactsError::Garbled(format!("file {path}: bad base64 in facts ({e})")))?;
        out.insert(path.to_string(), FileFact::from_bytes(mode, &bytes));
    }
    let dirs = dirs
        .iter()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    Ok((out, backups, dirs, links))
}

/// The facts output with every `auth_pass` value in a file's content replaced by [`MASK`], for
/// `--dump-facts`: a recording is shared and kept, a VRRP password must not be in it.
pub fn mask_secrets(raw: &str) -> String {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let mut section = "";
    let mut out = String::with_capacity(raw.len());
    for line in raw.split_inclusive('\n') {
        if let Some(tag) = line.strip_prefix("@@") {
            section = if tag.trim() == TAG { TAG } else { "" };
        } else if section == TAG {
            let mut w = line.trim_end().splitn(3, ' ');
            if let (Some(path), Some(mode), Some(data)) = (w.next(), w.next(), w.next()) {
                if let Ok(bytes) = b64.decode(data) {
                    let text = String::from_utf8_lossy(&bytes);
                    if text.contains("auth_pass") {
                        let masked: String = text
                            .split_inclusive('\n')
                            .map(|l| match l.find("auth_pass") {
                                Some(i) if l[..i].trim().is_empty() => {
                                    format!("{}auth_pass {MASK}\n", &l[..i])
                                }
                                _ => l.to_string(),
                            })
                            .collect();
                        out.push_str(&format!("{path} {mode} {}\n", b64.encode(masked)));
                        continue;
                    }
                }
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_mode_backups_and_dirs() {
        let (f, b, d, l) = parse(
            &[
                "/etc/x 644 aGkK",
                "@backup /etc/x",
                "/var/www/html/index.html @link /etc/shadow",
            ],
            &["/opt/lvs 755"],
        )
        .unwrap();
        assert_eq!(l["/var/www/html/index.html"], "/etc/shadow");
        assert!(!f.contains_key("/var/www/html/index.html"));
        assert_eq!(f["/etc/x"], FileFact::new("644", "hi\n"));
        assert!(b.contains("/etc/x"));
        assert_eq!(d["/opt/lvs"], "755");
        assert!(parse(&["/etc/x 644 !!"], &[]).is_err());
    }

    #[test]
    fn dumped_facts_never_hold_a_vrrp_password() {
        let conf = "vrrp_instance VI {\n    authentication {\n        auth_pass s3cr3t\n    }\n}\n";
        let b64 = &base64::engine::general_purpose::STANDARD;
        let raw = format!(
            "@@os\nID=debian\n@@files\n/etc/keepalived/keepalived.conf 640 {}\n/etc/x 644 aGkK\n@@dirs\n",
            b64.encode(conf)
        );
        let masked = mask_secrets(&raw);
        assert!(!masked.contains(&b64.encode(conf)));
        let (f, ..) = parse(
            &masked
                .lines()
                .skip_while(|l| *l != "@@files")
                .skip(1)
                .take_while(|l| *l != "@@dirs")
                .collect::<Vec<_>>(),
            &[],
        )
        .unwrap();
        let text = &f["/etc/keepalived/keepalived.conf"].content;
        assert!(
            text.contains("        auth_pass ********\n") && !text.contains("s3cr3t"),
            "{text}"
        );
        assert_eq!(f["/etc/x"].content, "hi\n");
    }
}
