//! One lvsprov run at a time per host. The facts script takes an exclusive `flock` on a file in
//! /run and the run's shell keeps it until the shell ends (after apply, or after the facts for
//! `check`), so two runs never interleave their reads and writes on a host. The kernel lets go of
//! a flock when its holder's process ends: a run that died frees the host as soon as its shell
//! does (at the latest when the command it was running ends), with no stale lock to break by hand,
//! and a reboot (a fresh /run) frees it too. Steps run with the lock's descriptor closed, so a
//! daemon a step starts never inherits it.

use crate::host_state::write_file_locked;
use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "lock";
pub const DIR: &str = "/run/lvsprov";
pub const FILE: &str = "/run/lvsprov/lock";
pub const HOLDER: &str = "/run/lvsprov/holder";

/// Who takes the lock (shown to a run that finds it held), and how long to wait for it.
#[derive(Debug, Clone)]
pub struct Lock {
    pub holder: String,
    pub wait_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LockFact {
    Acquired,
    /// Another run holds the host: who, and since when.
    Held(String),
    /// The host has no `flock` (util-linux).
    Unavailable,
    /// The script did not get as far as the lock.
    Missing,
}

pub fn fragment(lock: &Lock) -> Script {
    let take = if lock.wait_secs == 0 {
        sh!("flock -n 9")
    } else {
        sh!("flock -w {} 9", lock.wait_secs)
    };
    // Forks are kept to flock and one mv: this runs on every run of every host.
    let record = write_file_locked(HOLDER, &format!("{}\n", lock.holder));
    sh!(
        "if ! command -v flock >/dev/null; then echo @@lock; echo unavailable; echo @@end; exit 0; fi\n\
         [ -d {} ] || mkdir -p {}\nexec 9>>{}\n\
         if {}; then\n{}\necho @@lock; echo acquired\n\
         else echo @@lock; echo held; cat {} 2>/dev/null; echo @@end; exit 0; fi",
        DIR,
        DIR,
        FILE,
        take,
        record,
        HOLDER
    )
}

pub fn parse(section: &[&str]) -> LockFact {
    match section.first().map(|l| l.trim()) {
        Some("acquired") => LockFact::Acquired,
        Some("held") => LockFact::Held(
            section
                .get(1)
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "a run that has not said who it is".into()),
        ),
        Some("unavailable") => LockFact::Unavailable,
        _ => LockFact::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_shell_is_refused_naming_the_first_and_gets_it_once_freed() {
        let dir = std::env::temp_dir().join(format!("lvsprov-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display().to_string();
        let local = |holder: &str, wait: u64| {
            fragment(&Lock {
                holder: holder.into(),
                wait_secs: wait,
            })
            .as_str()
            .replace(DIR, &d)
        };
        // The first holder keeps its shell (and the lock) for a second.
        let first = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{}\nsleep 1",
                local("run 1 by a@b (up) since 2026-11-26T00:00:00Z", 0)
            ))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let second = std::process::Command::new("sh")
            .arg("-c")
            .arg(local("run 2", 0))
            .output()
            .unwrap();
        let text = String::from_utf8(second.stdout).unwrap();
        let sections = crate::facts::sections(&text);
        match parse(&sections["lock"]) {
            LockFact::Held(h) => assert_eq!(h, "run 1 by a@b (up) since 2026-11-26T00:00:00Z"),
            other => panic!("{other:?}: {text}"),
        }
        let third = std::process::Command::new("sh")
            .arg("-c")
            .arg(local("run 3", 5))
            .output()
            .unwrap();
        let text = String::from_utf8(third.stdout).unwrap();
        assert_eq!(
            parse(&crate::facts::sections(&text)["lock"]),
            LockFact::Acquired,
            "waited for it"
        );
        first.wait_with_output().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
