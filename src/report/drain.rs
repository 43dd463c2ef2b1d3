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
    /// A director's drain: the VIPs it still held when the wait ended (none once its peers
    /// have taken them over).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vips_held: Option<Vec<String>>,
    /// An ECMP director's drain: it announces no VIP and no packet for them reaches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<bool>,
    /// An ECMP director's drain: the seconds its announcer announced each VIP with the
    /// graceful-shutdown community before withdrawing it (`ecmp.graceful_shutdown`; 0: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graceful_shutdown_s: Option<u16>,
}

impl DrainWait {
    pub fn human(&self) -> String {
        let secs = self.waited_ms as f64 / 1000.0;
        let mut out = if let Some(withdrawn) = self.withdrawn {
            if withdrawn && self.drained {
                let graceful = match self.graceful_shutdown_s {
                    Some(g) if g > 0 => format!(
                        " (each announced {g} s with the graceful-shutdown community first)"
                    ),
                    _ => String::new(),
                };
                format!(
                    "drain: {} announces no VIP{graceful} after {secs:.1} s and no packet for them reached it in its last 2 s: the routers send its flows to the other directors; it can be stopped\n",
                    self.host
                )
            } else {
                format!("drain: gave up after {secs:.1} s\n")
            }
        } else if let Some(held) = &self.vips_held {
            if self.drained {
                format!(
                    "drain: {} holds no VIP after {secs:.1} s: its peers serve them, with the sessions they had synced; it can be stopped\n",
                    self.host
                )
            } else {
                format!(
                    "drain: gave up after {secs:.1} s with {} still on {}; is a peer's keepalived running and hearing its adverts (`lvsprov status`)?\n",
                    held.join(", "),
                    self.host
                )
            }
        } else if self.drained {
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
