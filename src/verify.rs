//! `lvsprov verify`: proof that the cluster balances, with the evidence. Runs where lvsprov runs
//! (the vantage point: a client on the VIP's segment, never a director): requests to each VIP,
//! ARP for the VIP, and each host's facts (one exec) for the IPVS table, the VIP holder, the ARP
//! sysctls and the VIP on lo. `--failover` then stops keepalived on the VIP holder and times the
//! outage until the backup serves.

use crate::engine::{read_facts, Options};
use crate::facts::{Facts, Ipvs};
use crate::inventory::{Host, Inventory, Role, Service};
use crate::resources::ipvs::VirtualService;
use crate::ssh::Session;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub expected: String,
    pub seen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub service: String,
    pub requests: usize,
    /// Requests answered, per real server (recognised by its page); `other` and `failed` too.
    pub answers: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub command: String,
    pub checks: Vec<Check>,
    pub distribution: Vec<Distribution>,
    pub failover_seconds: Option<f64>,
    pub summary: BTreeMap<String, usize>,
    pub elapsed_ms: u128,
}

impl VerifyReport {
    pub fn exit_code(&self) -> i32 {
        if self.checks.iter().all(|c| c.ok) {
            0
        } else {
            1
        }
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for d in &self.distribution {
            out.push_str(&format!("{}: {} requests\n", d.service, d.requests));
            for (who, n) in &d.answers {
                out.push_str(&format!(
                    "  {who:<12} {n:>5}  {}\n",
                    "#".repeat((*n * 40).div_ceil(d.requests.max(1)))
                ));
            }
        }
        for c in &self.checks {
            let mark = if c.ok {
                console::style("ok  ").green()
            } else {
                console::style("FAIL").red().bold()
            };
            out.push_str(&format!("{mark} {}: {}", c.name, c.seen));
            if !c.ok {
                out.push_str(&format!(" (expected {})", c.expected));
            }
            out.push('\n');
        }
        if let Some(s) = self.failover_seconds {
            out.push_str(&format!(
                "failover: requests to the VIP failed for {s:.2} s until the backup served them\n"
            ));
        }
        out.push_str(&format!(
            "verify: {} checks, {} passed, {} failed in {:.1} s\n",
            self.summary["checks"],
            self.summary["passed"],
            self.summary["failed"],
            self.elapsed_ms as f64 / 1000.0
        ));
        out
    }
}

fn check(
    name: impl Into<String>,
    ok: bool,
    expected: impl Into<String>,
    seen: impl Into<String>,
) -> Check {
    Check {
        name: name.into(),
        ok,
        expected: expected.into(),
        seen: seen.into(),
    }
}

/// One HTTP/1.0 GET on a new connection (a new connection is what IPVS schedules), body trimmed.
pub async fn get(ip: Ipv4Addr, port: u16, timeout: Duration) -> Result<String, String> {
    let work = async {
        let mut s = tokio::net::TcpStream::connect((ip, port))
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(
            format!("GET / HTTP/1.0\r\nHost: {ip}\r\nUser-Agent: lvsprov-verify\r\n\r\n")
                .as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
        if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1).is_none_or(|c| c != "200")
        {
            return Err(head.lines().next().unwrap_or("").to_string());
        }
        Ok(body.trim().to_string())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| "timed out".to_string())?
}

/// What share of N requests each real server should get, and how far off is still right, for the
/// service as the directors run it (drained servers at weight 0: see `Service::with_drained`).
pub fn expected_shape(service: &Service, n: usize) -> BTreeMap<String, (f64, f64)> {
    let weights: Vec<(String, u32)> = service
        .real_servers
        .iter()
        .map(|m| (m.name.clone(), m.weight))
        .collect();
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    // rr and wrr are deterministic for sequential new connections: ±1. Others: ±15 %.
    let exact = ["rr", "wrr"].contains(&service.scheduler.as_str());
    weights
        .into_iter()
        .map(|(name, w)| {
            let want = if total == 0 {
                0.0
            } else {
                n as f64 * w as f64 / total as f64
            };
            let slack = if w == 0 {
                0.0
            } else if exact {
                1.0
            } else {
                (want * 0.15).max(2.0)
            };
            (name, (want, slack))
        })
        .collect()
}

struct Seen {
    host: Host,
    facts: Result<Facts, String>,
    session: Option<Session>,
}

