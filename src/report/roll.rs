//! What `up --rolling` did, batch by batch: its JSON (`"rolling"`) and its lines.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Roll {
    pub batch_size: usize,
    pub batches: Vec<Batch>,
    /// Why the roll stopped before its end, and what was left how.
    pub stopped: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Batch {
    pub hosts: Vec<String>,
    /// Until every director gave them weight 0 and no session was left open on them.
    pub drained_ms: u128,
    /// Converged and their page answered on their own address.
    pub converged: bool,
    /// Until every director listed them with their weight again.
    pub back_ms: Option<u128>,
    /// Already drained before the roll: converged, and left drained.
    pub left_drained: Vec<String>,
}

impl Roll {
    pub fn human(&self) -> String {
        let mut out = String::new();
        let n = self.batches.len();
        for (i, b) in self.batches.iter().enumerate() {
            let mut line = format!(
                "roll: batch {}/{n} {}: drained in {:.1} s",
                i + 1,
                b.hosts.join(", "),
                b.drained_ms as f64 / 1000.0
            );
            if b.converged {
                line.push_str(", converged, page answered");
            }
            if let Some(ms) = b.back_ms {
                line.push_str(&format!(
                    ", serving again after {:.1} s",
                    ms as f64 / 1000.0
                ));
            }
            if !b.left_drained.is_empty() {
                line.push_str(&format!(
                    " ({} drained before the roll: left drained)",
                    b.left_drained.join(", ")
                ));
            }
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(why) = &self.stopped {
            out.push_str(&format!("roll: stopped: {why}\n"));
        }
        out
    }
}
