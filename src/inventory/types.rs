//! The typed values an inventory is made of. Each is parsed once, at load time; everything after
//! the inventory matches on these, never on the strings the user wrote.

use serde::Serialize;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A virtual IP: the address clients use, held by the active director and on every real
/// server's `lo` as a host route (/32, /128). Its own type so it is never mixed up with a host's
/// address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Vip(pub IpAddr);

impl Vip {
    /// The prefix length of the VIP alone: any wider one on a real server's `lo` makes the whole
    /// subnet local to it.
    pub fn host_prefix(self) -> u8 {
        match self.0 {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    pub fn is_v6(self) -> bool {
        self.0.is_ipv6()
    }

    /// IPv4 VIPs first, each family in its own order: an IPv4 VIP's place numbers its alias
    /// label, which an IPv6 VIP (no label) must never shift.
    pub fn ipv4_first(vips: &mut [Vip]) {
        vips.sort_by_key(|v| v.is_v6());
    }
}

impl fmt::Display for Vip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq<Vip> for IpAddr {
    fn eq(&self, other: &Vip) -> bool {
        *self == other.0
    }
}

/// VRRP's advert interval in hundredths of a second, VRRPv3's unit (VRRPv2 has whole seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertInt(pub u32);

impl AdvertInt {
    /// Whole seconds keep VRRPv2 and its PASS authentication; a fraction needs VRRPv3.
    pub fn version(self) -> u8 {
        if self.0.is_multiple_of(100) {
            2
        } else {
            3
        }
    }
}

/// As keepalived.conf takes it: `1`, `0.2`, `1.5`.
impl fmt::Display for AdvertInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, cs) = (self.0 / 100, self.0 % 100);
        match cs {
            0 => write!(f, "{s}"),
            c if c % 10 == 0 => write!(f, "{s}.{}", c / 10),
            c => write!(f, "{s}.{c:02}"),
        }
    }
}

impl Serialize for AdvertInt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
    /// ipvsadm's flag for a service of this protocol.
    pub fn flag(self) -> &'static str {
        match self {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
        }
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            _ => Err(format!("{s:?} is not supported; use \"tcp\" or \"udp\"")),
        }
    }
}

macro_rules! schedulers {
    ($($v:ident = $s:literal),*) => {
        /// An IPVS scheduler (`ipvsadm -s`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Scheduler { $($v),* }
        impl Scheduler {
            pub const ALL: &'static [&'static str] = &[$($s),*];
            pub fn as_str(self) -> &'static str { match self { $(Scheduler::$v => $s),* } }
        }
        impl FromStr for Scheduler {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(Scheduler::$v),)*
                    _ => Err(format!("{s:?} is not an IPVS scheduler; use one of {}", Scheduler::ALL.join(", "))),
                }
            }
        }
    };
}
schedulers!(
    Rr = "rr",
    Wrr = "wrr",
    Lc = "lc",
    Wlc = "wlc",
    Lblc = "lblc",
    Lblcr = "lblcr",
    Dh = "dh",
    Sh = "sh",
    Sed = "sed",
    Nq = "nq",
    Fo = "fo",
    Ovf = "ovf",
    Mh = "mh"
);

impl Scheduler {
    /// rr and wrr hand sequential new connections out in a fixed order: `verify` can hold them
    /// to ±1 request; the others only to a share.
    pub fn is_deterministic(self) -> bool {
        matches!(self, Scheduler::Rr | Scheduler::Wrr)
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthKind {
    /// A TCP connect to the real server's port.
    Tcp,
    /// GET `path` and expect `status`.
    Http,
    /// A datagram to the real server's port: healthy until an ICMP "port unreachable" comes back
    /// (keepalived's UDP_CHECK), so a stopped daemon is seen, a hung one is not.
    Udp,
    /// A DNS query for `name` (`query_type`) that must come back NOERROR (keepalived's DNS_CHECK).
    Dns,
}

impl HealthKind {
    /// Whether the check speaks UDP: on a TCP service it would never pass.
    pub fn is_udp(self) -> bool {
        matches!(self, HealthKind::Udp | HealthKind::Dns)
    }
}

impl FromStr for HealthKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tcp" => Ok(HealthKind::Tcp),
            "http" => Ok(HealthKind::Http),
            "udp" => Ok(HealthKind::Udp),
            "dns" => Ok(HealthKind::Dns),
            _ => Err(format!(
                "{s:?} is not supported; use \"tcp\", \"http\", \"udp\" or \"dns\""
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthCheck {
    #[serde(rename = "type")]
    pub kind: HealthKind,
    pub connect_timeout: u32,
    pub delay_loop: u32,
    pub retry: u32,
    /// http: what is asked for and what answer means healthy: a `/health` endpoint is how most
    /// backends say "take me out".
    pub path: String,
    pub status: u16,
    /// http: the Host header, for a backend that serves by name.
    pub host: Option<String>,
    /// dns: the name asked for and its record type (A, AAAA, TXT, ...).
    pub name: Option<String>,
    pub query_type: String,
    /// The port the check connects to; None: the service's.
    pub port: Option<u16>,
    /// The directors' checks to the real server's own address are sent on to the VIP there (a
    /// DNAT rule on the real server), so a real server that lost the VIP on `lo` fails its check
    /// and is taken out, instead of losing every connection sent to it.
    pub through_vip: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scheduler::ALL {
            assert_eq!(s.parse::<Scheduler>().unwrap().as_str(), *s);
        }
        assert!("fastest".parse::<Scheduler>().unwrap_err().contains("wrr"));
        assert_eq!("udp".parse::<Protocol>().unwrap().flag(), "-u");
        assert!("sctp".parse::<Protocol>().is_err());
        let shown: Vec<String> = [100, 20, 150, 5, 25500]
            .map(|cs| AdvertInt(cs).to_string())
            .into();
        assert_eq!(shown, ["1", "0.2", "1.5", "0.05", "255"]);
        assert_eq!((AdvertInt(100).version(), AdvertInt(20).version()), (2, 3));
        assert_eq!(
            serde_json::to_string(&Vip("192.168.100.10".parse().unwrap())).unwrap(),
            "\"192.168.100.10\""
        );
    }
}