pub async fn run(inv: &Inventory, opts: &Options, requests: usize, failover: bool) -> VerifyReport {
    let started = Instant::now();
    let mut checks = Vec::new();
    let mut seen = Vec::new();
    let mut tasks = Vec::new();
    for host in inv.hosts.clone() {
        let (inv2, opts2) = (inv.clone(), opts.clone());
        tasks.push(tokio::spawn(async move {
            match Session::connect(host.address, &host.ssh, opts2.accept_new_host_keys).await {
                Err(e) => Seen {
                    host,
                    facts: Err(e.to_string()),
                    session: None,
                },
                Ok(s) => {
                    let facts = read_facts(&inv2, &host, &opts2, &s).await;
                    Seen {
                        host,
                        facts,
                        session: Some(s),
                    }
                }
            }
        }));
    }
    for t in tasks {
        seen.push(t.await.expect("a host task never panics"));
    }
    for s in &seen {
        if let Err(e) = &s.facts {
            checks.push(check(
                format!("{}: reachable", s.host.name),
                false,
                "facts over SSH",
                e.clone(),
            ));
        }
    }
    let directors: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.host.role == Role::Director)
        .collect();
    let drained: BTreeSet<String> = directors
        .iter()
        .filter_map(|d| d.facts.as_ref().ok())
        .flat_map(|f| f.drained.iter().cloned())
        .collect();

    // Directors: the IPVS table as the inventory says, exactly one VIP holder.
    for svc in &inv.services {
        let want = VirtualService::from(&svc.with_drained(&drained)).wanted_lines();
        for d in &directors {
            let Ok(f) = &d.facts else { continue };
            let name = format!("{}: IPVS table for {}:{}", d.host.name, svc.vip, svc.port);
            match &f.ipvs {
                Ipvs::Available(lines) => {
                    let have = VirtualService::from(svc).lines_in(lines);
                    let missing: Vec<&String> = want
                        .iter()
                        .filter(|w| !have.contains(&w.as_str()))
                        .collect();
                    let extra: Vec<&&str> = have
                        .iter()
                        .filter(|h| !want.iter().any(|w| w == **h))
                        .collect();
                    let ok = missing.is_empty() && extra.is_empty();
                    let seen_text = if ok {
                        format!("{} rules as in the inventory", have.len())
                    } else {
                        format!("missing {missing:?}, unexpected {extra:?}")
                    };
                    checks.push(check(name, ok, want.join("; "), seen_text));
                }
                _ => checks.push(check(
                    name,
                    false,
                    "IPVS rules",
                    "this kernel has no IPVS loaded",
                )),
            }
        }
        let holders: Vec<&str> = vip_holders(&directors, svc.vip)
            .map(|d| d.host.name.as_str())
            .collect();
        checks.push(check(
            format!("VIP {} held by exactly one director", svc.vip),
            holders.len() == 1,
            inv.active_director()
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            if holders.is_empty() {
                "nobody".to_string()
            } else {
                holders.join(", ")
            },
        ));
    }

    // Real servers: ARP sysctls, the VIP on lo as /32, the page on their own address.
    for s in seen.iter().filter(|s| s.host.role == Role::RealServer) {
        let Ok(f) = &s.facts else { continue };
        let nic = inv
            .services
            .first()
            .and_then(|v| f.nic_for(v.vip))
            .unwrap_or("eth0");
        let wrong: Vec<String> = [
            ("all", "arp_ignore", "1"),
            ("all", "arp_announce", "2"),
            (nic, "arp_ignore", "1"),
            (nic, "arp_announce", "2"),
        ]
        .iter()
        .filter_map(|(dev, leaf, want)| {
            let key = format!("net.ipv4.conf.{dev}.{leaf}");
            let now = f.sysctls.get(&key).cloned().unwrap_or_else(|| "?".into());
            (now != *want).then(|| format!("{key}={now}"))
        })
        .collect();
        checks.push(check(
            format!("{}: ARP sysctls", s.host.name),
            wrong.is_empty(),
            "arp_ignore=1, arp_announce=2 on all and the NIC",
            if wrong.is_empty() {
                "set".into()
            } else {
                wrong.join(", ")
            },
        ));
        for svc in inv.services_of(&s.host) {
            let on_lo: Vec<String> = f
                .addrs
                .iter()
                .filter(|a| a.ip == svc.vip && a.dev == "lo")
                .map(|a| format!("{}/{}", a.ip, a.prefix))
                .collect();
            checks.push(check(
                format!("{}: VIP {} on lo", s.host.name, svc.vip),
                on_lo == [format!("{}/32", svc.vip)],
                format!("{}/32", svc.vip),
                if on_lo.is_empty() {
                    "absent".into()
                } else {
                    on_lo.join(", ")
                },
            ));
            let page = s.host.page.clone().unwrap_or_default();
            let got = get(s.host.address, svc.port, Duration::from_secs(3)).await;
            checks.push(check(
                format!("{}: page on {}:{}", s.host.name, s.host.address, svc.port),
                got.as_deref() == Ok(page.trim()),
                page.trim().to_string(),
                got.unwrap_or_else(|e| format!("error: {e}")),
            ));
        }
    }

    // Through the VIP: the distribution, then who answered ARP.
    let mut distribution = Vec::new();
    for svc in &inv.services {
        let pages: Vec<(String, String)> = svc
            .real_servers
            .iter()
            .filter_map(|m| inv.hosts.iter().find(|h| h.name == m.name))
            .map(|h| {
                (
                    h.page.clone().unwrap_or_default().trim().to_string(),
                    h.name.clone(),
                )
            })
            .collect();
        let mut answers: BTreeMap<String, usize> = svc
            .real_servers
            .iter()
            .map(|m| (m.name.clone(), 0))
            .collect();
        for _ in 0..requests {
            let who = match get(svc.vip, svc.port, Duration::from_secs(2)).await {
                Ok(body) => pages
                    .iter()
                    .find(|(p, _)| *p == body)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| "other".into()),
                Err(_) => "failed".into(),
            };
            *answers.entry(who).or_default() += 1;
        }
        let shape = expected_shape(&svc.with_drained(&drained), requests);
        for (name, (want, slack)) in &shape {
            let got = answers.get(name).copied().unwrap_or(0) as f64;
            checks.push(check(
                format!("{}:{} → {name}", svc.vip, svc.port),
                (got - want).abs() <= *slack,
                format!("{want:.0} ± {slack:.0} of {requests} ({})", svc.scheduler),
                format!("{got:.0}"),
            ));
        }
        let stray: usize = answers
            .iter()
            .filter(|(k, _)| !shape.contains_key(*k))
            .map(|(_, v)| v)
            .sum();
        checks.push(check(
            format!(
                "{}:{} every request answered by a real server",
                svc.vip, svc.port
            ),
            stray == 0,
            "0 failed or unknown answers",
            format!("{stray}"),
        ));
        distribution.push(Distribution {
            service: format!("{}:{}", svc.vip, svc.port),
            requests,
            answers,
        });

        let holder = vip_holders(&directors, svc.vip).next();
        let holder_mac = holder.and_then(|d| {
            let f = d.facts.as_ref().ok()?;
            let dev = &f.addrs.iter().find(|a| a.ip == svc.vip)?.dev;
            f.macs.get(dev).cloned().map(|m| (d.host.name.clone(), m))
        });
        let macs = arp_answers(svc.vip).await;
        let names: Vec<String> = macs
            .iter()
            .map(|mac| {
                seen.iter()
                    .find(|s| {
                        s.facts
                            .as_ref()
                            .is_ok_and(|f| f.macs.values().any(|m| m == mac))
                    })
                    .map(|s| format!("{} ({mac})", s.host.name))
                    .unwrap_or_else(|| mac.clone())
            })
            .collect();
        let ok = match (&holder_mac, macs.as_slice()) {
            (Some((_, m)), [only]) => m == only,
            _ => false,
        };
        checks.push(check(
            format!("ARP for {} answered only by the VIP holder", svc.vip),
            ok,
            holder_mac
                .map(|(n, m)| format!("{n} ({m})"))
                .unwrap_or_else(|| "a director holding the VIP".into()),
            if names.is_empty() {
                "no answer".into()
            } else {
                names.join(", ")
            },
        ));
    }

    let mut failover_seconds = None;
    if failover {
        let holder = inv
            .services
            .first()
            .and_then(|svc| vip_holders(&directors, svc.vip).next());
        match (holder, inv.services.first()) {
            (Some(d), Some(svc)) => {
                let (c, secs) = failover_check(d, svc).await;
                failover_seconds = secs;
                checks.push(c);
            }
            _ => checks.push(check(
                "failover",
                false,
                "a director holding the VIP",
                "none",
            )),
        }
    }
    for s in seen {
        if let Some(sess) = s.session {
            sess.close().await;
        }
    }
    let passed = checks.iter().filter(|c| c.ok).count();
    let summary = BTreeMap::from([
        ("checks".to_string(), checks.len()),
        ("passed".to_string(), passed),
        ("failed".to_string(), checks.len() - passed),
    ]);
    VerifyReport {
        command: "verify".into(),
        checks,
        distribution,
        failover_seconds,
        summary,
        elapsed_ms: started.elapsed().as_millis(),
    }
}

