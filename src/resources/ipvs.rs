//! IPVS virtual services on a single director (no keepalived), live and saved. Rules are edited in
//! place (-E/-e/-a/-d) so live connections survive a re-run, and saved only after they exist.

use super::{Action, Change, DownOptions, Owed, Resource};
use crate::facts::{Facts, Family, Ipvs as IpvsFact, Probe};
use crate::inventory::Service;
use crate::shell::quote;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipvs {
    pub services: Vec<VirtualService>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct VirtualService {
    pub vip: String,
    pub port: u16,
    pub protocol: String,
    pub scheduler: String,
    pub persistence_timeout: Option<u32>,
    pub real_servers: Vec<(String, u32)>,
}

impl From<&Service> for VirtualService {
    fn from(s: &Service) -> Self {
        VirtualService {
            vip: s.vip.to_string(),
            port: s.port,
            protocol: s.protocol.clone(),
            scheduler: s.scheduler.clone(),
            persistence_timeout: s.persistence_timeout,
            real_servers: s
                .real_servers
                .iter()
                .map(|m| (m.address.to_string(), m.weight))
                .collect(),
        }
    }
}

pub fn rules_file(facts: &Facts) -> &'static str {
    match facts.family {
        Family::Rhel => "/etc/sysconfig/ipvsadm",
        Family::Debian => "/etc/ipvsadm.rules",
    }
}

impl VirtualService {
    fn flag(&self) -> &'static str {
        if self.protocol == "udp" {
            "-u"
        } else {
            "-t"
        }
    }
    fn key(&self) -> String {
        format!("{} {}:{}", self.flag(), self.vip, self.port)
    }
    /// The lines `ipvsadm-save -n` prints for this service when it is as wanted.
    pub fn wanted_lines(&self) -> Vec<String> {
        let mut lines = vec![self.service_line()];
        lines.extend(
            self.real_servers
                .iter()
                .map(|(rip, w)| self.real_line(rip, *w)),
        );
        lines
    }
    /// This service's lines among everything `ipvsadm-save -n` printed.
    pub fn lines_in<'a>(&self, all: &'a [String]) -> Vec<&'a str> {
        let key = format!(" {} ", self.key());
        all.iter()
            .map(|l| l.as_str())
            .filter(|l| format!("{l} ").contains(&key))
            .collect()
    }
    /// The service line as `ipvsadm-save -n` prints it.
    fn service_line(&self) -> String {
        let p = self
            .persistence_timeout
            .map(|t| format!(" -p {t}"))
            .unwrap_or_default();
        format!("-A {} -s {}{p}", self.key(), self.scheduler)
    }
    fn real_line(&self, rip: &str, w: u32) -> String {
        format!("-a {} -r {rip}:{} -g -w {w}", self.key(), self.port)
    }
}

fn current<'a>(facts: &'a Facts, vs: &VirtualService) -> Vec<&'a str> {
    match &facts.ipvs {
        IpvsFact::Available(lines) => vs.lines_in(lines),
        _ => vec![],
    }
}

/// Saving the live rules where the restore at boot reads them, atomically, after they changed.
fn save_change(facts: &Facts, why: &str) -> Change {
    let f = quote(rules_file(facts));
    Change::new(
        format!("ipvs rules saved in {}", rules_file(facts)),
        Action::Update,
        why,
        format!("t=$(mktemp {f}.XXXXXX)\nipvsadm-save -n > \"$t\"\nmv -f \"$t\" {f}"),
    )
}

impl Resource for Ipvs {
    fn probe(&self, probe: &mut Probe) {
        probe.files.insert("/etc/ipvsadm.rules".into());
        probe.files.insert("/etc/sysconfig/ipvsadm".into());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, String> {
        let mut out = Vec::new();
        for vs in &self.services {
            let now = current(facts, vs);
            let mut script = Vec::new();
            let mut diff = Vec::new();
            let want_svc = vs.service_line();
            match now.iter().find(|l| l.starts_with("-A ")) {
                None => script.push(format!("ipvsadm {want_svc}")),
                Some(l) if *l != want_svc => {
                    diff.push(format!("-{l}"));
                    script.push(format!("ipvsadm {}", want_svc.replacen("-A", "-E", 1)));
                }
                Some(_) => {}
            }
            if !now.iter().any(|l| *l == want_svc) {
                diff.push(format!("+{want_svc}"));
            }
            for (rip, w) in &vs.real_servers {
                let want = vs.real_line(rip, *w);
                let prefix = format!("-a {} -r {rip}:{} ", vs.key(), vs.port);
                match now.iter().find(|l| l.starts_with(&prefix)) {
                    Some(l) if *l == want => {}
                    Some(l) => {
                        diff.push(format!("-{l}\n+{want}"));
                        script.push(format!("ipvsadm {}", want.replacen("-a", "-e", 1)));
                    }
                    None => {
                        diff.push(format!("+{want}"));
                        script.push(format!("ipvsadm {want}"));
                    }
                }
            }
            for l in now.iter().filter(|l| l.starts_with("-a ")) {
                if !vs
                    .real_servers
                    .iter()
                    .any(|(rip, _)| l.contains(&format!("-r {rip}:")))
                {
                    diff.push(format!("-{l}"));
                    let r = l
                        .split_whitespace()
                        .skip_while(|w| *w != "-r")
                        .nth(1)
                        .unwrap_or_default();
                    script.push(format!("ipvsadm -d {} -r {}", vs.key(), quote(r)));
                }
            }
            if !script.is_empty() {
                let action = if now.is_empty() {
                    Action::Create
                } else {
                    Action::Update
                };
                out.push(Change::new(
                    format!("ipvs {}", vs.key()),
                    action,
                    diff.join("\n") + "\n",
                    script.join("\n"),
                ));
            }
        }
        // Saved after the rules exist, never before (the hand recipe's mistake).
        if !out.is_empty() || !facts.files.contains_key(rules_file(facts)) {
            out.push(save_change(facts, "ipvsadm-save -n after the rules above"));
        }
        Ok(out)
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let mut out: Vec<Change> = self
            .services
            .iter()
            .filter(|vs| !current(facts, vs).is_empty())
            .map(|vs| {
                Change::new(
                    format!("ipvs {}", vs.key()),
                    Action::Delete,
                    format!("-{}\n", vs.service_line()),
                    format!("ipvsadm -D {}", vs.key()),
                )
            })
            .collect();
        if !out.is_empty() {
            out.push(save_change(facts, "saved again without the services above"));
        }
        out
    }
}
