//! An ECMP director's BGP, read from its `/etc/bird/bird.conf` into the inventory's `ecmp`
//! block. BIRD's grammar is large; what an ECMP director needs of it is small: each `protocol
//! bgp` (with the `template bgp` it is `from`) and its `local … as`, `neighbor … as`, `hold time`,
//! `bfd` and `password`. lvsprov writes its own bird.conf at the first `up`, so anything else in
//! the file (other protocols, filters, the operator's announcer) is named, not carried over.

use super::Builder;
use crate::inventory::{RawEcmp, RawRouter};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub const BIRD_CONF: &str = "/etc/bird/bird.conf";

/// One BGP session as bird.conf sets it (a template's settings under the protocol's own).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Session {
    pub local_as: Option<u32>,
    pub neighbor: Option<(Ipv4Addr, u32)>,
    pub hold_time: Option<u16>,
    pub bfd: Option<bool>,
    pub password: Option<String>,
}

impl Session {
    fn under(self, template: &Session) -> Session {
        Session {
            local_as: self.local_as.or(template.local_as),
            neighbor: self.neighbor.or(template.neighbor),
            hold_time: self.hold_time.or(template.hold_time),
            bfd: self.bfd.or(template.bfd),
            password: self.password.or_else(|| template.password.clone()),
        }
    }

    /// One statement of a `bgp` block, e.g. `neighbor 192.168.100.254 as 65000`.
    fn set(&mut self, statement: &str) {
        let w: Vec<&str> = statement.split_whitespace().collect();
        let after_as = || {
            w.iter()
                .position(|x| *x == "as")
                .and_then(|i| w.get(i + 1)?.parse().ok())
        };
        match w.as_slice() {
            ["local", ..] => self.local_as = after_as(),
            ["neighbor", addr, ..] => {
                self.neighbor = addr.parse().ok().zip(after_as());
            }
            ["hold", "time", n] => self.hold_time = n.parse().ok(),
            ["bfd"] | ["bfd", "on" | "yes" | "graceful"] => self.bfd = Some(true),
            ["bfd", "off" | "no"] => self.bfd = Some(false),
            ["password", ..] => {
                let value = statement.trim_start()["password".len()..].trim();
                self.password = Some(value.trim_matches('"').to_string());
            }
            _ => {}
        }
    }
}

/// BIRD's text as statements: comments dropped, split after `;` and around `{` and `}` (each
/// brace its own statement), quoted strings kept whole.
fn statements(text: &str) -> Vec<String> {
    let (mut out, mut cur) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.trim().is_empty() {
            out.push(cur.trim().to_string());
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                cur.push(c);
                for s in chars.by_ref() {
                    cur.push(s);
                    if s == '"' {
                        break;
                    }
                }
            }
            '#' => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
                cur.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for s in chars.by_ref() {
                    if last == '*' && s == '/' {
                        break;
                    }
                    last = s;
                }
                cur.push(' ');
            }
            ';' => flush(&mut cur, &mut out),
            '{' | '}' => {
                flush(&mut cur, &mut out);
                out.push(c.to_string());
            }
            _ => cur.push(c),
        }
    }
    out
}

/// The BGP sessions bird.conf runs, in its order, and the other protocols it has (by kind).
pub fn sessions(text: &str) -> (Vec<Session>, Vec<String>) {
    let mut templates: BTreeMap<String, Session> = BTreeMap::new();
    let (mut found, mut others) = (Vec::new(), Vec::new());
    // The open `bgp` block: (a template or a protocol, its name, the template it is `from`,
    // what it sets).
    let mut open: Option<(bool, String, Option<String>, Session)> = None;
    let mut depth = 0usize;
    for s in statements(text) {
        match s.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some((template, name, from, session)) = open.take() {
                        let base = from.and_then(|f| templates.get(&f).cloned());
                        let session = session.under(&base.unwrap_or_default());
                        if template {
                            templates.insert(name, session);
                        } else {
                            found.push(session);
                        }
                    }
                }
            }
            _ if depth == 0 => {
                let w: Vec<&str> = s.split_whitespace().collect();
                let from = w
                    .iter()
                    .position(|x| *x == "from")
                    .and_then(|i| w.get(i + 1))
                    .map(|t| t.to_string());
                match w.as_slice() {
                    [kind @ ("protocol" | "template"), "bgp", rest @ ..] => {
                        let name = rest.first().unwrap_or(&"").to_string();
                        open = Some((*kind == "template", name, from, Session::default()));
                    }
                    // lvsprov's own (a VIP's announcement, BFD for the sessions) come back.
                    ["protocol", "device" | "bfd", ..] => {}
                    ["protocol", _, name, ..] if name.starts_with("lvsprov_") => {}
                    ["protocol", kind, ..] => others.push(kind.to_string()),
                    _ => {}
                }
            }
            _ if depth == 1 => {
                if let Some((_, _, _, session)) = open.as_mut() {
                    session.set(&s);
                }
            }
            _ => {}
        }
    }
    (found, others)
}

