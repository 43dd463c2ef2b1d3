//! What `status` saw: the cluster now, as one verdict line and a table for people, one JSON
//! document for scripts, or Prometheus' text exposition for a scraper.

use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub version: u32,
    pub command: &'static str,
    /// `healthy`, `degraded` (serving, with problems) or `down` (a VIP nobody serves).
    pub health: &'static str,
    /// What makes it less than healthy, one line each, with where to look.
    pub problems: Vec<String>,
    pub directors: Vec<DirectorStatus>,
    pub services: Vec<ServiceStatus>,
    pub real_servers: Vec<RealServerStatus>,
    pub elapsed_ms: u128,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectorStatus {
    pub name: String,
    pub address: String,
    /// Why it could not be read; the rest is empty then.
    pub error: Option<String>,
    /// `systemctl is-active keepalived`.
    pub keepalived: String,
    /// VRRP instance → its state as keepalived last logged it (MASTER, BACKUP, FAULT).
    pub vrrp: std::collections::BTreeMap<String, String>,
    pub priority: Option<u8>,
    /// The VIPs on its NIC: it is their MASTER.
    pub holds: Vec<String>,
    /// IPVS sync daemons running: `master`, `backup`.
    pub sync_daemons: Vec<String>,
    /// Entries in its connection table; a backup far below the holder is not keeping up.
    pub conn_entries: u64,
    /// Real servers drained here (`lvsprov drain`).
    pub drained: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub vip: String,
    pub port: u16,
    pub protocol: &'static str,
    pub scheduler: &'static str,
    /// The director holding the VIP; its table is the one the numbers come from.
    pub holder: Option<String>,
    /// Since the service was added on the holder (IPVS counters).
    pub conns_total: u64,
    pub cps: u64,
    pub in_bps: u64,
    pub real_servers: Vec<MemberStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberStatus {
    pub name: String,
    pub address: String,
    /// `up` (takes new connections), `drained` (weight 0 by `lvsprov drain`), `down` (keepalived's
    /// check took it out, or weight 0 that nobody asked for), `unknown` (no holder to ask).
    pub check: &'static str,
    pub weight: Option<u32>,
    pub active: u64,
    pub inactive: u64,
    pub conns_total: u64,
    pub in_packets_total: u64,
    pub in_bytes_total: u64,
    pub cps: u64,
    pub in_pps: u64,
    pub in_bps: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RealServerStatus {
    pub name: String,
    pub address: String,
    pub error: Option<String>,
    /// VIPs it carries on `lo`: without one, every connection sent to it for that VIP is lost.
    pub vips_on_lo: Vec<String>,
}

impl StatusReport {
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "status: {}", self.health);
        for p in &self.problems {
            let _ = writeln!(out, "  ! {p}");
        }
        for d in &self.directors {
            if let Some(e) = &d.error {
                let _ = writeln!(out, "director {}: unreachable: {e}", d.name);
                continue;
            }
            let vrrp: Vec<String> = d.vrrp.iter().map(|(i, s)| format!("{i} {s}")).collect();
            let _ = writeln!(
                out,
                "director {} ({}): keepalived {}, {}, priority {}, holds [{}], sync [{}], {} conn entries{}",
                d.name,
                d.address,
                d.keepalived,
                if vrrp.is_empty() { "no VRRP state logged".into() } else { vrrp.join(", ") },
                d.priority.map_or("-".into(), |p| p.to_string()),
                d.holds.join(", "),
                d.sync_daemons.join(", "),
                d.conn_entries,
                if d.drained.is_empty() { String::new() } else { format!(", drained: {}", d.drained.join(", ")) },
            );
        }
        for s in &self.services {
            let _ = writeln!(
                out,
                "{} {}:{} {} via {}: {} conns, {} conn/s, {} B/s in",
                s.protocol,
                s.vip,
                s.port,
                s.scheduler,
                s.holder.as_deref().unwrap_or("nobody"),
                s.conns_total,
                s.cps,
                s.in_bps
            );
            let _ = writeln!(
                out,
                "  {:<12} {:<16} {:<8} {:>6} {:>7} {:>9} {:>9} {:>7} {:>10}",
                "real server",
                "address",
                "check",
                "weight",
                "active",
                "inactive",
                "conns",
                "conn/s",
                "in B/s"
            );
            for m in &s.real_servers {
                let _ = writeln!(
                    out,
                    "  {:<12} {:<16} {:<8} {:>6} {:>7} {:>9} {:>9} {:>7} {:>10}",
                    m.name,
                    m.address,
                    m.check,
                    m.weight.map_or("-".into(), |w| w.to_string()),
                    m.active,
                    m.inactive,
                    m.conns_total,
                    m.cps,
                    m.in_bps
                );
            }
        }
        for r in &self.real_servers {
            match &r.error {
                Some(e) => {
                    let _ = writeln!(out, "real server {}: unreachable: {e}", r.name);
                }
                None => {
                    let _ = writeln!(
                        out,
                        "real server {} ({}): VIPs on lo [{}]",
                        r.name,
                        r.address,
                        r.vips_on_lo.join(", ")
                    );
                }
            }
        }
        out
    }

    /// Prometheus' text exposition format (version 0.0.4): each family's HELP and TYPE once, then
    /// its samples. Counters end in `_total`; label values are escaped.
    pub fn prometheus(&self) -> String {
        let mut fams = Families::default();
        fams.gauge(
            "lvsprov_up",
            "1: the cluster is healthy, 0: degraded or down.",
            &[],
            u64::from(self.health == "healthy"),
        );
        for d in &self.directors {
            let l = [("director", d.name.as_str())];
            fams.gauge(
                "lvsprov_director_reachable",
                "1: lvsprov read the director over SSH.",
                &l,
                u64::from(d.error.is_none()),
            );
            if d.error.is_some() {
                continue;
            }
            fams.gauge(
                "lvsprov_keepalived_active",
                "1: keepalived runs on the director.",
                &l,
                u64::from(d.keepalived == "active"),
            );
            fams.gauge(
                "lvsprov_ipvs_connection_entries",
                "Entries in the director's IPVS connection table.",
                &l,
                d.conn_entries,
            );
            for (inst, state) in &d.vrrp {
                for s in ["MASTER", "BACKUP", "FAULT"] {
                    fams.gauge(
                        "lvsprov_vrrp_state",
                        "1 for the VRRP state keepalived last logged for the instance.",
                        &[("director", &d.name), ("instance", inst), ("state", s)],
                        u64::from(state == s),
                    );
                }
            }
            for daemon in ["master", "backup"] {
                fams.gauge(
                    "lvsprov_ipvs_sync_daemon",
                    "1: the IPVS sync daemon of this kind runs.",
                    &[("director", &d.name), ("daemon", daemon)],
                    u64::from(d.sync_daemons.iter().any(|x| x == daemon)),
                );
            }
            for s in &self.services {
                fams.gauge(
                    "lvsprov_vip_held",
                    "1: the director holds the VIP.",
                    &[("vip", &s.vip), ("director", &d.name)],
                    u64::from(d.holds.contains(&s.vip)),
                );
            }
        }
        for s in &self.services {
            let Some(holder) = &s.holder else { continue };
            let port = s.port.to_string();
            for m in &s.real_servers {
                let l = [
                    ("vip", s.vip.as_str()),
                    ("port", port.as_str()),
                    ("protocol", s.protocol),
                    ("director", holder.as_str()),
                    ("real_server", m.name.as_str()),
                ];
                let help = |what: &str| format!("{what}, on the VIP holder's IPVS table.");
                fams.gauge(
                    "lvsprov_real_server_weight",
                    &help("The real server's weight"),
                    &l,
                    u64::from(m.weight.unwrap_or(0)),
                );
                fams.gauge(
                    "lvsprov_real_server_up",
                    &help("1: the real server takes new connections"),
                    &l,
                    u64::from(m.check == "up"),
                );
                fams.gauge(
                    "lvsprov_real_server_active_connections",
                    &help("Active connections"),
                    &l,
                    m.active,
                );
                fams.gauge(
                    "lvsprov_real_server_inactive_connections",
                    &help("Inactive connections"),
                    &l,
                    m.inactive,
                );
                fams.counter(
                    "lvsprov_real_server_connections_total",
                    &help("Connections scheduled to it"),
                    &l,
                    m.conns_total,
                );
                fams.counter(
                    "lvsprov_real_server_in_packets_total",
                    &help("Packets forwarded to it"),
                    &l,
                    m.in_packets_total,
                );
                fams.counter(
                    "lvsprov_real_server_in_bytes_total",
                    &help("Bytes forwarded to it"),
                    &l,
                    m.in_bytes_total,
                );
            }
        }
        fams.render()
    }
}

/// Metric families in the order first seen, each with its sample lines.
#[derive(Default)]
struct Families(Vec<(String, String, &'static str, Vec<String>)>);

impl Families {
    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: u64) {
        self.put(name, help, "gauge", labels, value)
    }
    fn counter(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: u64) {
        self.put(name, help, "counter", labels, value)
    }
    fn put(
        &mut self,
        name: &str,
        help: &str,
        kind: &'static str,
        labels: &[(&str, &str)],
        value: u64,
    ) {
        let i = match self.0.iter().position(|f| f.0 == name) {
            Some(i) => i,
            None => {
                self.0.push((name.into(), help.into(), kind, vec![]));
                self.0.len() - 1
            }
        };
        let mut line = name.to_string();
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n");
                    format!("{k}=\"{v}\"")
                })
                .collect();
            let _ = write!(line, "{{{}}}", l.join(","));
        }
        let _ = write!(line, " {value}");
        self.0[i].3.push(line);
    }
    fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, kind, samples) in &self.0 {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for s in samples {
                let _ = writeln!(out, "{s}");
            }
        }
        out
    }
}
