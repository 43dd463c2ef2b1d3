//! The plan: desired steps × facts → ordered changes. Pure, so `check` and `up` cannot disagree
//! and the RHEL family is tested on recorded facts without a RHEL host.

use crate::facts::{Facts, STATE_DIR};
use crate::resources::{Action, Change, DownOptions, Owed, Step};

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Up,
    Down(DownOptions),
}

/// Err: the host is refused (e.g. no IPVS on a director) and nothing is changed on it.
pub fn plan(steps: &[Step], facts: &Facts, mode: Mode) -> Result<Vec<Change>, String> {
    let mut changes = Vec::new();
    match mode {
        Mode::Up => {
            let mut owed = Owed::default();
            for step in steps {
                changes.extend(step.resource().plan(facts, &mut owed)?);
            }
        }
        // Undone in reverse: the VIP leaves lo before the ARP sysctls that protected it.
        Mode::Down(opts) => {
            for step in steps.iter().rev() {
                changes.extend(step.resource().down(facts, opts));
            }
            // Last, after everything it remembered was put back: the host keeps no trace of lvsprov.
            if facts.state_dir {
                changes.push(Change::new(
                    format!("state {STATE_DIR}"),
                    Action::Delete,
                    "what up recorded here (old sysctls, file copies, drain marks) is no longer needed",
                    format!("rm -rf {STATE_DIR}"),
                ));
            }
        }
    }
    Ok(changes)
}
