//! `drain HOST` / `undrain HOST`: a mark on every director (`host_state::DRAINED`) that every
//! later `up` honours, then `up` on the directors, which re-renders the weights.

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
    /// The real server's name
    pub host: String,
    #[command(flatten)]
    pub common: Common,
    /// drain: return once the weight is 0, without waiting for open connections to end
    #[arg(long)]
    pub no_wait: bool,
    /// drain: how long to wait for the sessions open on the real server to end
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
    if !inv
        .hosts
        .iter()
        .any(|h| h.name == a.host && h.role() == Role::RealServer)
    {
        return super::usage(format_args!(
            "{:?} is not a real server in {}; name one of $.real_servers",
            a.host,
            a.common.inventory.display()
        ));
    }
    let command = if on { Command::Drain } else { Command::Undrain };
    let loaded = match load(&a.common, inv, Some("directors")) {
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
        report.drain = Some(rt.block_on(drain_wait::wait(&inv, &host, directors, &fleet, limit)));
    }
    print(output, &report, || report.human());
    report.exit()
}
