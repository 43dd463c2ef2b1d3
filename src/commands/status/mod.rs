//! `status`: the cluster as it runs now. One read-only exec per host (the facts script with the
//! live section on directors; no lock taken, nothing written), then one view: who holds each VIP,
//! each director's VRRP state, each real server's weight, connections and rates as the holder's
//! IPVS sees them, the check's verdict, drain marks, sync, and one health line on top.

mod bgp;
mod table;

use table::{five, member};

use super::{load, print_line, runtime, usage, Common, Output};
use crate::exit::Exit;
use crate::facts::live::Live;
use crate::facts::{Facts, Probe};
use crate::fleet::FleetOptions;
use crate::inventory::{Host, Inventory, Role, Service};
use crate::report::status::{
    DirectorStatus, MemberStatus, RealServerStatus, ServiceStatus, StatusReport,
};
use crate::report::REPORT_VERSION;
use crate::resources::ipvs::VirtualService;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    /// Read again every SECS seconds (default 2): on a terminal the view is redrawn in place,
    /// elsewhere each snapshot follows the last; Ctrl-C ends it
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "2")]
    pub watch: Option<u64>,
    /// Also write the metrics (Prometheus text) to DIR/lvsprov.prom for node_exporter's
    /// textfile collector, whole or not at all; with --watch, again every interval
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<PathBuf>,
}

