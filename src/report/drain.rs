//! What a drain's wait saw: its JSON (`"drain"`) and its lines.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DrainWait {
    pub host: String,
    pub waited_ms: u128,
    /// Active connections still on the real server, summed over the directors that answered.
    pub active_left: u64,
    /// Every director reached 0 before the timeout.
    pub drained: bool,
    /// Directors that could not be asked, or that still give the real server new connections.
    pub errors: Vec<String>,
    /// With persistence, clients holding a template keep coming until it expires.
    pub note: Option<String>,
}

impl DrainWait {
    pub fn human(&self) -> String {
        let secs = self.waited_ms as f64 / 1000.0;
        let mut out = if self.drained {
            format!(
                "drain: {} has no active connection on any director after {secs:.1} s; it can be stopped\n",
                self.host
            )
        } else {
            format!(
                "drain: gave up after {secs:.1} s with {} active connection(s) still on {}; wait longer (--drain-timeout) or stop it anyway\n",
                self.active_left, self.host
            )
        };
        for e in &self.errors {
            out.push_str(&format!("drain: {e}\n"));
        }
        if let Some(n) = &self.note {
            out.push_str(&format!("drain: {n}\n"));
        }
        out
    }
}
