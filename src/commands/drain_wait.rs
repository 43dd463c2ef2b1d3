//! After `drain HOST` set its weight to 0, wait until no director has an active connection to
//! it any more: then the real server may be stopped without cutting anyone off. Each director is
//! polled on its own session once a second; the count shows in its progress line as it falls.

use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{Host, Inventory};
use crate::ipvs::Table;
pub use crate::report::drain::DrainWait;
use crate::sh;
use std::net::Ipv4Addr;
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

/// `rip` is listed on every one of `ports` with a weight above 0 (it takes new connections), in
/// the table `ipvsadm -Ln` printed.
pub fn serving(ipvsadm_ln: &str, rip: Ipv4Addr, ports: &[u16]) -> bool {
    let weighted = Table::from_list(ipvsadm_ln).weighted_ports(rip.into(), ports);
    ports.iter().all(|p| weighted.contains(p))
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
    let (rip, deadline) = (host.address, started + limit);
    let results = fleet::each(directors, opts, move |_, session, progress| {
        let ports = ports.clone();
        async move {
            loop {
                let out = session.run(&sh!("ipvsadm -Ln")).await?;
                let table = Table::from_list(&out.stdout);
                let n = table.active_to(rip.into(), &ports);
                let weighted = !table.weighted_ports(rip.into(), &ports).is_empty();
                progress.phase(&match weighted {
                    true => format!("{n} active connections, weight not 0 yet"),
                    false => format!("{n} active connections"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_means_weighted_on_every_port() {
        let out = "TCP  192.168.100.10:80 rr\n  -> 192.168.100.201:80           Route   0      2          5\n  -> 192.168.100.202:80           Route   1      3          0\nTCP  192.168.100.10:443 rr\n  -> 192.168.100.201:443          Route   0      7          0\n";
        let web01: Ipv4Addr = "192.168.100.201".parse().unwrap();
        let web02: Ipv4Addr = "192.168.100.202".parse().unwrap();
        assert!(serving(out, web02, &[80]));
        assert!(!serving(out, web02, &[80, 443]), "not listed on 443");
        assert!(!serving(out, web01, &[80]), "weight 0");
        assert!(!serving(out, "192.168.100.9".parse().unwrap(), &[80]));
    }
}
