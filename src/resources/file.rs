//! A managed file, rendered from a template. Written atomically (temp file in the same folder, then
//! rename), its mode kept. The first write keeps what was there before, so `down` can put it back.

use super::{Action, Change, DownOptions, Owed, Resource};
use crate::facts::{backup_path, Facts, Probe, STATE_DIR};
use crate::shell::quote;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub path: String,
    /// The template under the playbooks folder; the loader renders it into `content`.
    pub template: Option<String>,
    pub content: Option<String>,
    /// e.g. "0644"; None keeps an existing file's mode (new files get 0644).
    pub mode: Option<String>,
    /// A service that must reload after this file changes.
    pub reload: Option<String>,
    /// Extra values for the template (`vars.*`).
    #[serde(default)]
    pub vars: serde_json::Value,
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
pub fn write_script(path: &str, content: &str, mode: Option<&str>, facts: &Facts) -> String {
    let p = quote(path);
    let b = backup_path(path);
    let dir = path
        .rsplit_once('/')
        .map(|(d, _)| if d.is_empty() { "/" } else { d })
        .unwrap_or(".");
    let mut s = String::new();
    if !facts.backups.contains(path) {
        // What was there when the facts were read, i.e. before this run: a package installed
        // earlier in the same run (apache2's default page) is not what `down` should bring back.
        let (bq, bdir) = (
            quote(&b),
            quote(b.rsplit_once('/').map(|(d, _)| d).unwrap_or(STATE_DIR)),
        );
        let keep = if facts.files.contains_key(path) {
            format!("cp -p {p} {bq}")
        } else {
            format!(": > {bq}.none")
        };
        s.push_str(&format!("mkdir -p {bdir}\n{keep}\n"));
    }
    let mode_line = match mode {
        Some(m) => format!("chmod {} \"$t\"", quote(m)),
        None => {
            format!("if [ -e {p} ]; then chmod --reference={p} \"$t\"; else chmod 0644 \"$t\"; fi")
        }
    };
    s.push_str(&format!(
        "mkdir -p {d}\nt=$(mktemp {d}/.lvsprov.XXXXXX)\nprintf '%s' {c} > \"$t\"\n{mode_line}\nmv -f \"$t\" {p}",
        d = quote(dir),
        c = quote(content),
    ));
    s
}

/// Shell that undoes [`write_script`]: the old file back, or the file gone if there was none.
pub fn restore_script(path: &str) -> String {
    let (p, b) = (quote(path), quote(&backup_path(path)));
    let none = quote(&format!("{}.none", backup_path(path)));
    let bdir = quote(
        backup_path(path)
            .rsplit_once('/')
            .map(|(d, _)| d)
            .unwrap_or(STATE_DIR),
    );
    format!(
        "if [ -e {b} ]; then mv -f {b} {p}; elif [ -e {none} ]; then rm -f {p} {none}; else rm -f {p}; fi\nrmdir -p {bdir} 2>/dev/null || true"
    )
}

impl File {
    fn body(&self) -> &str {
        self.content.as_deref().unwrap_or("")
    }
}

/// Plans one file against the facts: create, update (content or mode) or nothing.
pub fn plan_file(path: &str, content: &str, mode: Option<&str>, facts: &Facts) -> Option<Change> {
    let resource = format!("file {path}");
    match facts.files.get(path) {
        None => Some(Change::new(
            resource,
            Action::Create,
            diff(path, "", content),
            write_script(path, content, mode, facts),
        )),
        Some(f) => {
            let want_mode = mode.map(|m| m.trim_start_matches('0'));
            let mode_differs = want_mode.is_some_and(|m| m != f.mode.trim_start_matches('0'));
            if f.content == content && !mode_differs {
                return None;
            }
            let mut d = diff(path, &f.content, content);
            if mode_differs {
                d.push_str(&format!("mode {} → {}\n", f.mode, mode.unwrap_or_default()));
            }
            Some(Change::new(
                resource,
                Action::Update,
                d,
                write_script(path, content, mode, facts),
            ))
        }
    }
}

/// Plans the removal of a file lvsprov wrote (or its return to what it was before).
pub fn plan_file_down(path: &str, facts: &Facts) -> Option<Change> {
    let current = facts.files.get(path);
    let had_backup = facts.backups.contains(path);
    if current.is_none() && !had_backup {
        return None;
    }
    let before = current.map(|f| f.content.as_str()).unwrap_or("");
    let d = if had_backup {
        format!("{path}: restored to the copy kept before the first `lvsprov up` (or removed if there was none)\n{}", diff(path, before, ""))
    } else {
        diff(path, before, "")
    };
    Some(Change::new(
        format!("file {path}"),
        Action::Delete,
        d,
        restore_script(path),
    ))
}

impl Resource for File {
    fn probe(&self, probe: &mut Probe) {
        probe.files.insert(self.path.clone());
    }

    fn plan(&self, facts: &Facts, owed: &mut Owed) -> Result<Vec<Change>, String> {
        let Some(mut change) = plan_file(&self.path, self.body(), self.mode.as_deref(), facts)
        else {
            return Ok(vec![]);
        };
        if let Some(svc) = &self.reload {
            // Marked before the write: if this run dies before the reload, the next run still owes it.
            let marker = format!("{STATE_DIR}/reload/{svc}");
            change.script = format!(
                "mkdir -p {STATE_DIR}/reload\n: > {}\n{}",
                quote(&marker),
                change.script
            );
            owed.reloads.insert(svc.clone());
        }
        Ok(vec![change])
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        plan_file_down(&self.path, facts).into_iter().collect()
    }
}
