//! IPVS virtual services on a single director (no keepalived), live and saved. Rules are edited in
//! place (-E/-e/-a/-d) so live connections survive a re-run, and saved only after they exist, in
//! the file the platform's boot-time restore reads.

use super::{Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Ipvs as IpvsFact, Probe};
use crate::host_state::{atomic_write, Mode};
use crate::inventory::{Protocol, Scheduler, Service};
use crate::ipvs::{self as model, Dest, Key, Proto, Table};
use crate::os::PlatformId;
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ipvs {
    pub services: Vec<VirtualService>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct VirtualService {
    pub vip: IpAddr,
    /// The port its real servers are listed on (and, without a mark, the service's).
    pub port: u16,
    pub protocol: Protocol,
    pub scheduler: Scheduler,
    pub persistence_timeout: Option<u32>,
    pub real_servers: Vec<(IpAddr, u32)>,
    /// Balanced by this firewall mark instead of VIP:port.
    #[serde(default)]
    pub fwmark: Option<u32>,
    /// The scheduler hashes the client's port too (`-b mh-port`).
    #[serde(default)]
    pub hash_port: bool,
}

impl From<&Service> for VirtualService {
    fn from(s: &Service) -> Self {
        VirtualService {
            vip: s.vip.0,
            port: s.dest_port(),
            protocol: s.protocol,
            scheduler: s.scheduler,
            persistence_timeout: s.persistence_timeout,
            fwmark: s.fwmark,
            hash_port: s.hash_port,
            real_servers: s
                .real_servers
                .iter()
                .map(|m| (m.address, m.weight))
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
    pub fn key(&self) -> Key {
        if let Some(mark) = self.fwmark {
            return Key::Mark(mark);
        }
        let proto = match self.protocol {
            Protocol::Tcp => Proto::Tcp,
            Protocol::Udp => Proto::Udp,
        };
        Key::Addr(proto, SocketAddr::new(self.vip, self.port))
    }

    /// The service as lvsprov wants it in the table: real servers by direct routing.
    pub fn model(&self) -> model::Service {
        let mut s = model::Service::new(
            self.key(),
            self.scheduler.as_str(),
            self.persistence_timeout,
        );
        if self.hash_port {
            s.other = vec!["-b".into(), format!("{}-port", self.scheduler)];
        }
        s.dests = self
            .real_servers
            .iter()
            .map(|(ip, w)| Dest::new(SocketAddr::new(*ip, self.port), *w))
            .collect();
        s
    }

    /// What differs between the wanted rules and `now`: diff lines and the ipvsadm edits.
    fn edits(&self, now: Option<&model::Service>) -> (Vec<String>, Vec<Script>) {
        let want = self.model();
        let (mut diff, mut script) = (Vec::new(), Vec::new());
        match now {
            None => {
                diff.push(format!("+{}", want.rule()));
                script.push(ipvsadm(&want.args("-A")));
            }
            Some(n) if !n.same_settings(&want) => {
                diff.push(format!("-{}\n+{}", n.rule(), want.rule()));
                script.push(ipvsadm(&want.args("-E")));
            }
            Some(_) => {}
        }
        let had = now.map(|n| n.dests.as_slice()).unwrap_or_default();
        for w in &want.dests {
            let rule = |d: &Dest, op| d.args(op, &want.key);
            match had.iter().find(|d| d.addr == w.addr) {
                Some(d) if d.same_rule(w) => {}
                Some(d) => {
                    diff.push(format!(
                        "-{}\n+{}",
                        rule(d, "-a").join(" "),
                        rule(w, "-a").join(" ")
                    ));
                    script.push(ipvsadm(&rule(w, "-e")));
                }
                None => {
                    diff.push(format!("+{}", rule(w, "-a").join(" ")));
                    script.push(ipvsadm(&rule(w, "-a")));
                }
            }
        }
        for d in had
            .iter()
            .filter(|d| !want.dests.iter().any(|w| w.addr == d.addr))
        {
            diff.push(format!("-{}", d.args("-a", &want.key).join(" ")));
            let mut del = vec!["-d".to_string()];
            del.extend(key_words(&want.key));
            del.extend(["-r".into(), d.addr.to_string()]);
            script.push(ipvsadm(&del));
        }
        (diff, script)
    }
}

/// `-t ADDR` as two words.
fn key_words(key: &Key) -> Vec<String> {
    key.to_string().split(' ').map(str::to_string).collect()
}

fn current<'a>(facts: &'a Facts, vs: &VirtualService) -> Option<&'a model::Service> {
    match &facts.ipvs {
        IpvsFact::Available(table) => table.service(&vs.key()),
        _ => None,
    }
}

/// Saving the live rules where the restore at boot reads them, atomically, after they changed.
fn save_change(facts: &Facts, why: &str) -> Change {
    let file = facts.platform.ipvs_rules_file();
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
            probe.files.insert(p.ipvs_rules_file().into());
        }
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        let mut out = Vec::new();
        for vs in &self.services {
            let now = current(facts, vs);
            let (diff, script) = vs.edits(now);
            if !script.is_empty() {
                let action = if now.is_none() {
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
        let file = facts.platform.ipvs_rules_file();
        if !out.is_empty() {
            out.push(save_change(facts, "ipvsadm-save -n after the rules above"));
        } else if let Some(saved) = facts.files.get(file) {
            let live = match &facts.ipvs {
                IpvsFact::Available(table) => table.clone(),
                _ => Table::default(),
            };
            let kept = Table::from_save(&saved.content);
            if kept != live {
                out.push(save_change(
                    facts,
                    &format!("the saved table ({} rules) is not the live one ({} rules): saved again, for the restore at boot", kept.rules().len(), live.rules().len()),
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
            .filter_map(|vs| Some((vs, current(facts, vs)?)))
            .map(|(vs, now)| {
                let mut del = vec!["-D".to_string()];
                del.extend(key_words(&vs.key()));
                Change::new(
                    format!("ipvs {}", vs.key()),
                    Action::Delete,
                    format!("-{}\n", now.rule()),
                    ipvsadm(&del),
                )
            })
            .collect();
        if !out.is_empty() {
            out.push(save_change(facts, "saved again without the services above"));
        }
        out
    }
}
