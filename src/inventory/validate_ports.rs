//! A service's ports: one `port`, or several `ports` balanced as one firewall mark, each mark
//! the service's own.

use super::raw::RawService;
use super::validate::Validator;
use std::collections::BTreeSet;

impl Validator {
    /// The service's ports, first the one checks connect to; None after a problem.
    pub(super) fn ports(&mut self, at: &str, s: &RawService) -> Option<Vec<u16>> {
        let ports = match (s.port, &s.ports) {
            (Some(p), None) => vec![p],
            (None, Some(ps)) if !ps.is_empty() => ps.clone(),
            (None, Some(_)) => {
                self.problem(
                    format!("{at}.ports"),
                    "empty; list the ports, e.g. [80, 8080], or use \"port\"",
                );
                return None;
            }
            (None, None) => {
                self.problem(
                    format!("{at}.port"),
                    "missing; give the service's \"port\" (e.g. 80), or \"ports\" for several",
                );
                return None;
            }
            (Some(_), Some(_)) => {
                self.problem(
                    format!("{at}.ports"),
                    "a service has \"port\" or \"ports\", not both; keep one",
                );
                return None;
            }
        };
        let field = if s.ports.is_some() { "ports" } else { "port" };
        if ports.contains(&0) {
            self.problem(
                format!("{at}.{field}"),
                "port 0 is not a service port; use e.g. 80",
            );
            return None;
        }
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        if distinct.len() != ports.len() {
            self.problem(
                format!("{at}.ports"),
                "a port is listed twice; list each once",
            );
            return None;
        }
        if s.fwmark.is_some() && s.ports.is_none() {
            self.problem(
                format!("{at}.fwmark"),
                "a mark is for a service over several \"ports\"; leave it out with \"port\"",
            );
        }
        Some(ports)
    }

    /// Each `ports` service's mark: its own `fwmark`, or the lowest number no other takes.
    pub(super) fn fwmarks(&mut self, raw: &[RawService]) -> Vec<Option<u32>> {
        let mut taken = BTreeSet::new();
        for (i, s) in raw.iter().enumerate() {
            match s.fwmark {
                Some(0) => self.problem(
                    format!("$.services[{i}].fwmark"),
                    "0 marks nothing; use 1 or more",
                ),
                Some(m) if !taken.insert(m) => self.problem(
                    format!("$.services[{i}].fwmark"),
                    format!("{m} is another service's mark already; give each its own"),
                ),
                _ => {}
            }
        }
        let mut next = 1;
        raw.iter()
            .map(|s| {
                s.ports.as_ref()?;
                if let Some(m) = s.fwmark {
                    return Some(m);
                }
                while taken.contains(&next) {
                    next += 1;
                }
                taken.insert(next);
                Some(next)
            })
            .collect()
    }
}