/// The directors whose facts show `vip` on an interface.
fn vip_holders<'a, 'b>(
    directors: &'b [&'a Seen],
    vip: Ipv4Addr,
) -> impl Iterator<Item = &'a Seen> + 'b {
    directors.iter().copied().filter(move |d| {
        d.facts
            .as_ref()
            .is_ok_and(|f| f.addrs.iter().any(|a| a.ip == vip))
    })
}

/// MACs that answer ARP for `ip`, asked from here: `arping` when present, else the neighbour table.
async fn arp_answers(ip: Ipv4Addr) -> Vec<String> {
    let dev = tokio::process::Command::new("ip")
        .args(["-o", "route", "get", &ip.to_string()])
        .output()
        .await
        .ok()
        .and_then(|o| {
            let t = String::from_utf8_lossy(&o.stdout).into_owned();
            let w: Vec<&str> = t.split_whitespace().collect();
            w.iter()
                .position(|x| *x == "dev")
                .and_then(|i| w.get(i + 1))
                .map(|s| s.to_string())
        });
    let mut macs = BTreeSet::new();
    if let Some(dev) = &dev {
        if let Ok(o) = tokio::process::Command::new("arping")
            .args(["-c", "3", "-w", "4", "-I", dev, &ip.to_string()])
            .output()
            .await
        {
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                if let Some(mac) = line.split('[').nth(1).and_then(|r| r.split(']').next()) {
                    macs.insert(mac.to_lowercase());
                }
            }
        }
    }
    if macs.is_empty() {
        if let Ok(o) = tokio::process::Command::new("ip")
            .args(["neigh", "show", &ip.to_string()])
            .output()
            .await
        {
            let t = String::from_utf8_lossy(&o.stdout).into_owned();
            let w: Vec<&str> = t.split_whitespace().collect();
            if let Some(m) = w
                .iter()
                .position(|x| *x == "lladdr")
                .and_then(|i| w.get(i + 1))
            {
                macs.insert(m.to_lowercase());
            }
        }
    }
    macs.into_iter().collect()
}

