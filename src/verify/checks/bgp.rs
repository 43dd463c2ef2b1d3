//! ECMP: a director serves a VIP's clients only while the routers have its route, so `verify`
//! asks its BIRD whether the session with each router is established and the VIP's announcement
//! enabled (lvsprov-announce enables it while the director can serve; a drained director must
//! have withdrawn it).

use super::{check, listed, Check};
use crate::facts::bgp::{self, Protocol};
use crate::inventory::{Ecmp, Vip};

/// `director`'s announcement of `vip` (BIRD's protocol `announcement`) to every router, from its `birdc show protocols`.
pub fn announces(
    director: &str,
    ecmp: &Ecmp,
    (vip, announcement): (Vip, &str),
    protocols: &[Protocol],
    drained: bool,
) -> Check {
    let mut wrong: Vec<String> = Vec::new();
    for (n, r) in ecmp.routers.iter().enumerate() {
        let state = bgp::session(protocols, &Ecmp::peer_protocol(n));
        if state != "Established" {
            wrong.push(format!("session with {}: {state}", r.address));
        }
    }
    let announced = bgp::announced(protocols, announcement);
    if announced == drained {
        wrong.push(if bgp::shutting_down(protocols, announcement) {
            format!(
                "{vip} still announced, in its graceful shutdown: withdrawn within {} s",
                ecmp.graceful_shutdown
            )
        } else if announced {
            format!("{vip} still announced")
        } else {
            format!("{vip} not announced")
        });
    }
    let routers: Vec<String> = ecmp.routers.iter().map(|r| r.address.to_string()).collect();
    let (name, expected) = if drained {
        (
            format!("{director} (drained) withdrew {vip}"),
            "sessions established, the VIP withdrawn".to_string(),
        )
    } else {
        (
            format!("{director} announces {vip} by BGP"),
            format!(
                "established with {} and the VIP announced",
                routers.join(", ")
            ),
        )
    };
    check(
        name,
        wrong.is_empty(),
        expected,
        listed(&wrong, "as expected"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Router;

    fn p(name: &str, state: &str, info: &str) -> Protocol {
        Protocol {
            name: name.into(),
            proto: "x".into(),
            state: state.into(),
            info: info.into(),
        }
    }

    #[test]
    fn an_announcement_needs_every_session_and_the_vip_enabled() {
        let ecmp = Ecmp {
            asn: 65010,
            routers: vec![Router {
                address: "192.168.100.254".parse().unwrap(),
                asn: 65000,
                bfd: false,
                password: None,
                ssh: None,
            }],
            quorum: 1,
            hold_time: 9,
            graceful_shutdown: 5,
        };
        let vip = (Vip("192.168.100.10".parse().unwrap()), "lvsprov_vip0");
        let good = [
            p("lvsprov_peer0", "up", "Established"),
            p("lvsprov_vip0", "up", ""),
        ];
        assert!(announces("lvs01", &ecmp, vip, &good, false).ok);
        assert!(!announces("lvs01", &ecmp, vip, &good, true).ok);
        let down = [
            p(
                "lvsprov_peer0",
                "start",
                "Active Socket: Connection refused",
            ),
            p("lvsprov_vip0", "up", ""),
        ];
        let c = announces("lvs01", &ecmp, vip, &down, false);
        assert!(!c.ok && c.seen.contains("Connection refused"), "{c:?}");
        let withdrawn = [
            p("lvsprov_peer0", "up", "Established"),
            p("lvsprov_vip0", "down", ""),
        ];
        assert!(announces("lvs01", &ecmp, vip, &withdrawn, true).ok);
        assert!(!announces("lvs01", &ecmp, vip, &[], false).ok);
        // Drained seconds ago: the route is still out, with the graceful-shutdown community.
        let graceful = [
            p("lvsprov_peer0", "up", "Established"),
            p("lvsprov_vip0", "down", ""),
            p("lvsprov_vip0_gshut", "up", ""),
        ];
        let c = announces("lvs01", &ecmp, vip, &graceful, true);
        assert!(
            !c.ok && c.seen.contains("graceful shutdown: withdrawn within 5 s"),
            "{c:?}"
        );
    }
}
