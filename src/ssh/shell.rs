//! One shell on a host, fed scripts on its stdin. A run keeps the same shell from reading facts
//! to the end of apply, so what the facts script takes (the host's lock) is held until the shell
//! ends: when the run finishes, or when its connection dies and the shell reads end-of-file.
//! Every read is bounded by the exec timeout and [`MAX_OUTPUT`].

use super::{broken, SshError};
use crate::shell::Script;
use russh::client::Msg;
use russh::{Channel, ChannelMsg};
use std::time::Duration;

/// A host may send this much per script; more is a broken or hostile host, cut off.
pub const MAX_OUTPUT: usize = 64 << 20;

/// sudo reading its password from stdin (`-S`) with a prompt of lvsprov's own, then a root
/// shell that first says it runs; only then does lvsprov send the script.
pub const SUDO_WITH_PASSWORD: &str =
    "sudo -S -p '[lvsprov] sudo password: ' /bin/sh -c 'echo @@lvsprov-root; exec /bin/sh -s'";
const ROOT_MARKER: &str = "@@lvsprov-root";

pub struct Output {
    /// The shell's exit status, or 0 when the part ended at its marker with the shell still open.
    pub status: u32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Shell {
    ch: Channel<Msg>,
    sudo: bool,
    exec_timeout: Duration,
    ended: bool,
}

impl Shell {
    pub(super) fn new(ch: Channel<Msg>, sudo: bool, exec_timeout: Duration) -> Shell {
        Shell {
            ch,
            sudo,
            exec_timeout,
            ended: false,
        }
    }

    pub async fn send(&mut self, script: &Script) -> Result<(), SshError> {
        self.ch
            .data(script.as_str().as_bytes())
            .await
            .map_err(broken)
    }

    /// Waits for the root shell behind `sudo -S` to start; a wrong password or a sudoers that
    /// wants a tty fails at once (sudo would otherwise wait for another guess until the timeout).
    pub async fn await_root(&mut self) -> Result<(), SshError> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let deadline = tokio::time::Instant::now() + self.exec_timeout.min(Duration::from_secs(60));
        loop {
            if find_line(&out, 0, Some(ROOT_MARKER), &mut |_| {}).0 {
                return Ok(());
            }
            let text = String::from_utf8_lossy(&err);
            let refusal = if text.contains("Sorry, try again")
                || text.contains("incorrect password")
            {
                Some(
                    "sudo refused the password (--ask-become-pass); nothing was run on this host"
                        .to_string(),
                )
            } else if text.contains("must have a tty") {
                Some("the host's sudoers has requiretty; add `Defaults:USER !requiretty` for lvsprov's user (or connect as root)".to_string())
            } else if text.contains("is not in the sudoers")
                || text.contains("not allowed to execute")
            {
                Some(format!("sudo: {}", text.trim()))
            } else {
                None
            };
            if let Some(m) = refusal {
                let _ = self.ch.close().await;
                self.ended = true;
                return Err(SshError::Auth(m));
            }
            let next = tokio::time::timeout_at(deadline, self.ch.wait()).await;
            match next {
                Err(_) => {
                    let _ = self.ch.close().await;
                    return Err(SshError::Auth(
                        "sudo did not start a shell within 60 s of getting the password".into(),
                    ));
                }
                Ok(Some(ChannelMsg::Data { data })) => out.extend_from_slice(&data),
                Ok(Some(ChannelMsg::ExtendedData { data, .. })) => err.extend_from_slice(&data),
                Ok(None | Some(ChannelMsg::Close) | Some(ChannelMsg::ExitStatus { .. })) => {
                    self.ended = true;
                    return Err(SshError::Auth(format!(
                        "sudo ended before a root shell started: {}",
                        String::from_utf8_lossy(&err).trim()
                    )));
                }
                Ok(Some(_)) => {}
            }
            if out.len() + err.len() > 64 << 10 {
                let _ = self.ch.close().await;
                return Err(SshError::Session(
                    "sudo printed too much before the shell started".into(),
                ));
            }
        }
    }

