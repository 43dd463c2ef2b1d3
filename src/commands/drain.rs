//! `drain HOST` / `undrain HOST`: a mark (`host_state::DRAINED`) that every later `up` honours,
//! then `up` where it lives. A real server's mark is on every director, whose weights for it
//! become 0; a director's on itself, whose VRRP priority in every instance becomes 1, below every
//! peer's, so they take its VIPs over (they already hold its sessions: sync runs both ways).

use super::converge::{self, Mark};
use super::{drain_wait, load, print, runtime, Common};
use crate::exit::Exit;
use crate::facts::Facts;
use crate::host_state::{add_line, remove_line, DRAINED};
use crate::inventory::Role;
use crate::plan::Mode;
use crate::report::Command;
use crate::resources::{Action, Change};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct DrainArgs {
    /// The real server's or director's name
    pub host: String,
    #[command(flatten)]
    pub common: Common,
    /// drain: return once the weight is 0, without waiting for open connections to end
    #[arg(long)]
    pub no_wait: bool,
    /// drain: how long to wait for the sessions open on the real server to end (a director: for
    /// its peers to take its VIPs)
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub drain_timeout: u64,
}

/// Drains (or undrains) real servers by name on every director it is applied to.
pub struct Drain {
    names: Vec<String>,
    on: bool,
    /// Names some director already had drained before this mark: a rolling `up` must leave
    /// those drained when it is done.
    already: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Drain {
    pub fn new(names: Vec<String>, on: bool) -> Drain {
        Drain {
            names,
            on,
            already: Default::default(),
        }
    }

    pub fn already_drained(&self) -> std::collections::BTreeSet<String> {
        self.already.lock().expect("never poisoned").clone()
    }
}

impl Mark for Drain {
    /// The mark as changes; `facts` then reads as if they were there, so the plan renders the
    /// weights the mark asks for.
    fn change(&self, facts: &mut Facts) -> Vec<Change> {
        self.names
            .iter()
            .filter_map(|name| self.one(name, facts))
            .collect()
    }
}

impl Drain {
    fn one(&self, name: &String, facts: &mut Facts) -> Option<Change> {
        if facts.drained.contains(name) {
            self.already
                .lock()
                .expect("never poisoned")
                .insert(name.clone());
        }
        if facts.drained.contains(name) == self.on {
            return None;
        }
        Some(if self.on {
            facts.drained.insert(name.clone());
            Change::new(
                format!("drain {name}"),
                Action::Create,
                "serving → drained (weight 0: open connections finish, new ones go elsewhere)",
                add_line(DRAINED, name),
            )
        } else {
            facts.drained.remove(name);
            Change::new(
                format!("drain {name}"),
                Action::Delete,
                "drained → serving (the inventory's weight)",
                remove_line(DRAINED, name),
            )
        })
    }
}

pub fn run(a: DrainArgs, on: bool) -> Exit {
    let inv = match super::inventory(&a.common) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let role = inv.host(&a.host).map(|h| h.role());
    let ha = (inv.keepalived.is_some() || inv.ecmp.is_some()) && inv.directors().count() > 1;
    match role {
        Some(Role::RealServer) => {}
        Some(Role::Director) if ha => {}
        Some(Role::Director) => {
            return super::usage(format_args!(
                "{:?} is the only director or runs without keepalived: draining a director moves its VIPs to its peers by VRRP, so it needs keepalived and another director",
                a.host
            ))
        }
        None => {
            return super::usage(format_args!(
                "{:?} is not a host in {}; name one of $.real_servers or $.directors",
                a.host,
                a.common.inventory.display()
            ))
        }
    }
    let director = role == Some(Role::Director);
    let command = if on { Command::Drain } else { Command::Undrain };
    // A real server's mark goes on every director (their weights); a director's on itself only
    // (its VRRP priority).
    let scope = if director {
        a.host.as_str()
    } else {
        "directors"
    };
    let loaded = match load(&a.common, inv, Some(scope)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let (inv, directors, fleet, output) = (
        loaded.inv.clone(),
        loaded.hosts.clone(),
        loaded.fleet.clone(),
        loaded.output,
    );
    let mark = Arc::new(Drain::new(vec![a.host.clone()], on));
    let rt = runtime();
    let mut report = rt.block_on(converge::converge(loaded, command, Mode::Up, Some(mark)));
    if on && !a.no_wait && report.exit() == Exit::Ok {
        let host = inv.host(&a.host).expect("checked above").clone();
        let limit = Duration::from_secs(a.drain_timeout);
        report.drain = Some(if director && inv.ecmp.is_some() {
            rt.block_on(drain_wait::wait_director_ecmp(&inv, &host, &fleet, limit))
        } else if director {
            rt.block_on(drain_wait::wait_director(&inv, &host, &fleet, limit))
        } else {
            rt.block_on(drain_wait::wait(&inv, &host, directors, &fleet, limit))
        });
    }
    print(output, &report, || report.human());
    report.exit()
}
