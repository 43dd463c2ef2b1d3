//! Each service as the inventory writes it: its real servers and sorry server by the names the
//! hosts were given, and which real servers keep their own backend.

use super::services::Service;
use super::Builder;
use crate::inventory::raw::{RawMember, RawService};
use std::net::IpAddr;

impl Builder {
    pub(super) fn service(&mut self, s: &Service) -> RawService {
        let mut members = Vec::new();
        for (rip, weight) in &s.members {
            match self.by_address.get(rip) {
                Some(name) => members.push(RawMember {
                    name: name.clone(),
                    weight: *weight,
                }),
                None => self.out.push(format!(
                    "{}:{}: real server {rip} was not among the hosts read; it is left out, and `up` would take it out of the IPVS table: give its address to import too",
                    s.vip, s.port
                )),
            }
        }
        // A web server on 80 is taken for lvsprov's (it listens on a mark's other ports too),
        // unless the service takes 443 too, which lvsprov's never serves (mod_ssl's).
        let own = !s.ports.contains(&crate::inventory::WEB_PORT) || s.ports.contains(&443);
        if s.protocol == "tcp" && own {
            self.own_backends(&members);
        }
        let marked = s.fwmark.is_some();
        RawService {
            vip: s.vip.to_string(),
            port: (!marked).then_some(s.port),
            ports: marked.then(|| s.ports.clone()),
            fwmark: s.fwmark,
            protocol: s.protocol.into(),
            scheduler: s.scheduler.clone(),
            persistence_timeout: s.persistence,
            health_check: s.health.clone().unwrap_or_default(),
            real_servers: members,
            master: self.masters.get(&s.vip).cloned(),
            sorry_server: s.sorry.and_then(|a| self.sorry_name(s, a)),
            inhibit_on_failure: s.inhibit,
            quorum: s.quorum,
        }
    }

    /// The sorry server by its name, if it was among the hosts read (it has the VIP on `lo`).
    fn sorry_name(&mut self, s: &Service, address: IpAddr) -> Option<String> {
        let name = self.by_address.get(&address).cloned();
        if name.is_none() {
            self.out.push(format!(
                "{}:{}: sorry server {address} was not among the hosts read; it is left out: give its address to import too",
                s.vip, s.port
            ));
        }
        name
    }

    /// A TCP service on another port than the web server's is served by the real servers' own backend, not by
    /// the web server `up` would install (which listens on 80): they get `"web_server": false`.
    fn own_backends(&mut self, members: &[RawMember]) {
        for m in members {
            let Some(h) = self.real_servers.iter_mut().find(|h| h.name == m.name) else {
                continue;
            };
            // Not a loss: the inventory itself says so, and `up` changes nothing for it.
            if h.web_server.is_none() {
                h.web_server = Some(false);
                h.page = None;
            }
        }
    }
}
