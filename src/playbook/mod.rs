//! Playbooks: each role's ordered steps are data (`playbooks/<role>.json.j2`), rendered per host
//! with minijinja, as are the files they write. Embedded in the binary; `--playbooks DIR` reads
//! them from a folder instead, so a site can change a step without rebuilding lvsprov.
//!
//! Playbooks state intent; the host's platform fills in how (`persist_vip`, `persist_ipvs`, the
//! web server's name). Every template is rendered for every platform before any SSH
//! ([`Playbooks::probe`]), so a broken template stops the run with nothing contacted.

use crate::facts::{Boot, Facts, Init, Probe};
use crate::inventory::{Host, Inventory, Role};
use crate::os::PlatformId;
use crate::resources::file::Rendered;
use crate::resources::firewall::{FirewallPort, StalePorts};
use crate::resources::{Refusal, Step};
use crate::secret;
use context::{context, Context};
use minijinja::{AutoEscape, Environment};
use std::collections::BTreeSet;
use std::path::PathBuf;

mod context;
mod ecmp;
mod refusals;
pub use context::nic;

const EMBEDDED: &[(&str, &str)] = &[
    (
        "director.json.j2",
        include_str!("../../playbooks/director.json.j2"),
    ),
    (
        "real_server.json.j2",
        include_str!("../../playbooks/real_server.json.j2"),
    ),
    (
        "keepalived.conf.j2",
        include_str!("../../playbooks/keepalived.conf.j2"),
    ),
    (
        "index.html.j2",
        include_str!("../../playbooks/index.html.j2"),
    ),
    (
        "sysctl.conf.j2",
        include_str!("../../playbooks/sysctl.conf.j2"),
    ),
    (
        "ifupdown-vip.j2",
        include_str!("../../playbooks/ifupdown-vip.j2"),
    ),
    ("ifcfg-vip.j2", include_str!("../../playbooks/ifcfg-vip.j2")),
    (
        "fwmark.nft.j2",
        include_str!("../../playbooks/fwmark.nft.j2"),
    ),
    (
        "lvsprov-fwmark.service.j2",
        include_str!("../../playbooks/lvsprov-fwmark.service.j2"),
    ),
    (
        "web-listen.conf.j2",
        include_str!("../../playbooks/web-listen.conf.j2"),
    ),
    (
        "lvsprov-vip.service.j2",
        include_str!("../../playbooks/lvsprov-vip.service.j2"),
    ),
    (
        "ipvsadm-default.j2",
        include_str!("../../playbooks/ipvsadm-default.j2"),
    ),
    (
        "lvsprov-ipvs-timeouts.service.j2",
        include_str!("../../playbooks/lvsprov-ipvs-timeouts.service.j2"),
    ),
    (
        "lvsprov-ipvs-sync.service.j2",
        include_str!("../../playbooks/lvsprov-ipvs-sync.service.j2"),
    ),
    (
        "vip-check.nft.j2",
        include_str!("../../playbooks/vip-check.nft.j2"),
    ),
    (
        "lvsprov-vip-check.service.j2",
        include_str!("../../playbooks/lvsprov-vip-check.service.j2"),
    ),
    ("bird.conf.j2", include_str!("../../playbooks/bird.conf.j2")),
    (
        "lvsprov-announce.j2",
        include_str!("../../playbooks/lvsprov-announce.j2"),
    ),
    (
        "lvsprov-announce.service.j2",
        include_str!("../../playbooks/lvsprov-announce.service.j2"),
    ),
];

#[derive(Debug, Clone, Default)]
pub struct Playbooks {
    dir: Option<PathBuf>,
    /// Built on first use and shared: each template is read and compiled once a run, not once
    /// for every host and platform.
    env: std::sync::Arc<std::sync::OnceLock<Environment<'static>>>,
}

