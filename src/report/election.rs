//! Who holds each VIP once the VRRP election an `up` started again is over.

use serde::Serialize;

/// One VIP after the election. `settled`: its holders stayed the same for longer than a BACKUP
/// waits for its MASTER's adverts; `after_ms`: from the end of the reloads until they took it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Elected {
    pub vip: String,
    pub holders: Vec<String>,
    pub settled: bool,
    pub after_ms: u64,
}

impl Elected {
    /// One line for the human report: what the operator would otherwise ask `verify`.
    pub fn human(&self) -> String {
        let secs = self.after_ms as f64 / 1000.0;
        let who = match self.holders.as_slice() {
            [] => "no director".to_string(),
            [one] => format!("{one} alone"),
            many => format!(
                "{} (each claims it: a split brain; `lvsprov verify` says why)",
                many.join(", ")
            ),
        };
        match self.settled {
            true => format!(
                "VIP {} on {who} since {secs:.1} s after the reloads",
                self.vip
            ),
            false => format!(
                "VIP {} still moving {secs:.1} s after the reloads (now on {who})",
                self.vip
            ),
        }
    }
}
