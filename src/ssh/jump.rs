//! Jump hosts: the session with each bastion is opened once per run and shared (a
//! `direct-tcpip` channel per host behind it), so a run logs in to a bastion once, not once per
//! host; each hop's host key is checked like a target's.

use super::{login, tcp, Credentials, SshError, Verifier};
use crate::inventory::{Hop, SshTarget};
use russh::client;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A TCP connection to `to` made by the last bastion of `chain`, as a stream for SSH.
pub(super) async fn tunnel(
    via: &client::Handle<Verifier>,
    to: &Hop,
    chain: &[Hop],
) -> Result<russh::ChannelStream<client::Msg>, SshError> {
    let last = chain.last().expect("a chain has a bastion");
    via.channel_open_direct_tcpip(to.host.as_str(), to.port as u32, "127.0.0.1", 0)
        .await
        .map(|ch| ch.into_stream())
        .map_err(|e| {
            SshError::Unreachable(format!(
                "bastion {last} could not reach {}:{}: {e}",
                to.host, to.port
            ))
        })
}

/// A bastion's session, and its key exchange (for `-v`).
type Shared = Result<(Arc<client::Handle<Verifier>>, String), SshError>;
type BastionFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Shared> + Send + 'a>>;

/// The SSH session with the last bastion of `chain`: opened once per run, its channels shared
/// by every host behind it (one login per bastion, not one per host).
pub(super) fn bastion<'a>(
    chain: &'a [Hop],
    target: &'a SshTarget,
    creds: &'a Credentials,
) -> BastionFuture<'a> {
    Box::pin(async move {
        let cell = creds.bastions.cell(chain);
        cell.get_or_init(|| async {
            let hop = chain.last().expect("a chain has a bastion");
            let phase = Arc::new(std::sync::atomic::AtomicUsize::new(1));
            let r = if chain.len() == 1 {
                login(tcp(hop).await?, hop, target, creds, &phase).await
            } else {
                let (via, _) = bastion(&chain[..chain.len() - 1], target, creds).await?;
                let stream = tunnel(&via, hop, &chain[..chain.len() - 1]).await?;
                login(stream, hop, target, creds, &phase).await
            };
            r.map(|(h, login)| (Arc::new(h), login.kex))
                .map_err(|e| e.context(&format!("bastion {hop}")))
        })
        .await
        .clone()
    })
}

/// The bastion sessions of one run, by chain of hops.
#[derive(Default)]
pub struct Bastions {
    open: Mutex<HashMap<Vec<Hop>, BastionCell>>,
}

type BastionCell = Arc<tokio::sync::OnceCell<Shared>>;

impl Bastions {
    fn cell(&self, chain: &[Hop]) -> BastionCell {
        self.open
            .lock()
            .unwrap()
            .entry(chain.to_vec())
            .or_default()
            .clone()
    }
}
