//! A managed file, rendered from a template. Written atomically (`host_state::write_file`), its
//! mode kept. The first write keeps what was there before, so `down` can put it back.
//!
//! Diffs show both sides through [`crate::secret`]'s one rule (the value of an `auth_pass` line),
//! so a one-character password never hides a `1` anywhere else.

use super::{Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, FileFact, Probe};
use crate::host_state::{self, backup_none, backup_path, parent, Mode};
use crate::os::Verb;
use crate::secret;
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub path: String,
    /// The template under the playbooks folder; the loader renders it into `content`.
    pub template: Option<String>,
    #[serde(skip_serializing)]
    pub content: Option<Rendered>,
    /// e.g. "0644"; None keeps an existing file's mode (new files get 0644).
    pub mode: Option<String>,
    /// A service that must reload after this file changes.
    pub reload: Option<String>,
    /// A command that must accept the new content before it replaces the live file, e.g.
    /// `["keepalived", "-t", "-f", "%f"]`: `%f` is the new file (written beside the old one).
    pub validate: Option<Vec<String>>,
    /// A command told after the file changed (written or put back), for a reader that does not
    /// watch it: RHEL 7's NetworkManager rereads ifcfg files on `nmcli connection reload`.
    #[serde(default)]
    pub notify: Option<Vec<String>>,
    /// Extra values for the template (`vars.*`).
    #[serde(default)]
    pub vars: serde_json::Value,
}

/// A file's text as written on the host. What a diff shows of it goes through [`crate::secret`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "String")]
pub struct Rendered {
    pub text: String,
}

impl From<String> for Rendered {
    fn from(text: String) -> Self {
        Rendered { text }
    }
}

/// A unified diff of two texts, labelled with the path.
pub fn diff(path: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(path, path)
        .to_string()
}

/// Shell that writes `content` to `path` atomically, remembering the pre-lvsprov state on the first
/// write: a copy of the old file, or a marker saying there was none.
/// `check` must accept the new content before it replaces the old, `before_replace` runs once it
/// has (see [`host_state::atomic_write_checked`]).
pub struct Guard {
    pub check: Option<Script>,
    pub before_replace: Script,
    /// Refuse to replace a file that no longer has the bytes the facts read (someone edited it
    /// between facts and apply). Off when an earlier step of the same plan may write it itself
    /// (a package install ships files).
    pub unchanged_since_read: bool,
}

impl Guard {
    /// No check, nothing before the replace: a plain atomic write of a file nothing else in the
    /// plan writes.
    pub fn none() -> Guard {
        Guard {
            check: None,
            before_replace: Script::new(),
            unchanged_since_read: true,
        }
    }
}

/// Shell that fails, touching nothing, when `path` no longer has the bytes the facts read.
fn still_as_read(path: &str, read: &FileFact) -> Script {
    sh!(
        "if [ \"$(sha256sum < {} 2>/dev/null)\" != {} ]; then echo {} >&2; exit 1; fi",
        path,
        format!("{}  -", read.sha256),
        format!("{path} changed on this host after lvsprov read it (another tool or a hand edit in between); nothing was written to it; run again to see the new plan")
    )
}

pub fn write_script(
    path: &str,
    content: &str,
    mode: Option<&str>,
    guard: Guard,
    facts: &Facts,
) -> Script {
    let mut s = Script::new();
    if let Some(read) = facts.files.get(path).filter(|_| guard.unchanged_since_read) {
        s.push(still_as_read(path, read));
    }
    if !facts.backups.contains(path) {
        // What was there when the facts were read, i.e. before this run: a package installed
        // earlier in the same run (apache2's default page) is not what `down` should bring back.
        let b = backup_path(path);
        s.push(crate::host_state::ensure_dir(parent(&b)));
        s.push(if facts.files.contains_key(path) {
            sh!("cp -p {} {}", path, b)
        } else {
            sh!(": > {}", backup_none(path))
        });
    }
    let mode = match mode {
        Some(m) => Mode::Set(m),
        None => Mode::KeepOr("0644"),
    };
    s.then(host_state::atomic_write_checked(
        path,
        sh!("printf '%s' {}", content),
        mode,
        guard.check,
        guard.before_replace,
    ))
    .then(relabel(path, facts))
}