pub fn run(a: StatusArgs) -> Exit {
    if a.watch == Some(0) {
        return usage("--watch must be at least 1 second");
    }
    if let Some(dir) = a.textfile.as_ref().filter(|d| !d.is_dir()) {
        return usage(format_args!(
            "--textfile {}: no such folder; give the one node_exporter reads (its --collector.textfile.directory)",
            dir.display()
        ));
    }
    let loaded = match super::inventory(&a.common).and_then(|inv| load(&a.common, inv, None)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rt = runtime();
    let tty = console::Term::stdout().is_term();
    let mut fleet = loaded.fleet.clone();
    // The view is redrawn in place: bars between two views would scroll it away.
    fleet.bars = a.watch.is_none();
    loop {
        let report = rt.block_on(read(&loaded.inv, &loaded.hosts, &fleet));
        let text = match loaded.output {
            Output::Json => serde_json::to_string_pretty(&report).expect("serialises") + "\n",
            Output::Prometheus => report.prometheus(),
            Output::Human => report.human(),
        };
        let written = a.textfile.as_deref().map(|dir| {
            super::textfile::write(dir, &report.prometheus())
                .map_err(|e| eprintln!("lvsprov: --textfile {}: {e}", dir.display()))
        });
        let Some(secs) = a.watch else {
            print_line(&text);
            return match written {
                Some(Err(())) => Exit::HostFailed,
                _ => exit(&report),
            };
        };
        // Home and clear on a terminal: the view stays in place like `top`.
        let shown = if tty && loaded.output == Output::Human {
            format!("\x1b[H\x1b[2J{text}")
        } else {
            format!("{text}\n")
        };
        // A reader that went away (`--watch | head`) ends the watch: nobody is left to see it.
        if super::write_out(&shown).is_err() {
            return exit(&report);
        }
        std::thread::sleep(Duration::from_secs(secs));
    }
}

fn exit(r: &StatusReport) -> Exit {
    match r.health {
        "healthy" => Exit::Ok,
        _ => Exit::HostFailed,
    }
}

/// Every selected host read at once; directors with their live section.
async fn read(inv: &Arc<Inventory>, hosts: &[Host], opts: &FleetOptions) -> StatusReport {
    let started = Instant::now();
    let seen: Vec<(Host, Result<Facts, String>)> =
        super::read::facts_of(hosts.to_vec(), opts, |h| {
            let live = h.role() == Role::Director;
            Probe {
                ipvs: live,
                live,
                ..Probe::default()
            }
        })
        .await
        .into_iter()
        .map(|(h, r)| (h, r.map_err(|e| e.to_string())))
        .collect();
    let mut report = build(inv, &seen);
    report.elapsed_ms = started.elapsed().as_millis();
    report
}

/// The view, from what each host answered: pure, so the judging is tested without a cluster.
pub fn build(inv: &Inventory, seen: &[(Host, Result<Facts, String>)]) -> StatusReport {
    let mut problems = Vec::new();
    let directors: Vec<DirectorStatus> = seen
        .iter()
        .filter(|(h, _)| h.role() == Role::Director)
        .map(|(h, r)| director(inv, h, r.as_ref(), &mut problems))
        .collect();
    let live: BTreeMap<&str, &Facts> = seen
        .iter()
        .filter_map(|(h, r)| Some((h.name.as_str(), r.as_ref().ok()?)))
        .collect();
    let mut down = false;
    // `--limit web01` shows the services web01 is in; a director shows them all.
    let shown = |s: &&Service| {
        !directors.is_empty()
            || s.real_servers
                .iter()
                .any(|m| seen.iter().any(|(h, _)| h.name == m.name))
    };
    let services: Vec<ServiceStatus> = inv
        .services
        .iter()
        .filter(shown)
        .map(|s| service(inv, s, &directors, &live, &mut problems, &mut down))
        .collect();
    let real_servers: Vec<RealServerStatus> = seen
        .iter()
        .filter(|(h, _)| h.role() == Role::RealServer)
        .map(|(h, r)| real_server(inv, h, r.as_ref(), &mut problems))
        .collect();
    let health = match (down, problems.is_empty()) {
        (true, _) => "down",
        (false, true) => "healthy",
        (false, false) => "degraded",
    };
    StatusReport {
        version: REPORT_VERSION,
        command: "status",
        health,
        problems,
        directors,
        services,
        real_servers,
        elapsed_ms: 0,
    }
}

fn director(
    inv: &Inventory,
    h: &Host,
    r: Result<&Facts, &String>,
    problems: &mut Vec<String>,
) -> DirectorStatus {
    let mut d = DirectorStatus {
        name: h.name.clone(),
        address: h.address.to_string(),
        error: None,
        keepalived: String::new(),
        vrrp: BTreeMap::new(),
        priority: h.priority(),
        holds: vec![],
        sync_daemons: vec![],
        conn_entries: 0,
        drained: vec![],
        bgp: BTreeMap::new(),
    };
    let f = match r {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("{}: could not be read ({e})", h.name));
            d.error = Some(e.clone());
            return d;
        }
    };
    let mut vips: Vec<String> = inv.services.iter().map(|s| s.vip.to_string()).collect();
    vips.dedup();
    d.holds = vips
        .into_iter()
        .filter(|v| {
            f.addrs
                .iter()
                .any(|a| a.dev != "lo" && a.ip.to_string() == *v)
        })
        .collect();
    if let Some(e) = &inv.ecmp {
        bgp::announced(inv, e, f, &mut d, problems);
    }
    d.sync_daemons = f.sync_daemons.keys().cloned().collect();
    d.drained = f.drained.iter().cloned().collect();
    if let Some(l) = &f.live {
        d.keepalived = l.keepalived.clone();
        d.vrrp = l.vrrp.clone();
        d.conn_entries = l.entries;
    }
    if d.keepalived != "active" {
        problems.push(format!(
            "{}: keepalived is {} (`systemctl status keepalived` there)",
            h.name,
            if d.keepalived.is_empty() {
                "not installed"
            } else {
                &d.keepalived
            }
        ));
    }
    if inv.keepalived.as_ref().is_some_and(|k| k.sync.is_some()) {
        let want = crate::verify::checks::sync::wanted(f.boot.init, !d.holds.is_empty());
        let missing: Vec<&str> = want
            .iter()
            .copied()
            .filter(|r| !d.sync_daemons.iter().any(|x| x == r))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{}: no {} sync daemon runs, so a failover between it and its peers resets sessions (`ipvsadm -L --daemon` there; `lvsprov up` starts it)",
                h.name,
                missing.join(" or ")
            ));
        }
    }
    d
}

