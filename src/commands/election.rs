//! An `up` that moved VRRP between multicast and unicast waits for the election keepalived starts
//! again on that reload, and says who holds each VIP after it: the operator learns from `up`
//! itself when the VIP is back (or that the directors split), and what runs next meets a settled
//! cluster rather than the VIP on its way (a `verify` started as such an `up` returned failed 1
//! to 4 of its 4 requests in the real-kernel lab).

use crate::facts::addresses;
use crate::fleet::FleetOptions;
use crate::inventory::{Inventory, Vip};
use crate::report::election::Elected;
use crate::ssh::Session;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Each VIP's holders as last sampled, and since when they have been those.
struct Tracker {
    started: Instant,
    /// Longer than a BACKUP waits for its MASTER's adverts (3 adverts and a skew under one).
    quiet: Duration,
    seen: BTreeMap<Vip, (Vec<String>, Instant)>,
}

impl Tracker {
    fn new(started: Instant, quiet: Duration) -> Tracker {
        Tracker {
            started,
            quiet,
            seen: BTreeMap::new(),
        }
    }

    /// The directors holding each VIP at `now`.
    fn sample(&mut self, now: Instant, holders: BTreeMap<Vip, Vec<String>>) {
        for (vip, who) in holders {
            match self.seen.get(&vip) {
                Some((same, _)) if *same == who => {}
                _ => {
                    self.seen.insert(vip, (who, now));
                }
            }
        }
    }

    fn settled(&self, now: Instant) -> bool {
        !self.seen.is_empty()
            && self
                .seen
                .values()
                .all(|(_, since)| now.duration_since(*since) >= self.quiet)
    }

    fn elected(&self, now: Instant) -> Vec<Elected> {
        self.seen
            .iter()
            .map(|(vip, (holders, since))| Elected {
                vip: vip.0.to_string(),
                holders: holders.clone(),
                settled: now.duration_since(*since) >= self.quiet,
                after_ms: since.duration_since(self.started).as_millis() as u64,
            })
            .collect()
    }
}

/// Polls every director's addresses (twice a second) until each VRRP VIP's holders have stayed
/// the same for four adverts and a half second, or the master's preempt_delay, four adverts and
/// 20 s have passed. Empty when there is no VRRP or no director can be asked.
pub async fn wait(inv: &Inventory, opts: &FleetOptions) -> Vec<Elected> {
    let Some(k) = inv.keepalived.as_ref().filter(|_| inv.ecmp.is_none()) else {
        return vec![];
    };
    let started = Instant::now();
    let advert = Duration::from_millis(u64::from(k.advert_int.0) * 10);
    let quiet = advert * 4 + Duration::from_millis(500);
    let deadline = started + Duration::from_secs(u64::from(k.preempt_delay) + 20) + advert * 4;
    let mut directors = Vec::new();
    for d in inv.directors() {
        if let Ok(s) = Session::connect(&d.ssh, &opts.creds, opts.limits).await {
            directors.push((d.name.clone(), s));
        }
    }
    if directors.is_empty() {
        return vec![];
    }
    let vips = inv.vips();
    let mut tracker = Tracker::new(started, quiet);
    loop {
        let mut holders: BTreeMap<Vip, Vec<String>> =
            vips.iter().map(|v| (*v, Vec::new())).collect();
        for (name, s) in &directors {
            let Ok(out) = s.run(&addresses::listing()).await else {
                continue;
            };
            let held = addresses::held(&out.stdout);
            for (vip, who) in holders.iter_mut() {
                if held.contains(&vip.0) {
                    who.push(name.clone());
                }
            }
        }
        let now = Instant::now();
        tracker.sample(now, holders);
        if tracker.settled(now) || now >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (_, s) in &directors {
        s.close().await;
    }
    tracker.elected(Instant::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip() -> Vip {
        Vip("192.0.2.10".parse().unwrap())
    }

    fn on(names: &[&str]) -> BTreeMap<Vip, Vec<String>> {
        BTreeMap::from([(vip(), names.iter().map(|n| n.to_string()).collect())])
    }

    #[test]
    fn the_vip_is_back_once_its_holder_has_kept_it_longer_than_a_backup_waits() {
        let t0 = Instant::now();
        let s = |ms: u64| t0 + Duration::from_millis(ms);
        let mut t = Tracker::new(t0, Duration::from_millis(4500));
        // The master still holds it as the wait begins, resigns, the backup takes it, then
        // nobody, then the master again (the lab's journal, in order).
        t.sample(s(0), on(&["lvs01"]));
        t.sample(s(600), on(&["lvs02"]));
        t.sample(s(1500), on(&[]));
        t.sample(s(3500), on(&["lvs01"]));
        assert!(!t.settled(s(7900)));
        assert!(t.settled(s(8000)));
        let e = &t.elected(s(8000))[0];
        assert_eq!(
            (e.holders.clone(), e.settled, e.after_ms),
            (vec!["lvs01".to_string()], true, 3500)
        );
        assert_eq!(
            e.human(),
            "VIP 192.0.2.10 on lvs01 alone since 3.5 s after the reloads"
        );
    }

    #[test]
    fn two_holders_that_stay_are_a_settled_split_brain_and_a_late_one_is_still_moving() {
        let t0 = Instant::now();
        let s = |ms: u64| t0 + Duration::from_millis(ms);
        let mut t = Tracker::new(t0, Duration::from_millis(4500));
        t.sample(s(0), on(&["lvs01", "lvs02"]));
        let split = &t.elected(s(5000))[0];
        assert!(
            split.settled && split.human().contains("a split brain"),
            "{split:?}"
        );
        t.sample(s(5000), on(&[]));
        let gone = &t.elected(s(6000))[0];
        assert!(!gone.settled);
        assert_eq!(
            gone.human(),
            "VIP 192.0.2.10 still moving 5.0 s after the reloads (now on no director)"
        );
    }
}
