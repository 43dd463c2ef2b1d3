//! What `status` saw: the cluster now, as one verdict line and a table for people, one JSON
//! document for scripts, or Prometheus' text exposition for a scraper.

use serde::Serialize;
use std::collections::BTreeMap;
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
    /// ECMP: each router's address → the BGP session's state (`Established`, `Active`, ...).
    /// `holds` then lists the VIPs it announces.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub bgp: BTreeMap<String, String>,
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
        let mut out = format!("status: {}\n", self.health);
        for p in &self.problems {
            let _ = writeln!(out, "  ! {p}");
        }
        for d in &self.directors {
            out.push_str(&d.human());
        }
        for s in &self.services {
            out.push_str(&s.human());
        }
        for r in &self.real_servers {
            let _ = match &r.error {
                Some(e) => writeln!(out, "real server {}: unreachable: {e}", r.name),
                None => writeln!(
                    out,
                    "real server {} ({}): VIPs on lo [{}]",
                    r.name,
                    r.address,
                    r.vips_on_lo.join(", ")
                ),
            };
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
            d.metrics(&mut fams, &self.services);
        }
        for s in &self.services {
            s.metrics(&mut fams);
        }
        fams.render()
    }
}

impl DirectorStatus {
    fn human(&self) -> String {
        if let Some(e) = &self.error {
            return format!("director {}: unreachable: {e}\n", self.name);
        }
        if !self.bgp.is_empty() {
            let bgp: Vec<String> = self.bgp.iter().map(|(r, s)| format!("{r} {s}")).collect();
            return format!(
                "director {} ({}): keepalived {}, BGP [{}], announces [{}], {} conn entries{}\n",
                self.name,
                self.address,
                self.keepalived,
                bgp.join(", "),
                self.holds.join(", "),
                self.conn_entries,
                if self.drained.is_empty() {
                    String::new()
                } else {
                    format!(", drained: {}", self.drained.join(", "))
                },
            );
        }
        let vrrp: Vec<String> = self.vrrp.iter().map(|(i, s)| format!("{i} {s}")).collect();
        format!(
            "director {} ({}): keepalived {}, {}, priority {}, holds [{}], sync [{}], {} conn entries{}\n",
            self.name,
            self.address,
            self.keepalived,
            if vrrp.is_empty() { "no VRRP state logged".into() } else { vrrp.join(", ") },
            self.priority.map_or("-".into(), |p| p.to_string()),
            self.holds.join(", "),
            self.sync_daemons.join(", "),
            self.conn_entries,
            if self.drained.is_empty() { String::new() } else { format!(", drained: {}", self.drained.join(", ")) },
        )
    }

    fn metrics(&self, fams: &mut Families, services: &[ServiceStatus]) {
        let l = [("director", self.name.as_str())];
        fams.gauge(
            "lvsprov_director_reachable",
            "1: lvsprov read the director over SSH.",
            &l,
            u64::from(self.error.is_none()),
        );
        if self.error.is_some() {
            return;
        }
        fams.gauge(
            "lvsprov_keepalived_active",
            "1: keepalived runs on the director.",
            &l,
            u64::from(self.keepalived == "active"),
        );
        fams.gauge(
            "lvsprov_ipvs_connection_entries",
            "Entries in the director's IPVS connection table.",
            &l,
            self.conn_entries,
        );
        for (inst, state) in &self.vrrp {
            for s in ["MASTER", "BACKUP", "FAULT"] {
                fams.gauge(
                    "lvsprov_vrrp_state",
                    "1 for the VRRP state keepalived last logged for the instance.",
                    &[("director", &self.name), ("instance", inst), ("state", s)],
                    u64::from(state == s),
                );
            }
        }
        for (router, state) in &self.bgp {
            fams.gauge(
                "lvsprov_bgp_session_established",
                "1: the director's BGP session with the router is established (ECMP).",
                &[("director", &self.name), ("router", router)],
                u64::from(state == "Established"),
            );
        }
        for daemon in ["master", "backup"] {
            fams.gauge(
                "lvsprov_ipvs_sync_daemon",
                "1: the IPVS sync daemon of this kind runs.",
                &[("director", &self.name), ("daemon", daemon)],
                u64::from(self.sync_daemons.iter().any(|x| x == daemon)),
            );
        }
        for s in services {
            fams.gauge(
                "lvsprov_vip_held",
                "1: the director holds the VIP (ECMP: announces it).",
                &[("vip", &s.vip), ("director", &self.name)],
                u64::from(self.holds.contains(&s.vip)),
            );
        }
    }
}

impl ServiceStatus {
    fn human(&self) -> String {
        let mut out = format!(
            "{} {}:{} {} via {}: {} conns, {} conn/s, {} B/s in\n",
            self.protocol,
            self.vip,
            self.port,
            self.scheduler,
            self.holder.as_deref().unwrap_or("nobody"),
            self.conns_total,
            self.cps,
            self.in_bps
        );
        let row = |c: [&str; 9]| {
            format!(
                "  {:<12} {:<16} {:<8} {:>6} {:>7} {:>9} {:>9} {:>7} {:>10}\n",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
            )
        };
        out.push_str(&row([
            "real server",
            "address",
            "check",
            "weight",
            "active",
            "inactive",
            "conns",
            "conn/s",
            "in B/s",
        ]));
        for m in &self.real_servers {
            let n = [m.active, m.inactive, m.conns_total, m.cps, m.in_bps].map(|v| v.to_string());
            let weight = m.weight.map_or("-".into(), |w| w.to_string());
            out.push_str(&row([
                &m.name, &m.address, m.check, &weight, &n[0], &n[1], &n[2], &n[3], &n[4],
            ]));
        }
        out
    }

    /// The holder's numbers per real server; none without a holder.
    fn metrics(&self, fams: &mut Families) {
        let Some(holder) = &self.holder else { return };
        let port = self.port.to_string();
        for m in &self.real_servers {
            let l = [
                ("vip", self.vip.as_str()),
                ("port", port.as_str()),
                ("protocol", self.protocol),
                ("director", holder.as_str()),
                ("real_server", m.name.as_str()),
            ];
            let help = |what: &str| format!("{what}, on the VIP holder's IPVS table.");
            let gauges = [
                (
                    "weight",
                    "The real server's weight",
                    u64::from(m.weight.unwrap_or(0)),
                ),
                (
                    "up",
                    "1: the real server takes new connections",
                    u64::from(m.check == "up"),
                ),
                ("active_connections", "Active connections", m.active),
                ("inactive_connections", "Inactive connections", m.inactive),
            ];
            for (name, what, v) in gauges {
                fams.gauge(&format!("lvsprov_real_server_{name}"), &help(what), &l, v);
            }
            let counters = [
                (
                    "connections_total",
                    "Connections scheduled to it",
                    m.conns_total,
                ),
                (
                    "in_packets_total",
                    "Packets forwarded to it",
                    m.in_packets_total,
                ),
                ("in_bytes_total", "Bytes forwarded to it", m.in_bytes_total),
            ];
            for (name, what, v) in counters {
                fams.counter(&format!("lvsprov_real_server_{name}"), &help(what), &l, v);
            }
        }
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