    /// No more scripts: the shell exits after the last one (and lets go of what it holds).
    pub async fn eof(&mut self) -> Result<(), SshError> {
        self.ch.eof().await.map_err(broken)
    }

    /// Ends the shell without waiting for it.
    pub async fn close(self) {
        let _ = self.ch.eof().await;
        let _ = self.ch.close().await;
    }

    /// Output until a line equal to `until` (then the shell stays open), or until the shell ends.
    pub async fn read(&mut self, until: Option<&str>) -> Result<Output, SshError> {
        self.read_watching(until, &mut |_| {}).await
    }

    /// [`Shell::read`], telling `each_line` every whole line of stdout as it arrives (apply's
    /// `@@step N` lines move the progress bar while the script runs).
    pub async fn read_watching(
        &mut self,
        until: Option<&str>,
        each_line: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Output, SshError> {
        let (mut out, mut err, mut status) = (Vec::new(), Vec::new(), None);
        let deadline = tokio::time::Instant::now() + self.exec_timeout;
        // Lines are checked once each, so a stream of any size costs linear time.
        let mut checked = 0;
        while !self.ended {
            let (found, upto) = find_line(&out, checked, until, each_line);
            checked = upto;
            if found {
                break;
            }
            let Ok(next) = tokio::time::timeout_at(deadline, self.ch.wait()).await else {
                let _ = self.ch.close().await;
                return Err(SshError::Timeout {
                    secs: self.exec_timeout.as_secs(),
                    stdout: String::from_utf8_lossy(&out).into_owned(),
                });
            };
            match next {
                None | Some(ChannelMsg::Close) => self.ended = true,
                Some(ChannelMsg::Data { data }) => out.extend_from_slice(&data),
                Some(ChannelMsg::ExtendedData { data, .. }) => err.extend_from_slice(&data),
                Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
                Some(_) => {}
            }
            if out.len() + err.len() > MAX_OUTPUT {
                let _ = self.ch.close().await;
                return Err(SshError::Session(format!(
                    "the host sent more than {} MiB for one script; cut off (a broken or hostile host)",
                    MAX_OUTPUT >> 20
                )));
            }
        }
        let stderr = String::from_utf8_lossy(&err).into_owned();
        if self.sudo && stderr.contains("sudo: a password is required") {
            return Err(SshError::Auth(
                "sudo asks for a password; run with --ask-become-pass, give the user NOPASSWD sudo, or connect as root".into(),
            ));
        }
        Ok(Output {
            status: status.unwrap_or(if self.ended { 255 } else { 0 }),
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr,
        })
    }
}

/// Whether a whole line from `from` on equals `marker`, and where the unfinished line starts;
/// each whole line up to there goes to `each_line`.
fn find_line(
    out: &[u8],
    from: usize,
    marker: Option<&str>,
    each_line: &mut (dyn FnMut(&str) + Send),
) -> (bool, usize) {
    let mut start = from;
    while let Some(n) = out[start..].iter().position(|b| *b == b'\n') {
        let line = &out[start..start + n];
        each_line(&String::from_utf8_lossy(line));
        if marker.is_some_and(|m| line == m.as_bytes()) {
            return (true, start + n + 1);
        }
        start += n + 1;
    }
    (false, start)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_marker_counts_only_as_a_whole_line() {
        let find = |out: &[u8], from| super::find_line(out, from, Some("@@end"), &mut |_| {});
        assert_eq!(find(b"a\n@@end\n", 0), (true, 8));
        assert_eq!(find(b"a\n@@end", 0), (false, 2), "not finished yet");
        assert!(!find(b"x@@end\n", 0).0);
        assert!(!find(b"@@end\nb\n", 6).0, "checked lines stay checked");
    }

    #[test]
    fn each_whole_line_is_seen_once() {
        let mut seen = Vec::new();
        let mut note = |l: &str| seen.push(l.to_string());
        let (_, upto) = super::find_line(b"@@step 0\nx\n@@st", 0, None, &mut note);
        super::find_line(b"@@step 0\nx\n@@step 1\n", upto, None, &mut note);
        assert_eq!(seen, ["@@step 0", "x", "@@step 1"]);
    }
}
