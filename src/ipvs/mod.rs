//! The one IPVS model: virtual services (by address or firewall mark, IPv4 or IPv6), their real
//! servers, connection entries and the sync daemons, parsed from what `ipvsadm` and the kernel
//! print (`ipvsadm-save -n`, `ipvsadm -Ln`, `--stats`, `--rate`, `-L --daemon`, `-L --timeout`,
//! `/proc/net/ip_vs_conn`) and rendered back to `ipvsadm` rules. Every reader of IPVS state
//! (facts, the ipvs resource, drain, rolling, import, verify) goes through it, so a format is
//! parsed once, here.
//!
//! Options the model has no field for are kept in `other`, so a service with one of them is
//! never equal to one lvsprov wants, and shows in a diff as it reads.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

mod kernel;
pub mod stats;
pub use kernel::{conns, daemons, timeouts, Conn};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    /// The flag `ipvsadm` takes and `ipvsadm-save` prints.
    pub fn flag(self) -> &'static str {
        match self {
            Proto::Tcp => "-t",
            Proto::Udp => "-u",
            Proto::Sctp => "--sctp-service",
        }
    }

    /// The word `ipvsadm -Ln` prints (read back by [`proto_word`]).
    pub fn word(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
            Proto::Sctp => "SCTP",
        }
    }
}

/// What a virtual service is known by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Addr(Proto, SocketAddr),
    /// `-f MARK`: every packet the firewall marked so, whatever its port.
    Mark(u32),
}

impl Key {
    /// As `ipvsadm -Ln` lists it (its first two words): `TCP 192.168.100.10:80`, `FWM 1`.
    pub fn listed(&self) -> String {
        match self {
            Key::Addr(p, a) => format!("{} {a}", p.word()),
            Key::Mark(m) => format!("FWM {m}"),
        }
    }
}

impl fmt::Display for Key {
    /// As `ipvsadm` takes it: `-t 192.168.100.10:80`, `-u [fd00:100::10]:53`, `-f 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Addr(p, a) => write!(f, "{} {a}", p.flag()),
            Key::Mark(m) => write!(f, "-f {m}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `-g`, direct routing: the only one lvsprov builds.
    Route,
    /// `-m`, NAT.
    Masq,
    /// `-i`, IP-in-IP.
    Tunnel,
}

impl Method {
    fn flag(self) -> &'static str {
        match self {
            Method::Route => "-g",
            Method::Masq => "-m",
            Method::Tunnel => "-i",
        }
    }
    fn from_flag(f: &str) -> Option<Method> {
        match f {
            "-g" | "--gatewaying" => Some(Method::Route),
            "-m" | "--masquerading" => Some(Method::Masq),
            "-i" | "--ipip" => Some(Method::Tunnel),
            _ => None,
        }
    }
    fn from_word(w: &str) -> Option<Method> {
        match w {
            "Route" | "Local" => Some(Method::Route),
            "Masq" => Some(Method::Masq),
            "Tunnel" => Some(Method::Tunnel),
            _ => None,
        }
    }
}

/// A real server of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub addr: SocketAddr,
    pub method: Method,
    pub weight: u32,
    /// From `ipvsadm -Ln` only (0 in saved rules).
    pub active: u64,
    pub inactive: u64,
    pub other: Vec<String>,
}

impl Dest {
    pub fn new(addr: SocketAddr, weight: u32) -> Dest {
        Dest {
            addr,
            method: Method::Route,
            weight,
            active: 0,
            inactive: 0,
            other: vec![],
        }
    }

    /// The same rule, whatever its connection counts.
    pub fn same_rule(&self, o: &Dest) -> bool {
        (self.addr, self.method, self.weight, &self.other) == (o.addr, o.method, o.weight, &o.other)
    }