/// A file renamed into place keeps the label of the temp file (its folder's type, e.g. `etc_t`
/// where the policy wants `system_conf_t`) or of lvsprov's backup (`var_lib_t`, which keepalived
/// may not read): on a host whose SELinux labels files, it gets the label its path should have.
pub fn relabel(path: &str, facts: &Facts) -> Script {
    if facts.selinux.labels() {
        sh!("restorecon {}", path)
    } else {
        Script::new()
    }
}

/// Shell that undoes [`write_script`]: the old file back, or the file gone if there was none.
pub fn restore_script(path: &str, facts: &Facts) -> Script {
    let (b, none) = (backup_path(path), backup_none(path));
    let relabel = match relabel(path, facts) {
        r if r.is_empty() => r,
        r => sh!("{}; ", r),
    };
    sh!(
        "if [ -e {} ]; then mv -f {} {}; {}elif [ -e {} ]; then rm -f {} {}; else rm -f {}; fi\nrmdir -p {} 2>/dev/null || true",
        b, b, path, relabel, none, path, none, path, parent(&b)
    )
}

impl File {
    /// A file step a platform adds (the VIP's persistence, the rules' restore at boot).
    pub fn templated(path: &str, template: &str, vars: serde_json::Value) -> File {
        File {
            path: path.into(),
            template: Some(template.into()),
            content: None,
            mode: Some("0644".into()),
            reload: None,
            validate: None,
            notify: None,
            vars,
        }
    }
}

/// A managed path that is a symbolic link is refused: lvsprov runs as root, and reading, backing
/// up or writing through a link someone else planted would hand them any file on the host.
pub fn refuse_link(path: &str, facts: &Facts) -> Result<(), Refusal> {
    match facts.links.get(path) {
        None => Ok(()),
        Some(target) => Err(Refusal(format!(
            "{path} is a symbolic link (to {target}): lvsprov never reads or writes a managed file \
             through a link; replace it with a regular file (or remove it) and run again; nothing \
             was changed on this host"
        ))),
    }
}

/// Plans one file against the facts: create, update (content or mode) or nothing.
pub fn plan_file(
    path: &str,
    want: &Rendered,
    mode: Option<&str>,
    guard: Guard,
    facts: &Facts,
) -> Option<Change> {
    let resource = format!("file {path}");
    let content = want.text.as_str();
    match facts.files.get(path) {
        None => Some(Change::new(
            resource,
            Action::Create,
            diff(path, "", &secret::mask(content)),
            write_script(path, content, mode, guard, facts),
        )),
        Some(f) => {
            let want_mode = mode.map(|m| m.trim_start_matches('0'));
            let mode_differs = want_mode.is_some_and(|m| m != f.mode.trim_start_matches('0'));
            if f.content == content && !mode_differs {
                return None;
            }
            let mut d = diff(path, &secret::mask(&f.content), &secret::mask(content));
            if !facts.backups.contains(path) {
                // Not written by lvsprov until now: the operator should see a take-over as one.
                d.insert_str(0, &format!("{path}: not lvsprov's until now; this run takes it over and keeps the copy shown here for `down` to put back\n"));
            }
            if mode_differs {
                d.push_str(&format!("mode {} → {}\n", f.mode, mode.unwrap_or_default()));
            }
            Some(Change::new(
                resource,
                Action::Update,
                d,
                write_script(path, content, mode, guard, facts),
            ))
        }
    }
}

