//! What keepalived does when real servers fail (`sorry_server`, `inhibit_on_failure`, `quorum`):
//! each a keepalived setting, so each needs keepalived, and each is checked against the service's
//! own real servers before any host is contacted.

use super::raw::RawService;
use super::validate::Validator;
use super::{Fallbacks, Host, Member, Role, Vip};
use std::collections::BTreeMap;

impl Validator {
    pub(super) fn fallbacks(
        &mut self,
        at: &str,
        s: &RawService,
        vip: Vip,
        members: &[Member],
        by_name: &BTreeMap<&str, &Host>,
    ) -> Fallbacks {
        let sorry_server = s
            .sorry_server
            .as_deref()
            .and_then(|name| self.sorry_server(at, s, vip, name, members, by_name));
        if let Some(q) = s.quorum {
            let total: u32 = members.iter().map(|m| m.weight).sum();
            if q == 0 {
                self.problem(format!("{at}.quorum"), "0 would keep the service up with no healthy real server; use 1 (the default) or more");
            } else if q > total && members.len() == s.real_servers.len() {
                self.problem(
                    format!("{at}.quorum"),
                    format!("{q} is more than this service's real servers weigh together ({total}), so it would never run on them; use {total} or less"),
                );
            }
        }
        Fallbacks {
            sorry_server,
            inhibit_on_failure: s.inhibit_on_failure,
            quorum: s.quorum,
        }
    }

    fn sorry_server(
        &mut self,
        at: &str,
        s: &RawService,
        vip: Vip,
        name: &str,
        members: &[Member],
        by_name: &BTreeMap<&str, &Host>,
    ) -> Option<Member> {
        let at = format!("{at}.sorry_server");
        match by_name.get(name) {
            Some(h) if h.role() == Role::RealServer => {
                if members.iter().any(|m| m.name == name) {
                    self.problem(at, format!("{name} is already one of this service's real servers, so it would be down with them; name a real server outside the service"));
                    return None;
                }
                self.served(&at, s, h);
                Some(Member {
                    name: name.to_string(),
                    address: self.member_address(&at, h, vip),
                    weight: 1,
                })
            }
            Some(_) => {
                self.problem(at, format!("{name} is a director; the sorry server is a real server (it needs the VIP on lo to answer in DR mode)"));
                None
            }
            None => {
                self.problem(
                    at,
                    format!("{name:?} is not in $.real_servers; add it there (it gets the VIP on lo like the others) or fix the name"),
                );
                None
            }
        }
    }

    /// The fallbacks are keepalived's: without it nothing would ever act on them.
    pub(super) fn fallbacks_need_keepalived(&mut self, raw: &[RawService], keepalived: bool) {
        if keepalived {
            return;
        }
        for (i, s) in raw.iter().enumerate() {
            for (field, set) in [
                ("sorry_server", s.sorry_server.is_some()),
                ("inhibit_on_failure", s.inhibit_on_failure),
                ("quorum", s.quorum.is_some()),
            ] {
                if set {
                    self.problem(
                        format!("$.services[{i}].{field}"),
                        "keepalived's health checks act on it, and this inventory runs no keepalived; add a \"keepalived\" block or remove it",
                    );
                }
            }
        }
    }
}