    /// `ipvsadm OP KEY -r ADDR -g -w W`, as words (`-a` adds, `-e` edits).
    pub fn args(&self, op: &str, key: &Key) -> Vec<String> {
        let mut a = vec![op.to_string()];
        a.extend(key.to_string().split(' ').map(str::to_string));
        a.extend([
            "-r".into(),
            self.addr.to_string(),
            self.method.flag().into(),
        ]);
        a.extend(["-w".into(), self.weight.to_string()]);
        a.extend(self.other.iter().cloned());
        a
    }
}

/// A virtual service and its real servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub key: Key,
    pub scheduler: String,
    pub persistence: Option<u32>,
    pub other: Vec<String>,
    pub dests: Vec<Dest>,
}

impl Service {
    pub fn new(key: Key, scheduler: &str, persistence: Option<u32>) -> Service {
        Service {
            key,
            scheduler: scheduler.to_string(),
            persistence,
            other: vec![],
            dests: vec![],
        }
    }

    /// `ipvsadm OP KEY -s SCHED [-p T]`, as words (`-A` adds, `-E` edits).
    pub fn args(&self, op: &str) -> Vec<String> {
        let mut a = vec![op.to_string()];
        a.extend(self.key.to_string().split(' ').map(str::to_string));
        a.extend(["-s".into(), self.scheduler.clone()]);
        if let Some(t) = self.persistence {
            a.extend(["-p".into(), t.to_string()]);
        }
        a.extend(self.other.iter().cloned());
        a
    }

    /// The service's own rule as `ipvsadm-save -n` prints it.
    pub fn rule(&self) -> String {
        self.args("-A").join(" ")
    }

    /// Every rule of the service (its own, then each real server's) as `ipvsadm-save -n` prints it.
    pub fn rules(&self) -> Vec<String> {
        let mut out = vec![self.rule()];
        out.extend(self.dests.iter().map(|d| d.args("-a", &self.key).join(" ")));
        out
    }

    /// Its settings equal `o`'s (real servers aside).
    pub fn same_settings(&self, o: &Service) -> bool {
        (self.key, &self.scheduler, self.persistence, &self.other)
            == (o.key, &o.scheduler, o.persistence, &o.other)
    }

    pub fn dest(&self, ip: IpAddr, port: Option<u16>) -> Option<&Dest> {
        self.dests
            .iter()
            .find(|d| d.addr.ip() == ip && port.is_none_or(|p| d.addr.port() == p))
    }
}

/// A director's IPVS table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub services: Vec<Service>,
}

