//! IPVS virtual services on a single director (no keepalived), live and saved. Rules are edited in
//! place (-E/-e/-a/-d) so live connections survive a re-run, and saved only after they exist, in
//! the file the platform's boot-time restore reads.

use super::{Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Ipvs as IpvsFact, Probe};
use crate::host_state::{atomic_write, Mode};
use crate::inventory::{Protocol, Scheduler, Service};
use crate::os::PlatformId;
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ipvs {
    pub services: Vec<VirtualService>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct VirtualService {
    pub vip: String,
    pub port: u16,
    pub protocol: Protocol,
    pub scheduler: Scheduler,
    pub persistence_timeout: Option<u32>,
    pub real_servers: Vec<(String, u32)>,
}

impl From<&Service> for VirtualService {
    fn from(s: &Service) -> Self {
        VirtualService {
            vip: s.vip.to_string(),
            port: s.port,
            protocol: s.protocol,
            scheduler: s.scheduler,
            persistence_timeout: s.persistence_timeout,
            real_servers: s
                .real_servers
                .iter()
                .map(|m| (m.address.to_string(), m.weight))
                .collect(),
        }
    }
}

/// `ipvsadm ARGS`, every argument its own quoted word.
fn ipvsadm(args: &[String]) -> Script {
    let mut s = sh!("ipvsadm");
    for a in args {
        s = sh!("{} {}", s, a);
    }
    s
}

impl VirtualService {
    fn addr(&self) -> String {
        format!("{}:{}", self.vip, self.port)
    }
    fn key(&self) -> String {
        format!("{} {}", self.protocol.flag(), self.addr())
    }
    fn service_args(&self, op: &str) -> Vec<String> {
        let mut a = vec![
            op.into(),
            self.protocol.flag().into(),
            self.addr(),
            "-s".into(),
            self.scheduler.as_str().into(),
        ];
        if let Some(t) = self.persistence_timeout {
            a.extend(["-p".into(), t.to_string()]);
        }
        a
    }
    fn real_args(&self, op: &str, rip: &str, w: u32) -> Vec<String> {
        vec![
            op.into(),
            self.protocol.flag().into(),
            self.addr(),
            "-r".into(),
            format!("{rip}:{}", self.port),
            "-g".into(),
            "-w".into(),
            w.to_string(),
        ]
    }
    /// The lines `ipvsadm-save -n` prints for this service when it is as wanted.
    pub fn wanted_lines(&self) -> Vec<String> {
        let mut lines = vec![self.service_args("-A").join(" ")];
        lines.extend(
            self.real_servers
                .iter()
                .map(|(rip, w)| self.real_args("-a", rip, *w).join(" ")),
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

    /// What differs between the wanted rules and `now`: diff lines and the ipvsadm edits.
    fn edits(&self, now: &[&str]) -> (Vec<String>, Vec<Script>) {
        let (mut diff, mut script) = (Vec::new(), Vec::new());
        let want_svc = self.service_args("-A").join(" ");
        match now.iter().find(|l| l.starts_with("-A ")) {
            None => script.push(ipvsadm(&self.service_args("-A"))),
            Some(l) if *l != want_svc => {
                diff.push(format!("-{l}"));
                script.push(ipvsadm(&self.service_args("-E")));
            }
            Some(_) => {}
        }
        if !now.iter().any(|l| *l == want_svc) {
            diff.push(format!("+{want_svc}"));
        }
        for (rip, w) in &self.real_servers {
            let want = self.real_args("-a", rip, *w).join(" ");
            let prefix = format!("-a {} -r {rip}:{} ", self.key(), self.port);
            match now.iter().find(|l| l.starts_with(&prefix)) {
                Some(l) if *l == want => {}
                Some(l) => {
                    diff.push(format!("-{l}\n+{want}"));
                    script.push(ipvsadm(&self.real_args("-e", rip, *w)));
                }
                None => {
                    diff.push(format!("+{want}"));
                    script.push(ipvsadm(&self.real_args("-a", rip, *w)));
                }
            }
        }
        for l in now.iter().filter(|l| l.starts_with("-a ")) {
            let r = l
                .split_whitespace()
                .skip_while(|w| *w != "-r")
                .nth(1)
                .unwrap_or_default();
            let rip = r.rsplit_once(':').map(|(ip, _)| ip).unwrap_or(r);
            if !self.real_servers.iter().any(|(want, _)| want == rip) {
                diff.push(format!("-{l}"));
                let (flag, addr) = (self.protocol.flag().to_string(), self.addr());
                script.push(ipvsadm(&[
                    "-d".into(),
                    flag,
                    addr,
                    "-r".into(),
                    r.to_string(),
                ]));
            }
        }
        (diff, script)
    }
}

fn current<'a>(facts: &'a Facts, vs: &VirtualService) -> Vec<&'a str> {
    match &facts.ipvs {
        IpvsFact::Available(lines) => vs.lines_in(lines),
        _ => vec![],
    }
}

pub fn rules_file(platform: PlatformId) -> &'static str {
    platform.ipvs_rules_file()
}

/// Saving the live rules where the restore at boot reads them, atomically, after they changed.
fn save_change(facts: &Facts, why: &str) -> Change {
    let file = rules_file(facts.platform);
    Change::new(
        format!("ipvs rules saved in {file}"),
        Action::Update,
        why,
        atomic_write(file, sh!("ipvsadm-save -n"), Mode::KeepOr("0600")),
    )
}

impl Resource for Ipvs {
    fn probe(&self, probe: &mut Probe) {
        probe.ipvs = true;
        for p in PlatformId::ALL {
            probe.files.insert(rules_file(p).into());
        }
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let mut out = Vec::new();
        for vs in &self.services {
            let now = current(facts, vs);
            let (diff, script) = vs.edits(&now);
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
                    Script::lines(script),
                ));
            }
        }
        // Saved after the rules exist, never before (the hand recipe's mistake), and again
        // whenever the saved table is not the live one (a hand-built director whose rules were
        // saved before they were added, or never): the boot-time restore reads that file.
        let file = rules_file(facts.platform);
        if !out.is_empty() {
            out.push(save_change(facts, "ipvsadm-save -n after the rules above"));
        } else if let Some(saved) = facts.files.get(file) {
            let live: Vec<&str> = match &facts.ipvs {
                IpvsFact::Available(lines) => lines
                    .iter()
                    .map(|l| l.trim())
                    .filter(|l| !l.is_empty())
                    .collect(),
                _ => vec![],
            };
            let kept: Vec<&str> = saved
                .content
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if kept != live {
                out.push(save_change(
                    facts,
                    &format!("the saved table ({} lines) is not the live one ({} lines): saved again, for the restore at boot", kept.len(), live.len()),
                ));
            }
        } else {
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
                    format!("-{}\n", vs.service_args("-A").join(" ")),
                    sh!("ipvsadm -D {} {}", vs.protocol.flag(), vs.addr()),
                )
            })
            .collect();
        if !out.is_empty() {
            out.push(save_change(facts, "saved again without the services above"));
        }
        out
    }
}
