//! Files (content, mode, whether lvsprov kept the pre-lvsprov copy) and directories (mode) that
//! the steps manage. Content travels as base64, so any byte survives the trip.

use super::{FactsError, Probe};
use crate::host_state::{backup_none, backup_path};
use crate::sh;
use crate::shell::Script;
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};

pub const TAG: &str = "files";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFact {
    pub mode: String,
    pub content: String,
}

pub fn fragment(p: &Probe) -> Script {
    let files = p.files.iter().map(|f| {
        sh!(
            "if [ -f {} ]; then printf '%s %s ' {} \"$(stat -c %a {})\"; base64 -w0 < {}; echo; fi; \
             if [ -e {} ] || [ -e {} ]; then echo @backup {}; fi",
            f, f, f, f, backup_path(f), backup_none(f), f
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

type Parsed = (
    BTreeMap<String, FileFact>,
    BTreeSet<String>,
    BTreeMap<String, String>,
);

pub fn parse(files: &[&str], dirs: &[&str]) -> Result<Parsed, FactsError> {
    let mut out = BTreeMap::new();
    let mut backups = BTreeSet::new();
    for line in files {
        if let Some(p) = line.strip_prefix("@backup ") {
            backups.insert(p.to_string());
            continue;
        }
        let mut w = line.splitn(3, ' ');
        let (Some(path), Some(mode)) = (w.next(), w.next()) else {
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(w.next().unwrap_or("").trim())
            .map_err(|e| FactsError::Garbled(format!("file {path}: bad base64 in facts ({e})")))?;
        out.insert(
            path.to_string(),
            FileFact {
                mode: mode.to_string(),
                content: String::from_utf8_lossy(&bytes).into_owned(),
            },
        );
    }
    let dirs = dirs
        .iter()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    Ok((out, backups, dirs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_mode_backups_and_dirs() {
        let (f, b, d) = parse(&["/etc/x 644 aGkK", "@backup /etc/x"], &["/opt/lvs 755"]).unwrap();
        assert_eq!(
            f["/etc/x"],
            FileFact {
                mode: "644".into(),
                content: "hi\n".into()
            }
        );
        assert!(b.contains("/etc/x"));
        assert_eq!(d["/opt/lvs"], "755");
        assert!(parse(&["/etc/x 644 !!"], &[]).is_err());
    }
}