impl Table {
    /// From `ipvsadm-save -n` (`ipvsadm -Sn`): `-A`/`-a` rule lines; anything else is skipped.
    pub fn from_save(text: &str) -> Table {
        let mut t = Table::default();
        for line in text.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            let Some((key, rest)) = w.get(1..).and_then(key_of) else {
                continue;
            };
            match w[0] {
                "-A" => t.services.push(service_opts(key, rest)),
                "-a" => {
                    if let Some(d) = dest_opts(rest) {
                        t.entry(key).dests.push(d);
                    }
                }
                _ => {}
            }
        }
        t
    }

    /// From `ipvsadm -Ln` (with `--stats` or `--rate` the counts differ, the rows do not).
    pub fn from_list(text: &str) -> Table {
        let mut t = Table::default();
        for line in text.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.first().copied() {
                Some("->") => {
                    let (Some(addr), Some(svc)) =
                        (w.get(1).and_then(|a| a.parse().ok()), t.services.last_mut())
                    else {
                        continue;
                    };
                    let num = |i: usize| w.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
                    svc.dests.push(Dest {
                        addr,
                        method: w
                            .get(2)
                            .and_then(|m| Method::from_word(m))
                            .unwrap_or(Method::Route),
                        weight: num(3) as u32,
                        active: num(4),
                        inactive: num(5),
                        other: vec![],
                    });
                }
                Some(p @ ("TCP" | "UDP" | "SCTP" | "FWM")) => {
                    let key = match (p, w.get(1)) {
                        ("FWM", Some(m)) => m.parse().ok().map(Key::Mark),
                        (_, Some(a)) => a.parse().ok().map(|a| Key::Addr(proto_word(p), a)),
                        _ => None,
                    };
                    let Some(key) = key else { continue };
                    let mut s = Service::new(key, w.get(2).copied().unwrap_or(""), None);
                    let mut rest = w.get(3..).unwrap_or_default().iter();
                    while let Some(o) = rest.next() {
                        match *o {
                            "persistent" => {
                                s.persistence = rest.next().and_then(|v| v.parse().ok())
                            }
                            o => s.other.push(o.to_string()),
                        }
                    }
                    t.services.push(s);
                }
                _ => {}
            }
        }
        t
    }

    pub fn service(&self, key: &Key) -> Option<&Service> {
        self.services.iter().find(|s| s.key == *key)
    }

    fn entry(&mut self, key: Key) -> &mut Service {
        if self.service(&key).is_none() {
            self.services.push(Service::new(key, "", None));
        }
        self.services
            .iter_mut()
            .find(|s| s.key == key)
            .expect("just added")
    }

    /// Every rule, as `ipvsadm-save -n` prints them.
    pub fn rules(&self) -> Vec<String> {
        self.services.iter().flat_map(Service::rules).collect()
    }

    /// Active connections to `ip` on any service whose port is in `ports`.
    pub fn active_to(&self, ip: IpAddr, ports: &[u16]) -> u64 {
        self.dests_of(ip, ports).map(|d| d.active).sum()
    }

    /// The ones of `ports` on which `ip` is listed with a weight above 0 (it takes new
    /// connections there).
    pub fn weighted_ports(&self, ip: IpAddr, ports: &[u16]) -> Vec<u16> {
        let mut out: Vec<u16> = self
            .dests_of(ip, ports)
            .filter(|d| d.weight > 0)
            .map(|d| d.addr.port())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// `ip` is listed on every one of `ports` with a weight above 0: it takes new connections.
    pub fn serves(&self, ip: IpAddr, ports: &[u16]) -> bool {
        let weighted = self.weighted_ports(ip, ports);
        ports.iter().all(|p| weighted.contains(p))
    }

    fn dests_of<'a>(&'a self, ip: IpAddr, ports: &'a [u16]) -> impl Iterator<Item = &'a Dest> + 'a {
        self.services
            .iter()
            .flat_map(|s| &s.dests)
            .filter(move |d| d.addr.ip() == ip && ports.contains(&d.addr.port()))
    }
}

fn proto_word(p: &str) -> Proto {
    match p {
        "UDP" => Proto::Udp,
        "SCTP" => Proto::Sctp,
        _ => Proto::Tcp,
    }
}

