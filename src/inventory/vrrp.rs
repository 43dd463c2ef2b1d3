//! The VRRP instances keepalived runs: one per director that masters some VIP (`master` on a
//! service; by default the highest priority masters all of them), so with several VIPs each
//! director can carry traffic. Priorities are derived, not written: in an instance mastered by
//! M, M takes the highest inventory priority and the director that had it takes M's, so every
//! value stays one the operator chose and the other directors keep their order as backups.

use super::{Host, Inventory, Vip};
use serde::Serialize;

/// The name every cluster's first instance has (status and older hosts know it).
pub const FIRST: &str = "VI_LVSPROV";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VrrpInstance {
    /// `VI_LVSPROV`, then `VI_LVSPROV_<master>`.
    pub name: String,
    /// keepalived's `virtual_router_id`: the inventory's for the first, then one more for each.
    pub vrid: u16,
    pub master: String,
    pub vips: Vec<Vip>,
}

impl Inventory {
    /// The director that holds `vip` while it is healthy: the first service on it that names a
    /// master, else the highest priority.
    pub fn master_of(&self, vip: Vip) -> Option<&str> {
        self.services
            .iter()
            .filter(|s| s.vip == vip)
            .find_map(|s| s.master.as_deref())
            .or_else(|| self.active_director().map(|d| d.name.as_str()))
    }

    /// The instances, in the directors' order of their masters. A cluster without VIPs still
    /// gets one (keepalived's VRRP runs; it carries nothing).
    pub fn vrrp_instances(&self) -> Vec<VrrpInstance> {
        let Some(k) = &self.keepalived else {
            return vec![];
        };
        let vips = self.vips();
        let mut out: Vec<VrrpInstance> = Vec::new();
        for d in self.directors() {
            let mine: Vec<Vip> = vips
                .iter()
                .copied()
                .filter(|v| self.master_of(*v) == Some(d.name.as_str()))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let name = match out.len() {
                0 => FIRST.to_string(),
                _ => format!("{FIRST}_{}", d.name),
            };
            out.push(VrrpInstance {
                name,
                vrid: u16::from(k.virtual_router_id) + out.len() as u16,
                master: d.name.clone(),
                vips: mine,
            });
        }
        if out.is_empty() {
            out.extend(self.active_director().map(|d| VrrpInstance {
                name: FIRST.into(),
                vrid: k.virtual_router_id.into(),
                master: d.name.clone(),
                vips: vec![],
            }));
        }
        out
    }

    /// `host`'s priority in `inst`: its master takes the top priority, the top director the
    /// master's, everyone else their own.
    pub fn priority_in(&self, inst: &VrrpInstance, host: &Host) -> u16 {
        let own = |h: &Host| u16::from(h.priority().unwrap_or(0));
        let top = self.active_director();
        let master = self.directors().find(|d| d.name == inst.master);
        match (top, master) {
            (Some(t), Some(m)) if host.name == m.name => own(t),
            (Some(t), Some(m)) if host.name == t.name => own(m),
            _ => own(host),
        }
    }
}
