//! Files (content, mode, whether lvsprov kept the pre-lvsprov copy) and directories (mode) that
//! the steps manage. Content travels as `od` hex, so any byte survives the trip. A managed path that
//! is a symbolic link is reported as a link and never read: root following a link a user planted
//! (the docroot's `index.html` → `/etc/shadow`) would put that file in the diff and the backup.

use super::{FactsError, Probe};
use crate::host_state::{backup_none, backup_path};
use crate::sh;
use crate::shell::Script;
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
    // Regular files are gathered in "$@": one `stat` for their modes and sizes and one `od` for all
    // their bytes, instead of two processes per file (forks are most of a no-op run's cost on the
    // host). `od` takes any number of files where `base64` takes one, so it is one process where
    // `cat | base64` was two; its hex is three bytes a byte, and managed files are configuration.
    // A link's target is shown in the refusal; a line break in it (a name anyone who can plant the
    // link chooses) would start a line of its own in this section, and could pass for a file's
    // `@stat` or bytes.
    let files = p.files.iter().map(|f| {
        sh!(
            "if [ -L {} ]; then _t=$(readlink {}); case $_t in *'\n'*) _t='a name with a line break';; esac; printf '%s @link %s\\n' {} \"$_t\"; \
             elif [ -f {} ]; then set -- \"$@\" {}; fi; \
             if [ -e {} ] || [ -e {} ]; then echo @backup {}; fi",
            f,
            f,
            f,
            f,
            f,
            backup_path(f),
            backup_none(f),
            f
        )
    });
    let dirs = p
        .dirs
        .iter()
        .map(|d| sh!("if [ -d {} ]; then set -- \"$@\" {}; fi", d, d));
    sh!("set --")
        .then(Script::lines(files))
        .then(sh!(
            "if [ $# -gt 0 ]; then stat -c '@stat %a %s %n' -- \"$@\"; echo @od; od -An -v -tx1 -- \"$@\"; fi\n\
             echo @@dirs; set --"
        ))
        .then(Script::lines(dirs))
        .then(sh!("if [ $# -gt 0 ]; then stat -c '%n %a' -- \"$@\"; fi"))
}

/// The `@@files` section's lines for these regular files (path, mode, bytes), as the fragment
/// prints them: recorded facts and tests are written through it.
pub fn section_lines(files: &[(&str, &str, &[u8])]) -> String {
    if files.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let mut all = Vec::new();
    for (path, mode, bytes) in files {
        out.push_str(&format!("@stat {mode} {} {path}\n", bytes.len()));
        all.extend_from_slice(bytes);
    }
    out.push_str("@od\n");
    for row in all.chunks(16) {
        for b in row {
            out.push_str(&format!(" {b:02x}"));
        }
        out.push('\n');
    }
    out
}

/// A line of `od -An` output (it starts with a space; no other line of the section does).
fn is_hex(line: &str) -> bool {
    line.starts_with(' ')
}

/// Files, paths with a pre-lvsprov copy, directories (mode), symbolic links (target).
type Parsed = (
    BTreeMap<String, FileFact>,
    BTreeSet<String>,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
);

