//! A look at hosts that changes nothing: one exec of the facts script per host, no lock taken,
//! nothing written. `status` reads a running cluster with it, `import` a hand-built one; both
//! must be safe to run while something else (an operator, another lvsprov) is changing it.

use crate::error::HostError;
use crate::facts::{self, Facts, Probe};
use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::Host;
use std::collections::HashMap;
use std::sync::Arc;

struct Read(Facts);

impl Finish for Read {
    fn word(&self) -> String {
        "read".into()
    }
}

/// Every host's facts, in the order of `hosts`, each read with the probe `probe_for` gives it.
pub async fn facts_of(
    hosts: Vec<Host>,
    opts: &FleetOptions,
    probe_for: impl Fn(&Host) -> Probe,
) -> Vec<(Host, Result<Facts, HostError>)> {
    let scripts: HashMap<String, _> = hosts
        .iter()
        .map(|h| (h.name.clone(), Arc::new(facts::script(&probe_for(h)))))
        .collect();
    let scripts = Arc::new(scripts);
    let results = fleet::each(hosts, opts, move |host, session, progress| {
        let script = scripts[&host.name].clone();
        async move {
            progress.phase("reading");
            let out = session.run(&script).await.map_err(HostError::Ssh)?;
            facts::parse(&out.stdout)
                .map(Read)
                .map_err(|e| HostError::Facts(e.to_string()))
        }
    })
    .await;
    results
        .into_iter()
        .map(|(h, r)| (h, r.map(|Read(f)| f)))
        .collect()
}