async fn failover_check(holder: &Seen, svc: &Service) -> (Check, Option<f64>) {
    let name = format!("failover from {}", holder.host.name);
    let Some(session) = &holder.session else {
        return (check(name, false, "an SSH session", "none"), None);
    };
    let systemd = holder.facts.as_ref().is_ok_and(|f| f.has_systemd());
    let (stop, start) = if systemd {
        ("systemctl stop keepalived", "systemctl start keepalived")
    } else {
        ("service keepalived stop", "service keepalived start")
    };
    if let Err(e) = session.run(stop).await {
        return (
            check(name, false, "keepalived stopped", e.to_string()),
            None,
        );
    }
    let stopped = Instant::now();
    let mut first_fail: Option<Instant> = None;
    let mut back: Option<Instant> = None;
    let mut successes_after_stop = 0;
    while stopped.elapsed() < Duration::from_secs(30) {
        match get(svc.vip, svc.port, Duration::from_millis(500)).await {
            Ok(_) => {
                successes_after_stop += 1;
                if first_fail.is_some() && back.is_none() {
                    back = Some(Instant::now());
                }
                if back.is_some() || (first_fail.is_none() && successes_after_stop >= 20) {
                    break;
                }
            }
            Err(_) => {
                first_fail.get_or_insert_with(Instant::now);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = session.run(start).await;
    let outage = match (first_fail, back) {
        (Some(f), Some(b)) => Some(b.duration_since(f).as_secs_f64()),
        (None, _) => Some(0.0),
        _ => None,
    };
    // Let the restarted master take the VIP back before anything else runs.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && get(svc.vip, svc.port, Duration::from_millis(500))
            .await
            .is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match outage {
        Some(s) => (
            check(
                name,
                true,
                "the backup serves the VIP within 30 s",
                format!("served again after {s:.2} s"),
            ),
            Some(s),
        ),
        None => (
            check(
                name,
                false,
                "the backup serves the VIP within 30 s",
                "no answer for 30 s",
            ),
            None,
        ),
    }
}