/// The service key at the start of `w` (`-t ADDR`, `-u ADDR`, `-f MARK`) and the words after it.
fn key_of<'a>(w: &'a [&'a str]) -> Option<(Key, &'a [&'a str])> {
    let (flag, value) = (*w.first()?, *w.get(1)?);
    let key = match flag {
        "-t" | "--tcp-service" => Key::Addr(Proto::Tcp, value.parse().ok()?),
        "-u" | "--udp-service" => Key::Addr(Proto::Udp, value.parse().ok()?),
        "--sctp-service" => Key::Addr(Proto::Sctp, value.parse().ok()?),
        "-f" | "--fwmark-service" => Key::Mark(value.parse().ok()?),
        _ => return None,
    };
    Some((key, &w[2..]))
}

fn service_opts(key: Key, rest: &[&str]) -> Service {
    let mut s = Service::new(key, "", None);
    let mut it = rest.iter();
    while let Some(o) = it.next() {
        match *o {
            "-s" | "--scheduler" => s.scheduler = it.next().unwrap_or(&"").to_string(),
            "-p" | "--persistent" => s.persistence = it.next().and_then(|v| v.parse().ok()),
            o => s.other.push(o.to_string()),
        }
    }
    s
}

fn dest_opts(rest: &[&str]) -> Option<Dest> {
    let mut it = rest.iter();
    let mut d: Option<Dest> = None;
    let mut other = Vec::new();
    let (mut method, mut weight) = (Method::Route, 1);
    while let Some(o) = it.next() {
        match *o {
            "-r" | "--real-server" => d = Some(Dest::new(it.next()?.parse().ok()?, 1)),
            "-w" | "--weight" => weight = it.next()?.parse().ok()?,
            f => match Method::from_flag(f) {
                Some(m) => method = m,
                None => other.push(f.to_string()),
            },
        }
    }
    d.map(|d| Dest {
        method,
        weight,
        other,
        ..d
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVE: &str = "-A -t 192.168.100.10:80 -s rr -p 300\n\
        -a -t 192.168.100.10:80 -r 192.168.100.201:80 -g -w 1\n\
        -a -t 192.168.100.10:80 -r 192.168.100.202:80 -m -w 0\n\
        -A -f 7 -s mh -b flag-1,flag-2\n\
        -a -f 7 -r 192.168.100.201:0 -g -w 2\n\
        -A -u [fd00:100::10]:53 -s wrr\n";

    #[test]
    fn saved_rules_parse_and_render_back_as_ipvsadm_save_prints_them() {
        let t = Table::from_save(SAVE);
        assert_eq!(t.services.len(), 3);
        let web = &t.services[0];
        assert_eq!(web.key.to_string(), "-t 192.168.100.10:80");
        assert_eq!((web.scheduler.as_str(), web.persistence), ("rr", Some(300)));
        assert_eq!(web.dests[1].method, Method::Masq);
        assert_eq!(t.services[1].key, Key::Mark(7));
        assert_eq!(t.services[1].other, ["-b", "flag-1,flag-2"]);
        assert!(matches!(t.services[2].key, Key::Addr(Proto::Udp, a) if a.is_ipv6()));
        assert_eq!(t.rules().join("\n") + "\n", SAVE);
        assert_eq!(Table::from_save(&t.rules().join("\n")), t);
        assert_eq!(
            Table::from_save("garbage\n-A\n-A -t\n-a -t 1.2.3.4:80"),
            Table::default()
        );
    }

    #[test]
    fn the_listing_gives_weights_and_connections_per_real_server() {
        let out = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  192.168.100.10:80 rr persistent 300\n  -> 192.168.100.201:80           Route   0      2          5\n  -> 192.168.100.202:80           Route   1      3          0\nTCP  192.168.100.10:443 rr\n  -> 192.168.100.201:443          Route   0      7          0\nFWM  3 wrr\n  -> 192.168.100.202:0            Route   4      0          0\n";
        let t = Table::from_list(out);
        let web01: IpAddr = "192.168.100.201".parse().unwrap();
        let web02: IpAddr = "192.168.100.202".parse().unwrap();
        assert_eq!(t.services[0].persistence, Some(300));
        assert_eq!(t.active_to(web01, &[80]), 2);
        assert_eq!(t.active_to(web01, &[80, 443]), 9);
        assert_eq!(t.active_to("192.168.100.9".parse().unwrap(), &[80]), 0);
        assert_eq!(t.weighted_ports(web01, &[80, 443]), Vec::<u16>::new());
        assert_eq!(t.weighted_ports(web02, &[80, 443]), vec![80]);
        assert!(t.serves(web02, &[80]));
        assert!(!t.serves(web02, &[80, 443]), "not listed on 443");
        assert!(!t.serves(web01, &[80]), "weight 0");
        assert!(!t.serves("192.168.100.9".parse().unwrap(), &[80]));
        assert_eq!(t.service(&Key::Mark(3)).unwrap().dests[0].weight, 4);
    }
}
