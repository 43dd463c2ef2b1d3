//! The checks `verify` makes, each a pure function of what was observed (facts, the rendered
//! steps, answers from the network), each in its own file with its tests.

use serde::Serialize;

pub mod arp;
pub mod bgp;
pub mod distribution;
pub mod failover;
pub mod ipvs_table;
pub mod reach;
pub mod real_server;
pub mod router;
pub mod sync;
pub mod vip_holder;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub expected: String,
    pub seen: String,
}

pub fn check(
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

/// `items` joined, or `none` when there are none.
pub fn listed(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(", ")
    }
}
