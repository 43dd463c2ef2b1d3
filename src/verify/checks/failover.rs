//! Failover: after keepalived stops on the VIP holder, how long requests through the VIP failed
//! until the backup served them. Judged from the timeline of request outcomes alone.

use super::{check, Check};
use std::time::Duration;

/// `samples`: (time since the stop, the request succeeded), in order.
pub fn judge(holder: &str, samples: &[(Duration, bool)]) -> (Check, Option<f64>) {
    let name = format!("failover from {holder}");
    let expected = "the backup serves the VIP within 30 s";
    let first_fail = samples.iter().find(|(_, ok)| !ok).map(|(t, _)| *t);
    let outage = match first_fail {
        None => Some(0.0),
        Some(f) => samples
            .iter()
            .find(|(t, ok)| *ok && *t > f)
            .map(|(t, _)| (*t - f).as_secs_f64()),
    };
    match outage {
        Some(s) => (
            check(name, true, expected, format!("served again after {s:.2} s")),
            Some(s),
        ),
        None => (check(name, false, expected, "no answer for 30 s"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_outage_is_from_the_first_failure_to_the_first_answer_after_it() {
        let (c, s) = judge(
            "lvs01",
            &[
                (ms(10), true),
                (ms(100), false),
                (ms(400), false),
                (ms(600), true),
            ],
        );
        assert!(c.ok);
        assert!((s.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(judge("lvs01", &[(ms(10), true)]).1, Some(0.0));
        let (c, s) = judge("lvs01", &[(ms(10), false)]);
        assert!(!c.ok && s.is_none());
    }
}
