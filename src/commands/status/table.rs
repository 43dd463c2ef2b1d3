//! `status`'s reading of the directors' IPVS tables: a real server's weight, connections,
//! counters and rates, summed over every table that has it.

use crate::facts::live::Live;
use crate::inventory::Member;
use crate::ipvs::{stats::Row, Key};
use crate::report::status::MemberStatus;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// A real server as the tables show it: its weight from the first, its connections and counters
/// summed over all (none: there is no holder to ask).
pub(super) fn member(
    m: &Member,
    key: Key,
    port: u16,
    tables: &[&Live],
    drained: bool,
) -> MemberStatus {
    let addr = SocketAddr::new(m.address, port);
    let dest_in = |l: &Live| {
        l.table
            .services
            .iter()
            .find(|x| x.key == key)
            .and_then(|x| x.dests.iter().find(|d| d.addr == addr))
            .cloned()
    };
    let table = tables.first().copied();
    let dest = table.and_then(dest_in);
    let (stats, rate) = (
        five(tables, |l| &l.stats, key, Some(addr)),
        five(tables, |l| &l.rate, key, Some(addr)),
    );
    let (active, inactive) = tables
        .iter()
        .filter_map(|l| dest_in(l))
        .fold((0, 0), |(a, i), d| (a + d.active, i + d.inactive));
    let check = match (table, &dest) {
        (None, _) => "unknown",
        (Some(_), Some(d)) if d.weight > 0 => "up",
        (Some(_), _) if drained => "drained",
        (Some(_), _) => "down",
    };
    MemberStatus {
        name: m.name.clone(),
        address: m.address.to_string(),
        check,
        weight: dest.map(|d| d.weight),
        active,
        inactive,
        conns_total: stats[0],
        in_packets_total: stats[1],
        in_bytes_total: stats[3],
        cps: rate[0],
        in_pps: rate[1],
        in_bps: rate[3],
    }
}

/// A row's five counters (or rates), summed over `tables`.
pub(super) fn five(
    tables: &[&Live],
    which: impl Fn(&Live) -> &BTreeMap<Row, [u64; 5]>,
    key: Key,
    dest: Option<SocketAddr>,
) -> [u64; 5] {
    let mut sum = [0; 5];
    for n in tables.iter().filter_map(|l| which(l).get(&(key, dest))) {
        for (s, v) in sum.iter_mut().zip(n) {
            *s += v;
        }
    }
    sum
}
