//! Playbooks: each role's ordered steps are data (`playbooks/<role>.json.j2`), rendered per host
//! with minijinja, as are the files they write. Embedded in the binary; `--playbooks DIR` reads
//! them from a folder instead, so a site can change a step without rebuilding lvsprov.

use crate::facts::{Facts, Family, Init, Probe};
use crate::inventory::{Host, Inventory, Role};
use crate::resources::ipvs::VirtualService;
use crate::resources::Step;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use std::path::PathBuf;

const EMBEDDED: &[(&str, &str)] = &[
    (
        "director.json.j2",
        include_str!("../playbooks/director.json.j2"),
    ),
    (
        "real_server.json.j2",
        include_str!("../playbooks/real_server.json.j2"),
    ),
    (
        "keepalived.conf.j2",
        include_str!("../playbooks/keepalived.conf.j2"),
    ),
    ("index.html.j2", include_str!("../playbooks/index.html.j2")),
    (
        "sysctl.conf.j2",
        include_str!("../playbooks/sysctl.conf.j2"),
    ),
    (
        "ifupdown-vip.j2",
        include_str!("../playbooks/ifupdown-vip.j2"),
    ),
    ("ifcfg-vip.j2", include_str!("../playbooks/ifcfg-vip.j2")),
    (
        "lvsprov-vip.service.j2",
        include_str!("../playbooks/lvsprov-vip.service.j2"),
    ),
    (
        "ipvsadm-default.j2",
        include_str!("../playbooks/ipvsadm-default.j2"),
    ),
];

#[derive(Debug, Clone, Default)]
pub struct Playbooks {
    pub dir: Option<PathBuf>,
}

/// What a template sees. Built from the inventory and the facts that decide the shape of a host
/// (OS family, init, the NIC), never from anything else.
#[derive(Serialize)]
struct Context<'a> {
    host: &'a Host,
    family: Family,
    os_major: u32,
    init: Init,
    nic: String,
    state: &'static str,
    keepalived: Option<&'a crate::inventory::Keepalived>,
    services: Vec<crate::inventory::Service>,
    ipvs_services: Vec<VirtualService>,
    vips: Vec<String>,
}

impl Playbooks {
    fn env(&self) -> Environment<'static> {
        let mut env = Environment::new();
        // Pages and configs are the user's own text: nothing is HTML-escaped.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        let dir = self.dir.clone();
        env.set_loader(move |name| {
            if let Some(dir) = &dir {
                let path = dir.join(name);
                if path.exists() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("{}: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()))
        });
        env
    }

    /// Every fact any variant of this host's playbook could need, so one facts exec suffices
    /// before the OS family and NIC are known.
    pub fn probe(&self, inv: &Inventory, host: &Host) -> Result<Probe, String> {
        let mut probe = Probe::default();
        for (family, major) in [(Family::Debian, 12), (Family::Rhel, 7), (Family::Rhel, 9)] {
            let ctx = context(
                inv,
                host,
                family,
                major,
                Init::Systemd,
                "NIC".into(),
                &Default::default(),
            );
            for step in self.steps(&ctx, host)? {
                step.resource().probe(&mut probe);
            }
        }
        Ok(probe)
    }

    /// The host's steps for its facts, with every template rendered.
    pub fn render(&self, inv: &Inventory, host: &Host, facts: &Facts) -> Result<Vec<Step>, String> {
        let vip = inv.services.first().map(|s| s.vip);
        let nic = match (&host.nic, vip.and_then(|v| facts.nic_for(v))) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => n.to_string(),
            (None, None) => {
                return Err(format!(
                    "no NIC on this host has an address in the VIP's subnet ({}); set \"nic\" for {} in the inventory",
                    inv.network, host.name
                ))
            }
        };
        let ctx = context(
            inv,
            host,
            facts.family,
            facts.os_major,
            facts.init,
            nic,
            &facts.drained,
        );
        self.steps(&ctx, host)
    }

    fn steps(&self, ctx: &Context, host: &Host) -> Result<Vec<Step>, String> {
        let env = self.env();
        let name = match host.role {
            Role::Director => "director.json.j2",
            Role::RealServer => "real_server.json.j2",
        };
        let text = env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| format!("playbook {name}: {e}"))?;
        let raw: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| format!("playbook {name} did not render to a JSON list: {e}"))?;
        let mut steps = Vec::new();
        for (i, value) in raw.into_iter().enumerate() {
            let mut step: Step = serde_json::from_value(value.clone())
                .map_err(|e| format!("playbook {name}, step {}: {e}", i + 1))?;
            if let Some((template, slot)) = step.template_mut() {
                let inner = value
                    .as_object()
                    .and_then(|o| o.values().next())
                    .cloned()
                    .unwrap_or_default();
                let vars = inner.get("vars").cloned().unwrap_or_default();
                let rendered = env
                    .get_template(&template)
                    .and_then(|t| t.render(minijinja::context! { step => inner, vars => vars, ..minijinja::Value::from_serialize(ctx) }))
                    .map_err(|e| format!("template {template}: {e}"))?;
                *slot = Some(rendered);
            }
            steps.push(step);
        }
        Ok(steps)
    }
}

/// `drained`: real servers this director holds at weight 0 (`lvsprov drain`), kept by every `up`.
fn context<'a>(
    inv: &'a Inventory,
    host: &'a Host,
    family: Family,
    os_major: u32,
    init: Init,
    nic: String,
    drained: &std::collections::BTreeSet<String>,
) -> Context<'a> {
    let services: Vec<crate::inventory::Service> = match host.role {
        Role::Director => inv
            .services
            .iter()
            .map(|s| s.with_drained(drained))
            .collect(),
        Role::RealServer => inv.services_of(host).cloned().collect(),
    };
    let mut vips: Vec<String> = Vec::new();
    for s in &services {
        if !vips.contains(&s.vip.to_string()) {
            vips.push(s.vip.to_string());
        }
    }
    let active = inv
        .active_director()
        .map(|d| d.name == host.name)
        .unwrap_or(false);
    Context {
        host,
        family,
        os_major,
        init,
        nic,
        state: if active { "MASTER" } else { "BACKUP" },
        keepalived: inv.keepalived.as_ref(),
        ipvs_services: services.iter().map(VirtualService::from).collect(),
        services,
        vips,
    }
}