/// The regular files of a `@@files` section: (path, mode, bytes), in the order read.
fn contents(files: &[&str]) -> Result<Vec<(String, String, Vec<u8>)>, FactsError> {
    let mut stats = Vec::new();
    // The bytes follow their group of `@stat` lines; groups (facts pieced together) add up in order.
    // `@blob` (base64) is how facts recorded before `od` carry them.
    let mut blob = Vec::new();
    for line in files {
        if let Some(s) = line.strip_prefix("@stat ") {
            let mut w = s.splitn(3, ' ');
            let (Some(mode), Some(size), Some(path)) = (w.next(), w.next(), w.next()) else {
                return Err(FactsError::Garbled(format!(
                    "facts: a bad file line {line:?}"
                )));
            };
            let size: usize = size
                .parse()
                .map_err(|_| FactsError::Garbled(format!("facts: a bad file size in {line:?}")))?;
            stats.push((path.to_string(), mode.to_string(), size));
        } else if is_hex(line) {
            for h in line.split_whitespace() {
                blob.push(
                    u8::from_str_radix(h, 16)
                        .ok()
                        .filter(|_| h.len() == 2)
                        .ok_or_else(|| {
                            FactsError::Garbled(format!(
                                "facts: bad hex in the files' content ({h:?})"
                            ))
                        })?,
                );
            }
        } else if let Some(b) = line.strip_prefix("@blob") {
            use base64::Engine;
            blob.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .map_err(|e| {
                        FactsError::Garbled(format!(
                            "facts: bad base64 in the files' content ({e})"
                        ))
                    })?,
            );
        }
    }
    let total: usize = stats.iter().map(|s| s.2).sum();
    if total != blob.len() {
        return Err(FactsError::Garbled(format!(
            "the managed files changed while lvsprov read them ({} bytes by their sizes, {} read: {}); run again",
            total,
            blob.len(),
            stats.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut at = 0;
    Ok(stats
        .into_iter()
        .map(|(path, mode, size)| {
            at += size;
            (path, mode, blob[at - size..at].to_vec())
        })
        .collect())
}

pub fn parse(files: &[&str], dirs: &[&str]) -> Result<Parsed, FactsError> {
    let mut backups = BTreeSet::new();
    let mut links = BTreeMap::new();
    for line in files {
        if let Some(p) = line.strip_prefix("@backup ") {
            backups.insert(p.to_string());
        } else if let Some((path, target)) = line
            .split_once(" @link ")
            .filter(|_| !line.starts_with('@'))
        {
            links.insert(path.to_string(), target.to_string());
        }
    }
    let out = contents(files)?
        .into_iter()
        .map(|(path, mode, bytes)| {
            let fact = FileFact::from_bytes(&mode, &bytes);
            (path, fact)
        })
        .collect();
    let dirs = dirs
        .iter()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    Ok((out, backups, dirs, links))
}

/// The facts output with every `auth_pass` value in a file's content masked by [`crate::secret`]'s rule, for
/// `--dump-facts`: a recording is shared and kept, a VRRP password must not be in it.
pub fn mask_secrets(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut section = "";
    // The files section is rewritten whole: masking changes the sizes its `@stat` lines give.
    let mut held: Vec<&str> = Vec::new();
    let flush = |held: &mut Vec<&str>, out: &mut String| {
        let lines: Vec<&str> = held.iter().map(|l| l.trim_end_matches('\n')).collect();
        match contents(&lines) {
            Ok(files) => {
                for l in held.iter().filter(|l| {
                    !l.starts_with("@stat ")
                        && !l.starts_with("@blob")
                        && !l.starts_with("@od")
                        && !is_hex(l)
                }) {
                    out.push_str(l);
                }
                let masked: Vec<(String, String, Vec<u8>)> = files
                    .into_iter()
                    .map(|(p, m, b)| {
                        let text = String::from_utf8_lossy(&b);
                        let b = match crate::secret::mask(&text) {
                            std::borrow::Cow::Owned(m) => m.into_bytes(),
                            std::borrow::Cow::Borrowed(_) => b.clone(),
                        };
                        (p, m, b)
                    })
                    .collect();
                let refs: Vec<(&str, &str, &[u8])> = masked
                    .iter()
                    .map(|(p, m, b)| (p.as_str(), m.as_str(), b.as_slice()))
                    .collect();
                out.push_str(&section_lines(&refs));
            }
            // Unreadable content is dropped rather than kept unmasked.
            Err(_) => {
                for l in held
                    .iter()
                    .filter(|l| !l.starts_with("@blob") && !is_hex(l))
                {
                    out.push_str(l);
                }
            }
        }
        held.clear();
    };
    for line in raw.split_inclusive('\n') {
        if let Some(tag) = line.strip_prefix("@@") {
            if section == TAG {
                flush(&mut held, &mut out);
            }
            section = if tag.trim() == TAG { TAG } else { "" };
            out.push_str(line);
        } else if section == TAG {
            held.push(line);
        } else {
            out.push_str(line);
        }
    }
    if section == TAG {
        flush(&mut held, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_mode_backups_and_dirs() {
        let section = section_lines(&[("/etc/x", "644", b"hi\n"), ("/etc/my file", "600", b"")]);
        let mut lines: Vec<&str> = section.lines().collect();
        lines.extend([
            "@backup /etc/x",
            "/var/www/html/index.html @link /etc/shadow",
        ]);
        let (f, b, d, l) = parse(&lines, &["/opt/lvs 755", "/opt/a dir 700"]).unwrap();
        assert_eq!(l["/var/www/html/index.html"], "/etc/shadow");
        assert!(!f.contains_key("/var/www/html/index.html"));
        assert_eq!(f["/etc/x"], FileFact::new("644", "hi\n"));
        assert_eq!(f["/etc/my file"], FileFact::new("600", ""));
        assert!(b.contains("/etc/x"));
        assert_eq!(d["/opt/lvs"], "755");
        assert_eq!(d["/opt/a dir"], "700");
        assert!(parse(&["@stat 644 3 /etc/x", "@blob !!"], &[]).is_err());
        assert!(parse(&["@stat 644 1 /etc/x", "@od", " 6g"], &[]).is_err());
        assert!(parse(&["@stat 644 1 /etc/x", "@od", " 686"], &[]).is_err());
        // Facts recorded before `od` carry the bytes as base64.
        let (old, ..) = parse(&["@stat 644 3 /etc/x", "@blob aGkK"], &[]).unwrap();
        assert_eq!(old["/etc/x"], FileFact::new("644", "hi\n"));
    }

    #[test]
    fn a_file_that_changed_between_its_size_and_its_bytes_is_no_fact() {
        // stat said 3 bytes, cat read 2: the content of neither moment can be told apart.
        let e = parse(&["@stat 644 3 /etc/x", "@od", " 68 69"], &[]).unwrap_err();
        assert!(
            e.to_string().contains("changed while lvsprov read them"),
            "{e}"
        );
        assert!(e.to_string().contains("/etc/x"), "{e}");
    }

    #[test]
    fn the_fragment_forks_per_run_not_per_file() {
        let mut p = Probe::default();
        for k in 0..5 {
            p.files.insert(format!("/etc/f{k}"));
        }
        p.dirs.insert("/opt/lvs".into());
        let s = fragment(&p);
        assert_eq!(s.as_str().matches("stat -c").count(), 2, "{}", s.as_str());
        assert_eq!(s.as_str().matches("od -An").count(), 1, "{}", s.as_str());
    }

    /// The fragment as this machine's sh runs it: one file and several, any bytes (past `od`'s
    /// 16 a line), come back exactly.
    /// The fragment for these files as this machine's sh runs it: its files section, parsed.
    fn run(files: impl IntoIterator<Item = String>) -> (String, Parsed) {
        let mut p = Probe::default();
        p.files.extend(files);
        let out = crate::shell::run_sh(fragment(&p).as_str());
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().take_while(|l| *l != "@@dirs").collect();
        let parsed = parse(&lines, &[]).unwrap();
        (text, parsed)
    }

    #[test]
    fn one_file_or_several_come_back_byte_for_byte() {
        let dir = std::env::temp_dir().join(format!("lvsprov-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = |n: &str| dir.join(n).display().to_string();
        let bytes: [&[u8]; 3] = [b"a\n", b"\0\xff no newline, and past sixteen bytes *", b""];
        for (k, b) in bytes.iter().enumerate() {
            std::fs::write(at(&format!("f{k}")), b).unwrap();
        }
        let read = |names: &[&str]| run(names.iter().map(|n| at(n))).1 .0;
        let one = read(&["f1"]);
        assert_eq!(one.len(), 1);
        assert_eq!(one[&at("f1")], FileFact::from_bytes("644", bytes[1]));
        let all = read(&["f0", "f1", "f2"]);
        for (k, b) in bytes.iter().enumerate() {
            assert_eq!(all[&at(&format!("f{k}"))], FileFact::from_bytes("644", b));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A planted link whose target holds line breaks shaped like this section's lines is reported
    /// as a link, and adds no file and no bytes.
    #[test]
    fn a_link_target_cannot_forge_a_file() {
        let dir = std::env::temp_dir().join(format!("lvsprov-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = |n: &str| dir.join(n).display().to_string();
        std::fs::write(at("real"), b"ok\n").unwrap();
        let forged = format!("x\n@stat 644 2 {}\n@od\n 68 69", at("forged"));
        std::os::unix::fs::symlink(&forged, at("link")).unwrap();
        let (text, (files, _, _, links)) = run([at("link"), at("real"), at("forged")]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(links[&at("link")], "a name with a line break", "{text}");
        assert_eq!(
            files.keys().cloned().collect::<Vec<_>>(),
            vec![at("real")],
            "{text}"
        );
        assert_eq!(files[&at("real")].content, "ok\n");
    }

    #[test]
    fn dumped_facts_never_hold_a_vrrp_password() {
        let conf = "vrrp_instance VI {\n    authentication {\n        auth_pass s3cr3t\n    }\n}\n";
        let raw = format!(
            "@@os\nID=debian\n@@files\n@backup /etc/x\n{}@@dirs\n",
            section_lines(&[
                ("/etc/keepalived/keepalived.conf", "640", conf.as_bytes()),
                ("/etc/x", "644", b"hi\n")
            ])
        );
        let masked = mask_secrets(&raw);
        let hex = |t: &str| -> String {
            t.lines()
                .filter(|l| is_hex(l))
                .flat_map(|l| l.split_whitespace())
                .collect()
        };
        let secret: String = b"s3cr3t".iter().map(|b| format!("{b:02x}")).collect();
        assert!(hex(&raw).contains(&secret));
        assert!(!hex(&masked).contains(&secret), "{masked}");
        assert!(masked.contains("@backup /etc/x\n"));
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
