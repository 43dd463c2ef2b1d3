//! What a drain's wait saw: its JSON (`"drain"`) and its lines.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DrainWait {
    pub host: String,
    pub waited_ms: u128,
    /// Sessions clients still have open on the real server for its VIPs (its own sockets).
    pub active_left: u64,
    /// Every director gives it weight 0 and no session was left open before the timeout.
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
                "drain: {} gets no new connection from any director and has no session open for its VIPs after {secs:.1} s; it can be stopped\n",
                self.host
            )
        } else {
            format!(
                "drain: gave up after {secs:.1} s with {} session(s) still open on {}; wait longer (--drain-timeout) or stop it anyway\n",
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
