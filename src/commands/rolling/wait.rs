//! The roll's two waits on a converged batch: its page on its own address, and every director
//! listing it with its weight again.

use crate::fleet::{self, Finish};
use crate::inventory::Host;
use crate::ipvs::Table;
use crate::pipeline::Loaded;
use crate::sh;
use crate::verify::net;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long a converged real server has to answer on its own address.
const PAGE_WAIT: Duration = Duration::from_secs(15);
/// How long the directors have to list an undrained real server with its weight again: with a
/// keepalived health check that failed during the change, up to (retry + 1) × connect_timeout +
/// delay_loop.
const BACK_WAIT: Duration = Duration::from_secs(90);

/// The converged real server answers on its own address with its page (retried: a web server
/// that was restarted takes a moment).
pub(super) async fn page(loaded: &Loaded, host: &Host) -> Result<(), String> {
    let deadline = Instant::now() + PAGE_WAIT;
    let want = host.page().map(str::trim);
    let ports: BTreeSet<u16> = loaded
        .inv
        .services_of(host)
        .flat_map(|s| s.web_ports().iter().copied())
        .collect();
    for port in ports {
        loop {
            let got = net::get(host.address.into(), port, Duration::from_secs(3)).await;
            let why = match (&got, want) {
                (Ok(body), Some(w)) if body != w => format!("port {port} served another page"),
                (Ok(_), _) => break,
                (Err(e), _) => format!("port {port}: {e}"),
            };
            if Instant::now() >= deadline {
                return Err(why);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(())
}

struct Listed;

impl Finish for Listed {
    fn word(&self) -> String {
        "serving".into()
    }
}

/// Every director lists each of `names` with a weight again (keepalived re-adds a real server
/// its health check removed only once the check passes).
pub(super) async fn back(
    loaded: &Loaded,
    directors: &Loaded,
    names: &[String],
) -> Result<(), String> {
    if names.is_empty() {
        return Ok(());
    }
    let want: Vec<(std::net::Ipv4Addr, Vec<u16>)> = names
        .iter()
        .filter_map(|n| loaded.inv.host(n))
        .map(|h| {
            (
                h.address,
                loaded.inv.services_of(h).map(|s| s.dest_port()).collect(),
            )
        })
        .collect();
    let deadline = Instant::now() + BACK_WAIT;
    let results = fleet::each(
        directors.hosts.clone(),
        &directors.fleet,
        move |_, session, progress| {
            let want = want.clone();
            async move {
                loop {
                    let out = session.run(&sh!("ipvsadm -Ln")).await?;
                    let table = Table::from_list(&out.stdout);
                    let missing = want
                        .iter()
                        .filter(|(ip, ports)| !table.serves((*ip).into(), ports))
                        .count();
                    progress.phase(&format!(
                        "waiting for {missing} real server(s) to serve again"
                    ));
                    if missing == 0 {
                        return Ok(Listed);
                    }
                    if Instant::now() >= deadline {
                        return Err(crate::error::HostError::Refused(format!(
                            "{missing} real server(s) not back in the table after {} s",
                            BACK_WAIT.as_secs()
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        },
    )
    .await;
    let errors: Vec<String> = results
        .into_iter()
        .filter_map(|(d, r)| r.err().map(|e| format!("{}: {e}", d.name)))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} got its weight back but is not serving: {}; the roll stopped",
            names.join(", "),
            errors.join("; ")
        ))
    }
}
