//! A line present in a file (appended when missing), like lineinfile: for files that other
//! tools also write, where lvsprov must own one line and not the whole file.

use super::file::diff;
use super::{Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Probe};
use crate::host_state::{self, parent};
use crate::sh;
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
        let nl = if sep.is_empty() {
            sh!("")
        } else {
            sh!("echo >> \"$f\"")
        };
        Ok(vec![Change::new(
            format!("line in {}", self.path),
            if facts.files.contains_key(&self.path) {
                Action::Update
            } else {
                Action::Create
            },
            diff(&self.path, before, &after),
            sh!("mkdir -p {}\nf={}", parent(&self.path), self.path)
                .then(nl)
                .then(sh!("printf '%s\\n' {} >> \"$f\"", self.line)),
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
