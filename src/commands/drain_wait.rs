//! After `drain HOST` set its weight to 0, wait until no client is mid-session on it any more:
//! then it may be stopped without cutting anyone off. First every director must show its weight
//! at 0 (keepalived applies a reload after `systemctl reload` returns), so no new session can
//! start; then the real server's own sockets are counted, not the directors' tables, whose
//! entries outlive the sessions they saw (see [`crate::os::sockets`]). Each host is polled on its
//! own session once a second; the count shows in its progress line.

use crate::facts::addresses;
use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{Host, Inventory, Vip};
use crate::ipvs::Table;
use crate::os::sockets;
pub use crate::report::drain::DrainWait;
use crate::sh;
use crate::shell::Script;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What a poll waits to fall to 0, and the command that counts it.
#[derive(Clone, Copy)]
enum Counted {
    /// The director's services that still give the real server a weight (ipvsadm -Ln).
    Weighted,
    /// Client sessions open on the real server for its VIPs (ss).
    Sessions,
    /// VIPs a drained director still holds (ip addr).
    Vips,
    /// An ECMP director: VIPs it still announces, and packets for them that still arrive.
    Announced,
}

impl Counted {
    fn command(self) -> &'static str {
        match self {
            Counted::Weighted => "ipvsadm -Ln",
            Counted::Sessions => "ss",
            Counted::Vips => "ip addr",
            Counted::Announced => "birdc show protocols; ipvsadm -Ln --stats",
        }
    }
}

/// A director still giving the real server new sessions, or sessions still open on it.
struct Left(u64, Counted);

impl Finish for Left {
    fn word(&self) -> String {
        match self {
            Left(0, Counted::Weighted) => "weight 0".into(),
            Left(_, Counted::Weighted) => "weight not 0 yet".into(),
            Left(n, Counted::Sessions) => format!("{n} open sessions"),
            Left(n, Counted::Vips) => format!("{n} VIPs held"),
            Left(n, Counted::Announced) => format!("{n} announced or arriving"),
        }
    }
}