fn service(
    inv: &Inventory,
    s: &Service,
    directors: &[DirectorStatus],
    live: &BTreeMap<&str, &Facts>,
    problems: &mut Vec<String>,
    down: &mut bool,
) -> ServiceStatus {
    let vip = s.vip.to_string();
    let holder = holder(inv, &vip, directors, problems, down);
    // ECMP: every director takes its share of the flows, so each counts its own; VRRP: the
    // holder's (a backup's synced entries would count its sessions twice).
    let tables: Vec<&Live> = live
        .iter()
        .filter(|(n, _)| inv.ecmp.is_some() || holder.as_deref() == Some(**n))
        .filter_map(|(_, f)| f.live.as_ref())
        .collect();
    let table = tables.first().copied();
    let key = VirtualService::from(s).key();
    let drained: Vec<&String> = directors.iter().flat_map(|d| &d.drained).collect();
    let members: Vec<MemberStatus> = s
        .real_servers
        .iter()
        .map(|m| member(m, key, s.dest_port(), &tables, drained.contains(&&m.name)))
        .collect();
    for m in members.iter().filter(|m| m.check == "down") {
        problems.push(format!(
            "{}: out of {vip}:{} (keepalived's check fails: is its web server answering on {}?)",
            m.name, s.port, m.address
        ));
    }
    if table.is_some() && !members.iter().any(|m| m.check == "up") {
        problems.push(format!(
            "{vip}:{}: no real server takes new connections",
            s.port
        ));
        *down = true;
    }
    let (stats, rate) = (
        five(&tables, |l| &l.stats, key, None),
        five(&tables, |l| &l.rate, key, None),
    );
    ServiceStatus {
        vip,
        port: s.port,
        protocol: s.protocol.as_str(),
        scheduler: s.scheduler.as_str(),
        holder,
        conns_total: stats[0],
        cps: rate[0],
        in_bps: rate[3],
        real_servers: members,
    }
}

/// The director holding `vip`; none, or more than one, is a problem said here.
fn holder(
    inv: &Inventory,
    vip: &str,
    directors: &[DirectorStatus],
    problems: &mut Vec<String>,
    down: &mut bool,
) -> Option<String> {
    let holders: Vec<&str> = directors
        .iter()
        .filter(|d| d.holds.iter().any(|h| h == vip))
        .map(|d| d.name.as_str())
        .collect();
    let all_read = inv.directors().all(|d| {
        directors
            .iter()
            .any(|x| x.name == d.name && x.error.is_none())
    });
    match holders.len() {
        0 if all_read && inv.ecmp.is_some() => {
            problems.push(format!("{vip}: no director announces it, nobody serves it (`journalctl -u lvsprov-announce` and `ipvsadm -Ln` on the directors)"));
            *down = true;
        }
        0 if all_read => {
            problems.push(format!("{vip}: no director holds it, nobody serves it (`journalctl -u keepalived` on the directors)"));
            *down = true;
        }
        0 => problems.push(format!("{vip}: no director that answered holds it")),
        1 => {}
        _ if inv.ecmp.is_some() => {}
        _ => problems.push(format!(
            "{vip}: held by {} at once: a split brain (VRRP between them is lost: firewall, multicast)",
            holders.join(" and ")
        )),
    }
    holders.first().map(|n| n.to_string())
}

fn real_server(
    inv: &Inventory,
    h: &Host,
    r: Result<&Facts, &String>,
    problems: &mut Vec<String>,
) -> RealServerStatus {
    let mut out = RealServerStatus {
        name: h.name.clone(),
        address: h.address.to_string(),
        error: None,
        vips_on_lo: vec![],
    };
    match r {
        Err(e) => {
            problems.push(format!("{}: could not be read ({e})", h.name));
            out.error = Some(e.clone());
        }
        Ok(f) => {
            for s in inv.services_of(h) {
                let on_lo = f.addrs.iter().any(|a| a.dev == "lo" && a.ip == s.vip.0);
                let v = s.vip.to_string();
                if on_lo && !out.vips_on_lo.contains(&v) {
                    out.vips_on_lo.push(v);
                } else if !on_lo
                    && !problems
                        .iter()
                        .any(|p| p.starts_with(&format!("{}: {v} ", h.name)))
                {
                    problems.push(format!(
                        "{}: {v} is not on lo, so it drops every connection sent to it for the VIP (`lvsprov up` puts it back)",
                        h.name
                    ));
                }
            }
        }
    }
    out
}
