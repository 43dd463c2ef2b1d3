//! The plan: desired steps × facts → ordered changes. Pure, so `check` and `up` cannot disagree
//! and the RHEL family is tested on recorded facts without a RHEL host.

use crate::facts::{Facts, Firewall, Ipvs, Probe};
use crate::host_state::DIR;
use crate::resources::{Action, Change, DownOptions, Owed, Refusal, Resource, Step};
use crate::sh;

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Up,
    Down(DownOptions),
}

/// Err: the host is refused (e.g. no IPVS on a director) and nothing is changed on it.
pub fn plan(steps: &[Step], facts: &Facts, mode: Mode) -> Result<Vec<Change>, Refusal> {
    // The loader expands intents into the platform's steps; what is left is concrete.
    let resources: Vec<&dyn Resource> = steps.iter().filter_map(Step::resource).collect();
    for r in &resources {
        let mut asks = Probe::default();
        r.probe(&mut asks);
        if asks.ipvs && facts.ipvs == Ipvs::Unread {
            return Err(Refusal::unread("IPVS state"));
        }
        if asks.firewall && facts.firewall == Firewall::Unread {
            return Err(Refusal::unread("firewall"));
        }
    }
    let mut changes = Vec::new();
    match mode {
        Mode::Up => {
            let mut owed = Owed::default();
            for r in resources {
                changes.extend(r.plan(facts, &mut owed)?);
            }
        }
        // Undone in reverse: the VIP leaves lo before the ARP sysctls that protected it.
        Mode::Down(opts) => {
            for r in resources.iter().rev() {
                changes.extend(r.down(facts, opts));
            }
            // Last, after everything it remembered was put back: the host keeps no trace of lvsprov.
            if facts.state_dir {
                changes.push(Change::new(
                    format!("state {DIR}"),
                    Action::Delete,
                    "what up recorded here (old sysctls, file copies, drain marks) is no longer needed",
                    sh!("rm -rf {}", DIR),
                ));
            }
        }
    }
    Ok(changes)
}
