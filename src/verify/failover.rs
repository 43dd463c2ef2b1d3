//! `verify --failover`: stop keepalived on the VIP holder (its own service verb), request through
//! the VIP until the backup answers, start keepalived again and wait for the VIP to serve.

use super::checks::{check, failover::judge, Check};
use super::net::get;
use crate::error::HostError;
use crate::fleet::{self, Finish, FleetOptions};
use crate::inventory::{Host, Service};
use crate::pipeline::Pipeline;
use crate::platform::Verb;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Timeline(Vec<(Duration, bool)>);

impl Finish for Timeline {
    fn word(&self) -> String {
        "failed over".into()
    }
}

/// Samples requests through the VIP after the stop: at most 30 s, until the backup answered
/// after a failure, or 20 answers without any failure.
async fn sample(svc: &Service) -> Vec<(Duration, bool)> {
    let stopped = Instant::now();
    let mut out = Vec::new();
    let mut failed = false;
    while stopped.elapsed() < Duration::from_secs(30) {
        let ok = get(svc.vip.0, svc.port, Duration::from_millis(500))
            .await
            .is_ok();
        out.push((stopped.elapsed(), ok));
        failed |= !ok;
        let answers = out.iter().filter(|(_, ok)| *ok).count();
        if (ok && failed) || (!failed && answers >= 20) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out
}

pub async fn run(
    pipeline: Arc<Pipeline>,
    holder: Host,
    svc: Service,
    fleet_opts: &FleetOptions,
) -> (Check, Option<f64>) {
    let name = holder.name.clone();
    let one = FleetOptions {
        forks: 1,
        ..fleet_opts.clone()
    };
    let results = fleet::each(vec![holder], &one, move |host, session, _| {
        let (pipeline, svc) = (pipeline.clone(), svc.clone());
        async move {
            let (facts, shell) = pipeline.open(&host, &session, None).await?;
            shell.close().await;
            let (platform, init) = (facts.platform(), facts.init);
            let stop = platform.service(init, "keepalived", Verb::Stop);
            let out = session.run(&stop).await?;
            if out.status != 0 {
                return Err(HostError::Facts(format!(
                    "stopping keepalived failed: {}",
                    out.stderr.trim()
                )));
            }
            let samples = sample(&svc).await;
            let _ = session
                .run(&platform.service(init, "keepalived", Verb::Start))
                .await;
            // Let the restarted master take the VIP back before anything else runs.
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline
                && get(svc.vip.0, svc.port, Duration::from_millis(500))
                    .await
                    .is_err()
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(Timeline(samples))
        }
    })
    .await;
    match results.into_iter().next() {
        Some((_, Ok(Timeline(samples)))) => judge(&name, &samples),
        Some((_, Err(e))) => (
            check(
                format!("failover from {name}"),
                false,
                "keepalived stopped",
                e.to_string(),
            ),
            None,
        ),
        None => (
            check("failover", false, "a director holding the VIP", "none"),
            None,
        ),
    }
}
