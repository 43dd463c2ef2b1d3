//! One lvsprov run at a time per host. The facts script takes an exclusive `flock` on a file in
//! /run and the run's shell keeps it until the shell ends (after apply, or after the facts for
//! `check`), so two runs never interleave their reads and writes on a host. The kernel lets go of
//! a flock when its holder's process ends: a run that died frees the host as soon as its shell
//! does (at the latest when the command it was running ends), with no stale lock to break by hand,
//! and a reboot (a fresh /run) frees it too. Steps run with the lock's descriptor closed, so a
//! daemon a step starts never inherits it.
//!
//! A holder whose controller vanished without closing the connection (a laptop off the network)
//! keeps its shell, and so the lock, until sshd notices, which can take hours. So the holder
//! records a lease: longer than its own controller would ever let it run (two scripts of
//! `--timeout` each, plus the connection). A run that finds the lock held past that lease ends
//! the holder's session on the host (its shell and whatever that shell was running) and takes the
//! lock, saying so in its report; an interrupted apply is what the next `up` finishes anyway.

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
    /// Seconds after which a run that still holds the host is taken to be abandoned.
    pub lease_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LockFact {
    Acquired,
    /// Another run holds the host: who, and since when.
    Held(String),
    /// The lock was held past its lease: that run's session on the host was ended and the lock
    /// taken (who it was).
    TakenOver(String),
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
    // Forks are kept to flock and one mv: this runs on every run of every host. The lease's start
    // is the holder file's mtime, read with the host's own clock.
    let tmp = format!("{HOLDER}.new");
    let record = sh!(
        "printf '%s\\nlease=%s pid=%s\\n' {} {} \"$$\" > {}\nmv -f {} {}",
        lock.holder.as_str(),
        lock.lease_secs.to_string(),
        tmp,
        tmp,
        HOLDER
    );
    sh!(
        "if ! command -v flock >/dev/null; then echo @@lock; echo unavailable; echo @@end; exit 0; fi\n\
         {}\nexec 9>>{}\n\
         if {}; then\n{}\necho @@lock; echo acquired\n\
         elif {} && flock -w 10 9; then\nold=$(head -n 1 {})\n{}\necho @@lock; echo taken; printf '%s\\n' \"$old\"\n\
         else {}
echo @@lock; echo held; head -n 1 {} 2>/dev/null; echo @@end; exit 0; fi",
        crate::host_state::ensure_dir(DIR),
        FILE,
        take,
        record.clone(),
        end_if_past_lease(),
        HOLDER,
        record,
        named_by_holder(),
        HOLDER
    )
}

/// The holder file is written just after the lock is taken: a run refused in between would name
/// the previous holder. Wait (up to 2 s) until the file names a process that holds the lock.
fn named_by_holder() -> Script {
    sh!(
        "i=0; while [ $i -lt 20 ]; do p=$(sed -n 's/^lease=[0-9]* pid=\\([0-9]*\\)$/\\1/p' {} 2>/dev/null);          [ -n \"$p\" ] && [ \"$(readlink /proc/$p/fd/9 2>/dev/null)\" = {} ] && break; sleep 0.1; i=$((i+1)); done",
        HOLDER,
        FILE
    )
}

/// Shell that succeeds after ending the holder's session when its lease has run out (the holder
/// file's mtime plus its lease, on the host's clock); fails, touching nothing, otherwise.
fn end_if_past_lease() -> Script {
    sh!(
        "{{ set -- $(sed -n 's/^lease=\\([0-9]*\\) pid=\\([0-9]*\\)$/\\1 \\2/p' {} 2>/dev/null)\n\
         [ $# = 2 ] && [ $(( $(date +%s) - $(stat -c %Y {}) )) -gt \"$1\" ] &&\n\
         [ \"$(readlink /proc/$2/fd/9 2>/dev/null)\" = {} ] &&\n\
         read -r _ _ _ _ _ sid _ < /proc/$2/stat && read -r _ _ _ _ _ own _ < /proc/$$/stat &&\n\
         [ \"$sid\" -gt 1 ] && [ \"$sid\" != \"$own\" ] &&\n\
         {{ for p in /proc/[0-9]*; do read -r _ _ _ _ _ s _ < $p/stat 2>/dev/null && [ \"$s\" = \"$sid\" ] && kill -9 ${{p#/proc/}} 2>/dev/null; done; true; }}; }}",
        HOLDER,
        HOLDER,
        FILE
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
        Some("taken") => LockFact::TakenOver(
            section
                .get(1)
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
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
                lease_secs: 600,
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
        let second = crate::shell::run_sh(&local("run 2", 0));
        let text = String::from_utf8(second.stdout).unwrap();
        let sections = crate::facts::sections(&text);
        match parse(&sections["lock"]) {
            LockFact::Held(h) => assert_eq!(h, "run 1 by a@b (up) since 2026-11-26T00:00:00Z"),
            other => panic!("{other:?}: {text}"),
        }
        let third = crate::shell::run_sh(&local("run 3", 5));
        let text = String::from_utf8(third.stdout).unwrap();
        assert_eq!(
            parse(&crate::facts::sections(&text)["lock"]),
            LockFact::Acquired,
            "waited for it"
        );
        first.wait_with_output().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_holder_past_its_lease_has_its_session_ended_and_the_lock_taken() {
        let dir = std::env::temp_dir().join(format!("lvsprov-lease-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display().to_string();
        let local = |holder: &str, lease: u64| {
            fragment(&Lock {
                holder: holder.into(),
                wait_secs: 0,
                lease_secs: lease,
            })
            .as_str()
            .replace(DIR, &d)
        };
        // An abandoned holder in a session of its own (as an SSH session is), with a child that
        // would outlive it; its lease is 1 s.
        let mut first = std::process::Command::new("setsid")
            .arg("sh")
            .arg("-c")
            .arg(format!("{}\nsleep 60 & sleep 60", local("run 1 (up)", 1)))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let text = |out: std::process::Output| String::from_utf8(out.stdout).unwrap();
        let early = text(crate::shell::run_sh(&local("run 2", 600)));
        assert_eq!(
            parse(&crate::facts::sections(&early)["lock"]),
            LockFact::Held("run 1 (up)".into()),
            "within its lease the holder keeps the host"
        );
        std::thread::sleep(std::time::Duration::from_millis(2500));
        let late = text(crate::shell::run_sh(&local("run 3", 600)));
        assert_eq!(
            parse(&crate::facts::sections(&late)["lock"]),
            LockFact::TakenOver("run 1 (up)".into()),
            "{late}"
        );
        let status = first.wait().unwrap();
        assert!(
            !status.success(),
            "the abandoned holder was ended: {status}"
        );
        let holder = std::fs::read_to_string(dir.join("holder")).unwrap();
        assert!(holder.starts_with("run 3\nlease=600 pid="), "{holder}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
