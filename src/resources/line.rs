//! A line present in a file (appended when missing), like lineinfile: for files that other
//! tools also write, where lvsprov must own one line and not the whole file.

use super::file::diff;
use super::{Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::host_state::{self, Mode};
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub path: String,
    pub line: String,
}

impl Line {
    fn present<'a>(&self, facts: &'a Facts) -> Option<&'a str> {
        let f = facts.files.get(&self.path)?;
        f.content
            .lines()
            .any(|l| l == self.line)
            .then_some(f.content.as_str())
    }
}

impl Resource for Line {
    fn probe(&self, probe: &mut Probe) {
        probe.files.insert(self.path.clone());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        super::file::refuse_link(&self.path, facts)?;
        if self.present(facts).is_some() {
            return Ok(vec![]);
        }
        let before = facts
            .files
            .get(&self.path)
            .map(|f| f.content.as_str())
            .unwrap_or("");
        let sep = if before.is_empty() || before.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let after = format!("{before}{sep}{}\n", self.line);
        // The whole file is rewritten with the line added (atomically), not appended to in place.
        let producer = sh!(
            "cat {} 2>/dev/null || true\n{}printf '%s\\n' {}",
            self.path,
            if sep.is_empty() {
                Script::new()
            } else {
                sh!("echo\n")
            },
            self.line
        );
        Ok(vec![Change::new(
            format!("line in {}", self.path),
            if facts.files.contains_key(&self.path) {
                Action::Update
            } else {
                Action::Create
            },
            diff(&self.path, before, &after),
            host_state::atomic_write(&self.path, producer, Mode::KeepOr("0644")),
        )])
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let Some(before) = self.present(facts) else {
            return vec![];
        };
        let after: String = before
            .lines()
            .filter(|l| *l != self.line)
            .map(|l| format!("{l}\n"))
            .collect();
        vec![Change::new(
            format!("line in {}", self.path),
            Action::Delete,
            diff(&self.path, before, &after),
            host_state::remove_line(&self.path, &self.line),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{parse, FileFact};

    #[test]
    fn the_line_is_added_whole_file_at_once_after_a_missing_newline() {
        let dir = std::env::temp_dir().join(format!("lvsprov-line-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.html").display().to_string();
        std::fs::write(&path, "old").unwrap();
        let mut facts = parse(include_str!("../../tests/facts/debian12-web01.txt")).unwrap();
        facts
            .files
            .insert(path.clone(), FileFact::new("644", "old"));
        let line = Line {
            path: path.clone(),
            line: "<h1>it's me</h1>".into(),
        };
        let change = &line.plan(&facts, &mut Owed::default()).unwrap()[0];
        assert!(change.diff.contains("+<h1>it's me</h1>"));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(change.script.as_str())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "old\n<h1>it's me</h1>\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
