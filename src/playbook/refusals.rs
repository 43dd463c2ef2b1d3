//! What a host's platform cannot do for the inventory, said before any step is planned: the
//! reason and the way out, and nothing changed on the host.

use super::context::{Context, HTTP_PORT_T};
use crate::facts::{Facts, Init};
use crate::inventory::{HealthKind, Role};
use crate::os::PlatformId;

/// The first thing `ctx` asks that the host cannot do, if any.
pub(super) fn of(ctx: &Context, facts: &Facts) -> Option<String> {
    let director = ctx.host_ref.role() == Role::Director;
    // lvsprov's nftables tables are loaded at boot by a unit of its own; RHEL 7's firewall and
    // NAT are iptables'.
    let nft_units = facts.boot.init == Init::Systemd && facts.platform != PlatformId::Rhel7;
    if ctx.through_vip && !nft_units {
        return Some("health_check.through_vip needs nftables and systemd on the real server (Debian, RHEL 8+); leave it out for this host's services".into());
    }
    if ctx.fwmarks && director && !nft_units {
        return Some("a service over several \"ports\" needs nftables and systemd on the directors (Debian, RHEL 8+); give it one \"port\" per service here".into());
    }
    // BIRD comes from Debian's bird2, and the announcer is a unit of lvsprov's.
    let debian_like = matches!(facts.platform, PlatformId::Debian);
    if ctx.ecmp.is_some() && director && !(debian_like && facts.boot.init == Init::Systemd) {
        return Some("ECMP directors need Debian with systemd (BIRD 2 from bird2, lvsprov's announcer unit); run this director on Debian, or use VRRP (remove \"ecmp\")".into());
    }
    // httpd binds only the ports SELinux types http_port_t.
    let denied = ctx.listen_ports.iter().find(|p| !HTTP_PORT_T.contains(p));
    if let Some(port) =
        denied.filter(|_| facts.selinux.labels() && ctx.host_ref.manages_web_server())
    {
        return Some(format!(
            "SELinux lets httpd listen on the ports of http_port_t only ({}), and {port} is not one: use one of them, or give {} \"web_server\": false and a backend allowed the port (semanage port -a -t http_port_t -p tcp {port})",
            HTTP_PORT_T.map(|p| p.to_string()).join(", "),
            ctx.host_ref.name
        ));
    }
    let udp_check = ctx
        .services
        .iter()
        .any(|s| s.health_check.kind == HealthKind::Udp);
    if director && udp_check && !crate::platform::ops(facts.platform).keepalived_udp_check() {
        return Some("a \"udp\" health check needs keepalived 2.1 or later (UDP_CHECK), and this director's has none; use \"dns\" for a DNS service, or \"tcp\" with a port the real servers also listen on".into());
    }
    None
}
