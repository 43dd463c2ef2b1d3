//! `verify`: prove the selected part of the cluster balances (see `crate::verify`).

use super::{load, print, runtime, Common};
use crate::exit::Exit;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: Common,
    /// Requests per virtual service
    #[arg(long, default_value_t = 100)]
    pub requests: usize,
    /// Also stop keepalived on the VIP holder, time the outage, start it again
    #[arg(long)]
    pub failover: bool,
}

pub fn run(a: VerifyArgs) -> Exit {
    let loaded = match super::inventory(&a.common).and_then(|inv| load(&a.common, inv, None)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let output = loaded.output;
    let report = runtime().block_on(crate::verify::run(loaded, a.requests, a.failover));
    print(output, &report, || report.human());
    report.exit()
}