impl Builder {
    /// A director's BGP sessions: the first director that has any gives the `ecmp` block; one
    /// whose sessions differ is named (`up` gives it the same).
    pub(super) fn bgp(&mut self, target: &str, text: &str) {
        let (sessions, others) = sessions(text);
        if sessions.is_empty() {
            return;
        }
        let routers: Vec<RawRouter> = sessions
            .iter()
            .filter_map(|s| {
                let (address, asn) = s.neighbor?;
                Some(RawRouter {
                    address: address.to_string(),
                    asn,
                    bfd: s.bfd.unwrap_or(false),
                    password: s.password.clone(),
                    // Whether the router can be logged in to is not in bird.conf.
                    ssh: None,
                })
            })
            .collect();
        let asn = sessions.iter().find_map(|s| s.local_as);
        self.secret |= routers.iter().any(|r| r.password.is_some());
        let hold_time = sessions[0].hold_time.filter(|t| *t != 9);
        let ecmp = RawEcmp {
            asn: asn.unwrap_or(0),
            routers,
            quorum: None,
            hold_time,
            // The announcer holds it, not bird.conf: the default until the operator says.
            graceful_shutdown: None,
        };
        if asn.is_none() {
            self.out.push(format!("{target}: {BIRD_CONF} has no `local … as N` in its BGP sessions; set `ecmp.asn` to the directors' AS"));
        }
        if !others.is_empty() {
            self.out.push(format!(
                "{target}: {BIRD_CONF} also runs BIRD protocols {} and its own filters; lvsprov writes its own bird.conf at the first `up` (these sessions, one announcement per VIP while the director can serve it) and they go",
                others.join(", ")
            ));
        }
        match &self.ecmp {
            None => self.ecmp = Some(ecmp),
            Some(first) if *first != ecmp => self.out.push(format!(
                "{target}: its BGP sessions in {BIRD_CONF} differ from the first director's; the inventory holds the first's, and `up` would give {target} the same"
            )),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_their_templates_are_read_and_the_rest_named() {
        let text = r#"
log syslog all; # a comment { with a brace
router id 192.168.100.11;
protocol device { }
protocol kernel { ipv4 { export all; }; }
/* protocol bgp old { neighbor 10.0.0.1 as 1; } */
template bgp rtr {
    local as 65010;
    hold time 30;
    bfd on;
    ipv4 { import none; export where source = RTS_STATIC; };
}
protocol bgp up1 from rtr {
    neighbor 192.168.100.254 as 65000;
    password "s;e{c}ret";
}
protocol bgp up2 {
    local 192.168.100.11 as 65010;
    neighbor 192.168.100.253 port 179 as 65001;
}
"#;
        let (found, others) = sessions(text);
        assert_eq!(
            found,
            vec![
                Session {
                    local_as: Some(65010),
                    neighbor: Some(("192.168.100.254".parse().unwrap(), 65000)),
                    hold_time: Some(30),
                    bfd: Some(true),
                    password: Some("s;e{c}ret".into()),
                },
                Session {
                    local_as: Some(65010),
                    neighbor: Some(("192.168.100.253".parse().unwrap(), 65001)),
                    ..Session::default()
                },
            ]
        );
        assert_eq!(others, ["kernel"]);
    }
}
