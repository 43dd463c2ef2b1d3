//! After `drain HOST` set its weight to 0, wait until no director that holds one of its VIPs has
//! an active connection to it any more: then the real server may be stopped without cutting anyone
//! off. A director without the VIP forwards nothing: what its table counts are synced copies, and
//! after a failover and back some of them are of connections that ended on the other director
//! and stay "active" until their TCP timeout (a CI run's rolling `up` waited 300 s on one). Each
//! director is polled on its own session once a second; the count shows in its progress line.

use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{Host, Inventory};
use crate::ipvs::Table;
pub use crate::report::drain::DrainWait;
use crate::sh;
use std::time::{Duration, Instant};

/// One director's answer: active connections left, and whether the real server still has a
/// weight above 0 there (keepalived applies a reload after `systemctl reload` returns).
struct Left {
    active: u64,
    weighted: bool,
}

impl Finish for Left {
    fn word(&self) -> String {
        match self.weighted {
            true => "weight not 0 yet".into(),
            false => format!("{} active", self.active),
        }
    }
}

pub async fn wait(
    inv: &Inventory,
    host: &Host,
    directors: Vec<Host>,
    opts: &FleetOptions,
    limit: Duration,
) -> DrainWait {
    let started = Instant::now();
    let ports: Vec<u16> = inv.services_of(host).map(|s| s.port).collect();
    let persistent = inv
        .services_of(host)
        .filter_map(|s| s.persistence_timeout)
        .max();
    let vips: Vec<String> = inv
        .services_of(host)
        .map(|s| format!(" {}/", s.vip))
        .collect();
    let (rip, deadline) = (host.address, started + limit);
    let results = fleet::each(directors, opts, move |_, session, progress| {
        let (ports, vips) = (ports.clone(), vips.clone());
        async move {
            loop {
                let out = session
                    .run(&sh!("ip -o -4 addr show; echo @@ipvs; ipvsadm -Ln"))
                    .await?;
                let (addrs, list) = out
                    .stdout
                    .split_once("@@ipvs\n")
                    .unwrap_or(("", &out.stdout));
                let holds = vips.iter().any(|v| addrs.contains(v.as_str()));
                let table = Table::from_list(list);
                let n = if holds {
                    table.active_to(rip.into(), &ports)
                } else {
                    0
                };
                let weighted = !table.weighted_ports(rip.into(), &ports).is_empty();
                progress.phase(&match (weighted, holds) {
                    (true, _) => format!("{n} active connections, weight not 0 yet"),
                    (false, true) => format!("{n} active connections"),
                    (false, false) => "not the VIP holder: nothing to wait for".into(),
                });
                if (n == 0 && !weighted) || Instant::now() >= deadline {
                    return Ok(Left {
                        active: n,
                        weighted,
                    });
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
    .await;
    let (mut left, mut errors) = (0, Vec::new());
    for (d, r) in results {
        match r {
            Ok(Left { active, weighted }) => {
                left += active;
                if weighted {
                    errors.push(format!(
                        "{}: {}'s weight there is still above 0, so it still gets new connections; see `journalctl -u keepalived` on {}",
                        d.name, host.name, d.name
                    ));
                }
            }
            Err(e) => errors.push(format!("could not ask {}: {e}", d.name)),
        }
    }
    DrainWait {
        host: host.name.clone(),
        waited_ms: started.elapsed().as_millis(),
        active_left: left,
        drained: left == 0 && errors.is_empty(),
        errors,
        note: persistent.map(|t| format!(
            "persistence_timeout {t} s: clients that already have a persistence template keep going to {} until it expires; new clients go elsewhere",
            host.name
        )),
    }
}