/// Runs `script` on each of `hosts` once a second until `count` of its output is 0 or the
/// deadline passes, and returns each host's last count.
async fn poll(
    hosts: Vec<Host>,
    opts: &FleetOptions,
    deadline: Instant,
    (script, what): (Script, Counted),
    count: impl Fn(&str) -> u64 + Send + Sync + Clone + 'static,
) -> Vec<(Host, Result<Left, String>)> {
    let results = fleet::each(hosts, opts, move |_, session, progress| {
        let (script, count) = (script.clone(), count.clone());
        async move {
            loop {
                let out = session.run(&script).await?;
                // A missing or failing command must not read as "0 left".
                if out.status != 0 {
                    return Err(crate::error::HostError::Facts(format!(
                        "`{}` exited {}: {}",
                        what.command(),
                        out.status,
                        out.stderr.trim()
                    )));
                }
                let n = count(&out.stdout);
                progress.phase(&Left(n, what).word());
                if n == 0 || Instant::now() >= deadline {
                    return Ok(Left(n, what));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
    .await;
    results
        .into_iter()
        .map(|(h, r)| (h, r.map_err(|e| e.to_string())))
        .collect()
}

pub async fn wait(
    inv: &Inventory,
    host: &Host,
    directors: Vec<Host>,
    opts: &FleetOptions,
    limit: Duration,
) -> DrainWait {
    let started = Instant::now();
    let deadline = started + limit;
    // IPVS lists a mark's real servers on port 0; their sessions are on every port of it.
    let dest_ports: Vec<u16> = inv.services_of(host).map(|s| s.dest_port()).collect();
    let ports: Vec<u16> = inv
        .services_of(host)
        .flat_map(|s| s.ports.iter().copied())
        .collect();
    let vips: Vec<IpAddr> = inv.services_of(host).map(|s| s.vip.0).collect();
    let persistent = inv
        .services_of(host)
        .filter_map(|s| s.persistence_timeout)
        .max();
    let mut errors = Vec::new();
    // Its IPv6 address is a real server of the IPv6 VIPs: drained there too.
    let rips: Vec<IpAddr> = std::iter::once(host.address.into())
        .chain(host.address6.map(IpAddr::V6))
        .collect();
    let weighted = move |list: &str| {
        let table = Table::from_list(list);
        rips.iter()
            .map(|rip| table.weighted_ports(*rip, &dest_ports).len() as u64)
            .sum()
    };
    let ipvs = (
        sh!("PATH=$PATH:/usr/sbin:/sbin ipvsadm -Ln"),
        Counted::Weighted,
    );
    for (d, r) in poll(directors, opts, deadline, ipvs, weighted).await {
        match r {
            Ok(Left(0, _)) => {}
            Ok(_) => errors.push(format!(
                "{}: {}'s weight there is still above 0, so it still gets new connections; see `journalctl -u keepalived` on {}",
                d.name, host.name, d.name
            )),
            Err(e) => errors.push(format!("could not ask {}: {e}", d.name)),
        }
    }
    let mut left = 0;
    if errors.is_empty() {
        let open = move |ss: &str| sockets::open_to(ss, &vips, &ports);
        let ss = (sockets::sessions(), Counted::Sessions);
        for (h, r) in poll(vec![host.clone()], opts, deadline, ss, open).await {
            match r {
                Ok(Left(n, _)) => left = n,
                Err(e) => errors.push(format!(
                    "could not count the sessions open on {}: {e}; it gets no new ones",
                    h.name
                )),
            }
        }
    }
    DrainWait {
        host: host.name.clone(),
        waited_ms: started.elapsed().as_millis(),
        active_left: left,
        drained: left == 0 && errors.is_empty(),
        errors,
        vips_held: None,
        withdrawn: None,
        graceful_shutdown_s: None,
        note: persistent.map(|t| format!(
            "persistence_timeout {t} s: clients that already have a persistence template keep going to {} until it expires; new clients go elsewhere",
            host.name
        )),
    }
}

/// After `drain DIRECTOR` lowered its VRRP priority below every peer's: waits until it holds
/// none of the VIPs (its peers took them over, preempting it).
pub async fn wait_director(
    inv: &Inventory,
    host: &Host,
    opts: &FleetOptions,
    limit: Duration,
) -> DrainWait {
    let started = Instant::now();
    let vips = inv.vips();
    let held = {
        let vips = vips.clone();
        move |text: &str| held_vips(text, &vips).len() as u64
    };
    let script = (addresses::listing(), Counted::Vips);
    let mut errors = Vec::new();
    let mut left = 0;
    for (_, r) in poll(vec![host.clone()], opts, started + limit, script, held).await {
        match r {
            Ok(Left(n, _)) => left = n,
            Err(e) => errors.push(format!("could not ask {}: {e}", host.name)),
        }
    }
    DrainWait {
        host: host.name.clone(),
        waited_ms: started.elapsed().as_millis(),
        active_left: 0,
        drained: left == 0 && errors.is_empty(),
        errors,
        note: None,
        withdrawn: None,
        graceful_shutdown_s: None,
        vips_held: Some(if left == 0 {
            vec![]
        } else {
            vips.iter().map(Vip::to_string).collect()
        }),
    }
}

/// After `drain DIRECTOR` of an ECMP director (its announcer withdraws its VIPs): waits until it
/// announces none and no packet for them reached it in 2 s (the routers send its flows, old and
/// new, to the other directors, which take them up on the same real servers).
pub async fn wait_director_ecmp(
    inv: &Inventory,
    host: &Host,
    opts: &FleetOptions,
    limit: Duration,
) -> DrainWait {
    let started = Instant::now();
    let names: Vec<String> = inv
        .vips()
        .into_iter()
        .map(|v| inv.vip_protocol(v))
        .collect();
    let stats = crate::ipvs::stats::COMMAND;
    let script = (
        sh!(
            "PATH=$PATH:/usr/sbin:/sbin\nbirdc show protocols\necho @@before\n{}\nsleep 2\necho @@after\n{}",
            Script::lit(stats),
            Script::lit(stats)
        ),
        Counted::Announced,
    );
    let count = move |out: &str| {
        let (announced, arriving) = announced_and_arriving(out, &names);
        announced as u64 + arriving
    };
    let mut errors = Vec::new();
    let mut last = String::new();
    for (_, r) in poll(vec![host.clone()], opts, started + limit, script, count).await {
        match r {
            Ok(Left(0, _)) => {}
            Ok(_) => last = "still announced or still reached by packets".into(),
            Err(e) => errors.push(format!("could not ask {}: {e}", host.name)),
        }
    }
    if !last.is_empty() {
        errors.push(format!("{}: {last} when the wait ended; are its routers withdrawing its routes (`lvsprov status`, and the routers' own)?", host.name));
    }
    DrainWait {
        host: host.name.clone(),
        waited_ms: started.elapsed().as_millis(),
        active_left: 0,
        drained: errors.is_empty(),
        errors,
        note: None,
        vips_held: None,
        withdrawn: Some(last.is_empty()),
        graceful_shutdown_s: inv.ecmp.as_ref().map(|e| e.graceful_shutdown),
    }
}

/// From the wait's script: how many of the VIP announcements `names` BIRD still runs, and the
/// packets the director's IPVS services received between its two readings.
fn announced_and_arriving(out: &str, names: &[String]) -> (usize, u64) {
    let text = format!("@@bird\n{out}");
    let sec = crate::facts::sections(&text);
    let get = |k: &str| sec.get(k).cloned().unwrap_or_default();
    let protocols = crate::facts::bgp::parse(&get("bird"));
    let announced = names
        .iter()
        .filter(|n| crate::facts::bgp::announced(&protocols, n))
        .count();
    let packets = |k: &str| -> u64 {
        crate::ipvs::stats::five(&get(k).join("\n"))
            .iter()
            .filter(|((_, dest), _)| dest.is_none())
            .map(|(_, n)| n[1])
            .sum()
    };
    (
        announced,
        packets("after").saturating_sub(packets("before")),
    )
}

/// The `vips` among the addresses [`addresses::listing`] printed.
fn held_vips(text: &str, vips: &[Vip]) -> Vec<Vip> {
    let on = addresses::held(text);
    vips.iter().filter(|v| on.contains(&v.0)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vip_is_held_when_an_interface_carries_it() {
        let text = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n\
                    2: eth0    inet 192.168.100.11/24 brd 192.168.100.255 scope global eth0\n\
                    2: eth0    inet 192.168.100.10/32 scope global eth0:0\n\
                    2: eth0    inet6 fd00:100::10/128 scope global nodad \\       valid_lft forever\n";
        let vips = [
            "192.168.100.10",
            "192.168.100.20",
            "fd00:100::10",
            "fd00:100::20",
        ]
        .map(|v| Vip(v.parse().unwrap()));
        assert_eq!(held_vips(text, &vips), [vips[0], vips[2]]);
        assert!(held_vips("", &vips).is_empty());
    }

    #[test]
    fn an_ecmp_director_is_drained_once_withdrawn_and_no_packet_arrives() {
        let names = ["lvsprov_vip0".to_string()];
        let stats = |pkts: u64| {
            format!(
                "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n\
                  -> RemoteAddress:Port\n\
                TCP  192.168.100.10:80                  200 {pkts} 0 10000 0\n\
                  -> 192.168.100.201:80                 100 {pkts} 0 5000 0\n"
            )
        };
        let out = |state: &str, a: u64, b: u64| {
            format!(
                "BIRD 2.0.12 ready.\nName Proto Table State Since Info\n\
                lvsprov_vip0 Static master4 {state} 10:00:00.000\n\
                lvsprov_peer0 BGP --- up 10:00:00.000 Established\n\
                @@before\n{}@@after\n{}",
                stats(a),
                stats(b)
            )
        };
        assert_eq!(announced_and_arriving(&out("up", 10, 10), &names), (1, 0));
        assert_eq!(announced_and_arriving(&out("down", 10, 17), &names), (0, 7));
        assert_eq!(announced_and_arriving(&out("down", 17, 17), &names), (0, 0));
    }
}