/// Plans the removal of a file lvsprov wrote (or its return to what it was before). A file with
/// no record of what was there before lvsprov's first write (a copy, or a mark that there was
/// none) is not lvsprov's: the package's `/etc/bird/bird.conf` on a VRRP director that never ran
/// ECMP, or a file `down` already gave back. Removing it would break the package's service.
pub fn plan_file_down(path: &str, facts: &Facts) -> Option<Change> {
    if !facts.backups.contains(path) {
        return None;
    }
    let current = facts.files.get(path);
    let before = secret::mask(current.map(|f| f.content.as_str()).unwrap_or(""));
    let d = format!("{path}: restored to the copy kept before the first `lvsprov up` (or removed if there was none)\n{}", diff(path, &before, ""));
    Some(Change::new(
        format!("file {path}"),
        Action::Delete,
        d,
        restore_script(path, facts),
    ))
}

impl Resource for File {
    fn probe(&self, probe: &mut Probe) {
        probe.files.insert(self.path.clone());
    }

    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, Refusal> {
        refuse_link(&self.path, facts)?;
        let body = self.content.clone().unwrap_or_default();
        let check = self.validate.as_deref().map(command);
        // Marked before the new file goes live: if this run dies before the reload, the next run
        // still owes it; a file its check refused owes nothing.
        let before_replace = match &self.reload {
            Some(svc) => sh!(
                "{}\n: > {}",
                host_state::ensure_dir(host_state::RELOAD_DIR),
                host_state::reload_marker(svc)
            ),
            None => Script::new(),
        };
        let guard = Guard {
            check,
            before_replace,
            unchanged_since_read: !owed.packages_changed,
        };
        let Some(change) = plan_file(&self.path, &body, self.mode.as_deref(), guard, facts) else {
            return Ok(vec![]);
        };
        if let Some(svc) = &self.reload {
            owed.reloads.insert(svc.clone());
        }
        Ok(vec![self.notified(change)])
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        if facts.links.contains_key(&self.path) {
            return vec![];
        }
        plan_file_down(&self.path, facts)
            .into_iter()
            .map(|c| self.notified(c))
            .map(|mut c| {
                // What the service read from the file stays live until it reads it again.
                if let Some(svc) = &self.reload {
                    let reload = facts
                        .platform
                        .service(facts.boot.init, svc, Verb::TryReload);
                    c.script = std::mem::take(&mut c.script).then(reload);
                }
                c
            })
            .collect()
    }
}

/// A playbook's argv as one command, each word quoted; `%f` is the new file beside the old one.
fn command(argv: &[String]) -> Script {
    let word = |a: &String| match a.as_str() {
        "%f" => Script::lit("\"$t\""),
        _ => sh!("{}", a.as_str()),
    };
    argv.iter().fold(Script::new(), |s, a| match s.is_empty() {
        true => word(a),
        false => sh!("{} {}", s, word(a)),
    })
}

impl File {
    fn notified(&self, mut change: Change) -> Change {
        if let Some(argv) = &self.notify {
            change.script = std::mem::take(&mut change.script).then(command(argv));
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The write script of a file read as "old\n", run by `sh` against a real file.
    fn run_update(path: &std::path::Path, edit_between: Option<&str>) -> std::process::Output {
        std::fs::write(path, "old\n").unwrap();
        let p = path.display().to_string();
        let mut facts =
            crate::facts::parse(include_str!("../../tests/facts/debian12-web01.txt")).unwrap();
        facts.files.insert(p.clone(), FileFact::new("644", "old\n"));
        facts.backups.insert(p.clone());
        let want = Rendered::from("new\n".to_string());
        let change = plan_file(&p, &want, Some("0644"), Guard::none(), &facts).unwrap();
        if let Some(text) = edit_between {
            std::fs::write(path, text).unwrap();
        }
        crate::shell::run_sh(&format!("set -e\n{}", change.script.as_str()))
    }

    #[test]
    fn a_file_edited_between_facts_and_apply_is_not_replaced() {
        let dir = std::env::temp_dir().join(format!("lvsprov-cas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("page.html");
        let out = run_update(&path, None);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");

        let out = run_update(&path, Some("edited by hand\n"));
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("changed on this host after lvsprov read it") && err.contains("run again"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "edited by hand\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
