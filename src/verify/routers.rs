//! ECMP: the routers' side of `verify`. Each router the inventory gives an `ssh` block is asked,
//! over SSH, for its kernel's route to every VIP ([`routes`]), judged by [`router::routes`]. Only
//! with every director observed: a director left out by `--limit` would look like a stranger.

use super::checks::{check, router, Check};
use super::Scope;
use crate::error::HostError;
use crate::facts::routes::{self, Routes};
use crate::fleet::{self, Finish, FleetOptions, Machine};
use crate::inventory::{SshTarget, Vip};
use std::net::{IpAddr, Ipv4Addr};

/// A router to log in to, named by its address (routers have no names in the inventory).
#[derive(Clone)]
struct Login {
    name: String,
    address: Ipv4Addr,
    ssh: SshTarget,
}

impl Machine for Login {
    fn name(&self) -> &str {
        &self.name
    }
    fn ssh(&self) -> &SshTarget {
        &self.ssh
    }
}

struct Read(Routes);

impl Finish for Read {
    fn word(&self) -> String {
        "routes read".into()
    }
}

pub(super) async fn checks(scope: &Scope<'_>, opts: &FleetOptions) -> Vec<Check> {
    let Some(ecmp) = &scope.inv.ecmp else {
        return vec![];
    };
    let logins: Vec<Login> = ecmp
        .routers
        .iter()
        .filter_map(|r| {
            Some(Login {
                name: format!("router {}", r.address),
                address: r.address,
                ssh: r.ssh.clone()?,
            })
        })
        .collect();
    if !scope.all_directors() || logins.is_empty() {
        return vec![];
    }
    let mut vips: Vec<Ipv4Addr> = scope
        .services()
        .filter_map(|s| match s.vip {
            Vip(IpAddr::V4(v)) => Some(v),
            Vip(IpAddr::V6(_)) => None,
        })
        .collect();
    vips.sort();
    vips.dedup();
    let script = routes::script(&vips);
    let read = fleet::each(logins, opts, move |_, session, progress| {
        let script = script.clone();
        async move {
            progress.phase("routes");
            let out = session.run(&script).await?;
            routes::parse(&out.stdout)
                .map(Read)
                .map_err(HostError::Facts)
        }
    })
    .await;
    let (mut serving, mut drained) = (Vec::new(), Vec::new());
    for d in scope.directors() {
        let named = (d.host.name.clone(), d.host.address);
        match d.drained_itself() {
            true => drained.push(named),
            false => serving.push(named),
        }
    }
    let mut out = Vec::new();
    for (login, result) in read {
        match result {
            Ok(Read(routes)) => out.extend(vips.iter().map(|vip| {
                let gateways = routes.get(vip).map(Vec::as_slice).unwrap_or_default();
                router::routes(login.address, *vip, gateways, &serving, &drained)
            })),
            Err(e) => out.push(check(
                format!("{}: routes read", login.name),
                false,
                "its routes over SSH",
                e.to_string(),
            )),
        }
    }
    out
}
