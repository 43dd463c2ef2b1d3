//! The cluster-wide blocks: keepalived (VRRP, sync, the directors' priorities) and the IPVS
//! tuning every director gets.

use super::raw::{RawHost, RawInventory, RawIpvs, RawSync};
use super::validate::Validator;
use super::{valid_ifname, AdvertInt, IpvsTuning, Keepalived, Sync};
use std::collections::HashMap;

impl Validator {
    pub(super) fn ipvs(&mut self, raw: &RawIpvs) -> IpvsTuning {
        let d = IpvsTuning::DEFAULT;
        // A sysctl's value up to `max`: 0/1 for a flag, conn_reuse_mode a 2-bit map.
        let mut flag = |name: &str, v: Option<u32>, default: u32, max: u32| match v {
            Some(x) if x > max => {
                let range = match max {
                    1 => "0 or 1".to_string(),
                    _ => format!("0 to {max}"),
                };
                self.problem(
                    format!("$.ipvs.{name}"),
                    format!("{x} is out of range; it is {range} (default {default})"),
                );
                default
            }
            v => v.unwrap_or(default),
        };
        let conn_reuse_mode = flag("conn_reuse_mode", raw.conn_reuse_mode, d.conn_reuse_mode, 3);
        let expire_nodest_conn = flag(
            "expire_nodest_conn",
            raw.expire_nodest_conn,
            d.expire_nodest_conn,
            1,
        );
        let expire_quiescent_template = flag(
            "expire_quiescent_template",
            raw.expire_quiescent_template,
            d.expire_quiescent_template,
            1,
        );
        let mut secs = |name: &str, v: Option<u32>, default: u32| match v {
            Some(x) if !(1..=604_800).contains(&x) => {
                self.problem(format!("$.ipvs.timeouts.{name}"), format!("{x} is out of range; give seconds from 1 to 604800 (a week), default {default}"));
                default
            }
            v => v.unwrap_or(default),
        };
        IpvsTuning {
            conn_reuse_mode,
            expire_nodest_conn,
            expire_quiescent_template,
            tcp: secs("tcp", raw.timeouts.tcp, d.tcp),
            tcpfin: secs("tcpfin", raw.timeouts.tcpfin, d.tcpfin),
            udp: secs("udp", raw.timeouts.udp, d.udp),
        }
    }

    pub(super) fn keepalived(&mut self, raw: &RawInventory) -> Option<Keepalived> {
        let directors = raw.directors.len();
        if raw.ecmp.is_some() {
            return None; // no VRRP: `ecmp` says what is wrong with a keepalived block
        }
        let Some(k) = &raw.keepalived else {
            if directors > 1 {
                self.problem("$.keepalived", format!("{directors} directors need keepalived, or both would claim the VIP; add \"keepalived\": {{\"virtual_router_id\": 51, \"auth_pass\": \"...\"}}"));
            }
            return None;
        };
        let router_id = k.virtual_router_id.unwrap_or(0);
        match k.virtual_router_id {
            None => self.problem(
                "$.keepalived.virtual_router_id",
                "missing; add a number 1..255, the same on every director and unique on the segment",
            ),
            Some(id) if !(1..=255).contains(&id) => self.problem(
                "$.keepalived.virtual_router_id",
                format!("{id} is out of range; use 1..255, unique on the segment"),
            ),
            Some(_) => {}
        }
        let advert = self.advert_int(&k.advert_int);
        let auth_pass = k.auth_pass.clone().unwrap_or_default();
        if advert.version() == 3 {
            if k.auth_pass.is_some() {
                self.problem("$.keepalived.auth_pass", format!("advert_int {advert} takes VRRPv3, which has no authentication; remove auth_pass, or use whole seconds to keep VRRPv2's PASS authentication"));
            }
        } else if k.auth_pass.is_none() {
            self.problem(
                "$.keepalived.auth_pass",
                "missing; add VRRP's password (1 to 8 characters, the same on every director)",
            );
        } else if auth_pass.is_empty() || auth_pass.len() > 8 {
            self.problem(
                "$.keepalived.auth_pass",
                "VRRP PASS authentication takes 1 to 8 characters; shorten it",
            );
        }
        if directors > 1 {
            self.priorities(&raw.directors);
        }
        Some(Keepalived {
            virtual_router_id: router_id as u8,
            auth_pass,
            advert_int: advert,
            vrrp_version: advert.version(),
            unicast: k.unicast.unwrap_or(true) && directors > 1,
            sync: self.sync(&k.sync, router_id, directors),
            hooks: self.vrrp_hooks(k),
            preempt_delay: self.preempt_delay(k.preempt_delay),
        })
    }

    /// Seconds in hundredths: whole seconds 1..255 (VRRPv2), or a fraction down to 0.01 and up to
    /// 40.95 (VRRPv3's range, in its unit).
    fn advert_int(&mut self, n: &serde_json::Number) -> AdvertInt {
        let secs = n.as_f64().unwrap_or(0.0);
        let cs = (secs * 100.0).round();
        let advert = AdvertInt(cs.clamp(1.0, 25500.0) as u32);
        let whole_cs = (secs * 100.0 - cs).abs() < 1e-6;
        if !((0.01..=255.0).contains(&secs) && whole_cs) {
            self.problem("$.keepalived.advert_int", format!("{n} is not an advert interval; use seconds from 0.01 to 255 in hundredths, e.g. 1, or 0.2 for sub-second failover"));
        } else if advert.version() == 3 && cs > 4095.0 {
            self.problem(
                "$.keepalived.advert_int",
                format!("{n} is a fraction above 40.95 s, VRRPv3's longest; use whole seconds"),
            );
        }
        advert
    }

    fn preempt_delay(&mut self, secs: Option<u32>) -> u32 {
        match secs {
            Some(s) if s > 1000 => {
                self.problem("$.keepalived.preempt_delay", format!("{s} is out of range; give seconds from 0 to 1000 (keepalived's limit), e.g. 30"));
                0
            }
            s => s.unwrap_or(0),
        }
    }

    fn sync(&mut self, s: &RawSync, router_id: u16, directors: usize) -> Option<Sync> {
        if let Some(nic) = s.interface.as_ref().filter(|n| !valid_ifname(n)) {
            self.problem("$.keepalived.sync.interface", format!("{nic:?} is not an interface name, e.g. \"eth1\"; or leave it out to sync over the VIP's NIC"));
        }
        let id = s.id.unwrap_or(router_id);
        if id > 255 {
            self.problem(
                "$.keepalived.sync.id",
                format!("{id} is out of range; use 0..255, the same on every director"),
            );
        }
        (s.enabled.unwrap_or(true) && directors > 1).then(|| Sync {
            interface: s.interface.clone(),
            id: id.min(255) as u8,
        })
    }

    /// With keepalived and several directors, each needs its own priority.
    fn priorities(&mut self, directors: &[RawHost]) {
        let mut seen = HashMap::new();
        for (i, h) in directors.iter().enumerate() {
            match h.priority {
                None => self.problem(format!("$.directors[{i}].priority"), "with keepalived every director needs a priority; the active one highest, e.g. 150 and 100"),
                Some(p) => {
                    if let Some(other) = seen.insert(p, i) {
                        self.problem(format!("$.directors[{i}].priority"), format!("{p} is also $.directors[{other}].priority; give the active director the highest priority"));
                    }
                }
            }
        }
    }
}