/// Why a host's steps could not be made.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// A playbook or template is broken: the same for every host, found before any SSH.
    Playbook(String),
    /// This host cannot be given steps (no NIC on the VIP's subnet).
    Refused(Refusal),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::Playbook(m) => f.write_str(m),
            RenderError::Refused(r) => r.fmt(f),
        }
    }
}

impl Playbooks {
    /// `dir`: `--playbooks`, whose files replace the embedded ones of the same name.
    pub fn new(dir: Option<PathBuf>) -> Playbooks {
        Playbooks {
            dir,
            env: Default::default(),
        }
    }

    fn env(&self) -> &Environment<'static> {
        self.env.get_or_init(|| self.build_env())
    }

    fn build_env(&self) -> Environment<'static> {
        let mut env = Environment::new();
        // Pages and configs are the user's own text: nothing is HTML-escaped.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.add_filter("sysctl_key", |k: String| {
            crate::resources::sysctl::conf_key(&k)
        });
        // A VIP's own prefix length (32, 128): the only one it may have on a real server's lo.
        env.add_filter(
            "host_prefix",
            |vip: String| -> Result<u8, minijinja::Error> {
                let ip = vip.parse().map_err(|_| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, "not an address")
                })?;
                Ok(crate::inventory::Vip(ip).host_prefix())
            },
        );
        let dir = self.dir.clone();
        env.set_loader(move |name| {
            if let Some(path) = dir.as_ref().map(|d| d.join(name)).filter(|p| p.exists()) {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("{}: {e}", path.display()),
                    )
                });
            }
            Ok(EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        env
    }

    /// Every fact any platform's variant of this host's playbook could need, so one facts exec
    /// suffices before the platform and NIC are known. Renders every template on the way: Err is
    /// a broken playbook, for every host alike.
    pub fn probe(&self, inv: &Inventory, host: &Host) -> Result<Probe, String> {
        // A director's IPVS table and sync daemons are what `verify` and `down` look at, whatever
        // steps its playbook has.
        let mut probe = Probe {
            ipvs: host.role() == Role::Director,
            ..Probe::default()
        };
        let boots = [Init::Systemd, Init::Sysv].map(|init| Boot {
            init,
            ifupdown: true,
            network_manager: true,
        });
        for (platform, boot) in PlatformId::ALL
            .into_iter()
            .flat_map(|p| boots.map(|b| (p, b)))
        {
            let ctx = context(inv, host, platform, boot, "NIC".into(), &BTreeSet::new());
            let steps = match self.steps(&ctx) {
                Err(RenderError::Refused(_)) => continue,
                other => other.map_err(|e| e.to_string())?,
            };
            for r in steps.iter().filter_map(Step::resource) {
                r.probe(&mut probe);
            }
        }
        Ok(probe)
    }

    /// The host's steps for its facts, with every template rendered.
    pub fn render(
        &self,
        inv: &Inventory,
        host: &Host,
        facts: &Facts,
    ) -> Result<Vec<Step>, RenderError> {
        let nic = nic(inv, host, facts).map_err(RenderError::Refused)?;
        let ctx = context(inv, host, facts.platform, facts.boot, nic, &facts.drained);
        if let Some(why) = refusals::of(&ctx, facts) {
            return Err(RenderError::Refused(Refusal(why)));
        }
        self.steps(&ctx)
    }

    fn steps(&self, ctx: &Context) -> Result<Vec<Step>, RenderError> {
        let env = self.env();
        let name = match ctx.host_ref.role() {
            Role::Director => "director.json.j2",
            Role::RealServer => "real_server.json.j2",
        };
        let broken = |m: String| RenderError::Playbook(m);
        let text = env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| broken(format!("playbook {name}: {e:#}")))?;
        let raw: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
            broken(format!(
                "playbook {name} did not render to a JSON list: {e}"
            ))
        })?;
        let mut steps = Vec::new();
        for (i, value) in raw.into_iter().enumerate() {
            let step: Step = serde_json::from_value(value)
                .map_err(|e| broken(format!("playbook {name}, step {}: {e}", i + 1)))?;
            for mut s in expand(step, ctx)? {
                fill_template(env, &mut s, ctx)?;
                steps.push(s);
            }
        }
        // After the last port the playbook opens or closes: the others lvsprov opened before,
        // which no service needs now, are closed.
        let keep: Vec<FirewallPort> = steps
            .iter()
            .filter_map(|s| match s {
                Step::FirewallPort(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        if let Some(last) = steps
            .iter()
            .rposition(|s| matches!(s, Step::FirewallPort(_)))
        {
            steps.insert(last + 1, Step::StalePorts(StalePorts { keep }));
        }
        Ok(steps)
    }
}

/// Intents become the platform's own steps; concrete steps stay as they are.
/// A host the inventory says not to persist (`"persist": false`) gets the live state only.
fn expand(step: Step, ctx: &Context) -> Result<Vec<Step>, RenderError> {
    let platform = crate::platform::ops(ctx.platform);
    let persist = ctx.host_ref.persist;
    let refused = |m: String| RenderError::Refused(Refusal(m));
    match step {
        Step::PersistVip(_)
        | Step::PersistIpvs(_)
        | Step::PersistIpvsSync(_)
        | Step::NoIpvsRestore(_)
            if !persist =>
        {
            Ok(vec![])
        }
        Step::PersistIpvsSync(p) => {
            crate::platform::ipvs_sync_unit(ctx.boot, &p.interface, p.id).map_err(refused)
        }
        Step::NoIpvsRestore(_) => Ok(platform.no_ipvs_restore()),
        // The VIPs lvsprov kept at boot that no service needs now go first, read from the same
        // records the platform's steps rewrite.
        Step::PersistVip(p) => {
            let stale = Step::StaleVips(crate::resources::stale_vips::StaleVips {
                dev: p.dev.clone(),
                keep: ctx.vips.clone(),
            });
            let steps = platform.persist_vip(ctx.boot, &p.dev, &ctx.vips);
            steps.map(|s| [vec![stale], s].concat()).map_err(refused)
        }
        Step::PersistIpvs(_) => {
            let mut steps = platform.persist_ipvs(ctx.boot).map_err(refused)?;
            if ctx.boot.init == Init::Systemd {
                steps.extend(crate::platform::ipvs_timeouts_unit(&ctx.ipvs));
            }
            Ok(steps)
        }
        other => Ok(vec![other]),
    }
}

/// Renders a step's template into its content: with the real values, and masked for diffs.
fn fill_template(env: &Environment, step: &mut Step, ctx: &Context) -> Result<(), RenderError> {
    let inner = serde_json::to_value(&*step)
        .ok()
        .and_then(|v| v.as_object().and_then(|o| o.values().next().cloned()))
        .unwrap_or_default();
    let Some((template, slot)) = step.template_mut() else {
        return Ok(());
    };
    let vars = inner.get("vars").cloned().unwrap_or_default();
    let render = |c: &Context| {
        env.get_template(&template)
            .and_then(|t| t.render(minijinja::context! { step => inner, vars => vars, ..minijinja::Value::from_serialize(c) }))
            .map_err(|e| RenderError::Playbook(format!("template {template}: {e:#}")))
    };
    let text = render(ctx)?;
    // Rendered again with every secret as the mask: a secret the one rule would not hide (on a
    // line other than `auth_pass <value>`) makes the two differ, and the playbook is refused
    // before any diff or script could show it.
    if let Some(m) = ctx.masked() {
        if secret::mask(&text) != secret::mask(&render(&m)?) {
            return Err(RenderError::Playbook(format!(
                "template {template}: a secret (keepalived.auth_pass, a router's password) is on a line other than `auth_pass <value>` or `password <value>`, where lvsprov could not mask it in diffs and scripts; use it only as `auth_pass {{{{ keepalived.auth_pass }}}}` or `password {{{{ r.password|tojson }}}};`"
            )));
        }
    }
    *slot = Some(Rendered::from(text));
    Ok(())
}
