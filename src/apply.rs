//! Apply: the plan's fragments in order, as ONE script per host. Each change runs in its own
//! `set -e` subshell; the first failure stops the host and names the step.

use crate::host_state::DIR;
use crate::resources::Change;
use crate::sh;
use crate::shell::Script;

/// Fault injection for the crash tests (`tests/faults.rs`, the VM's kill points): with
/// `LVSPROV_FAULT_KILL_AFTER_STEP=K` in lvsprov's environment, the host's shell SIGKILLs itself
/// right after step K (1-based) has finished, and the host is left exactly as a host whose session
/// died there. Compiled into debug builds (what `cargo test` runs) only: a release binary never
/// reads the variable.
#[cfg(debug_assertions)]
fn kill_after() -> Option<usize> {
    std::env::var("LVSPROV_FAULT_KILL_AFTER_STEP")
        .ok()
        .and_then(|k| k.parse().ok())
}

#[cfg(not(debug_assertions))]
fn kill_after() -> Option<usize> {
    None
}

pub fn script(changes: &[Change]) -> Script {
    let kill_after = kill_after();
    let mut s = sh!(
        "export LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\numask {}\n{}",
        crate::host_state::UMASK,
        crate::host_state::ensure_dir(DIR)
    );
    for (i, c) in changes.iter().enumerate() {
        // Not `( ... ) || fail`: sh ignores `set -e` inside a subshell that is tested by `||`.
        // `9>&-`: no step (nor a daemon it starts) inherits the host lock's descriptor.
        s.push(sh!("echo @@step {}\n(\nset -e\n{}\n) 9>&- 2>&1\nrc=$?\nif [ $rc -ne 0 ]; then echo \"@@failed {} $rc\"; exit 1; fi", i, c.script, i));
        if kill_after == Some(i + 1) {
            s.push(sh!("kill -KILL $$"));
        }
    }
    s.push(sh!("echo @@done\n"));
    s
}

/// The last step the script started, from what it printed so far.
pub fn last_step(stdout: &str) -> Option<usize> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("@@step "))
        .next_back()
        .and_then(|i| i.trim().parse().ok())
}

/// How an apply script ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Done,
    /// The index of the change that failed and what it printed.
    Failed {
        step: usize,
        output: String,
    },
}

pub fn outcome(stdout: &str, stderr: &str) -> Outcome {
    let mut current: Option<usize> = None;
    let mut output = String::new();
    for line in stdout.lines() {
        if let Some(i) = line.strip_prefix("@@step ") {
            current = i.trim().parse().ok();
            output.clear();
        } else if line.starts_with("@@failed ") {
            return Outcome::Failed {
                step: current.unwrap_or(0),
                output: output.trim_end().to_string(),
            };
        } else if line == "@@done" {
            return Outcome::Done;
        } else {
            output.push_str(line);
            output.push('\n');
        }
    }
    let tail = format!("{}{}", output, stderr);
    Outcome::Failed {
        step: current.unwrap_or(0),
        output: format!("the script stopped without finishing: {}", tail.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Action, Change};

    fn run_local(changes: &[Change]) -> Outcome {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(
                script(changes)
                    .as_str()
                    .replace(&format!("{}\n", crate::host_state::ensure_dir(DIR)), ""),
            )
            .output()
            .unwrap();
        outcome(
            &String::from_utf8_lossy(&out.stdout),
            &String::from_utf8_lossy(&out.stderr),
        )
    }

    #[test]
    fn stops_at_the_first_failing_step_and_names_it() {
        let ch = |s: &'static str| Change::new("x", Action::Update, "", Script::lit(s));
        let got = run_local(&[
            ch("true"),
            ch("echo boom; false; echo never"),
            ch("echo later"),
        ]);
        assert_eq!(
            got,
            Outcome::Failed {
                step: 1,
                output: "boom".into()
            }
        );
        assert_eq!(run_local(&[ch("true"), ch("echo fine")]), Outcome::Done);
    }
}

#[cfg(test)]
mod last_step_tests {
    #[test]
    fn the_step_running_when_the_output_stopped() {
        assert_eq!(super::last_step("@@step 0\nok\n@@step 1\nhalf"), Some(1));
        assert_eq!(super::last_step("nothing yet"), None);
    }
}
