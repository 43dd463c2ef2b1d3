//! One SSH connection per host (russh). The server's key is checked against known_hosts before
//! anything is sent; an unknown key is learned only with `--accept-new-host-keys`, a changed key
//! never. Scripts go to `sh -s` on stdin, so no script text is ever re-quoted into a command line.

use crate::inventory::SshTarget;
use crate::shell::Script;

mod shell;
pub use shell::{Output, Shell};

fn broken(e: russh::Error) -> SshError {
    SshError::Session(format!("SSH session broke: {e}"))
}
use russh::client;
use russh::keys::{self, PrivateKeyWithHashAlg};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a connection failed; the caller reports each differently (unreachable vs. failed) and an
/// operator fixes each differently (network, known_hosts, keys, the session).
#[derive(Debug, Clone, PartialEq)]
pub enum SshError {
    /// No TCP connection or no SSH handshake: the host is down or unreachable.
    Unreachable(String),
    /// The host's key is unknown (without consent) or changed: refused before anything is sent.
    HostKey(String),
    /// No identity, or the host refused it, or sudo wants a password.
    Auth(String),
    /// The session broke after it was up.
    Session(String),
    /// A remote exec ran past `--timeout`; what it printed until then (to name the step).
    Timeout { secs: u64, stdout: String },
}

impl std::fmt::Display for SshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SshError::Unreachable(m)
            | SshError::HostKey(m)
            | SshError::Auth(m)
            | SshError::Session(m) => f.write_str(m),
            SshError::Timeout { secs, .. } => write!(f, "timed out after {secs} s"),
        }
    }
}

struct Verifier {
    host: String,
    port: u16,
    known_hosts: std::path::PathBuf,
    accept_new: bool,
    refusal: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &keys::ssh_key::PublicKey,
    ) -> Result<bool, Self::Error> {
        let fp = key.fingerprint(keys::HashAlg::Sha256);
        let verdict = match keys::check_known_hosts_path(&self.host, self.port, key, &self.known_hosts) {
            Ok(true) => Ok(()),
            Ok(false) if self.accept_new => keys::known_hosts::learn_known_hosts_path(&self.host, self.port, key, &self.known_hosts)
                .map_err(|e| format!("cannot record the host key in {}: {e}", self.known_hosts.display())),
            Ok(false) => Err(format!(
                "unknown host key {fp}; check it, then run again with --accept-new-host-keys to record it in {}",
                self.known_hosts.display()
            )),
            Err(keys::Error::KeyChanged { line }) => Err(format!(
                "HOST KEY CHANGED ({fp} does not match {} line {line}); refusing: if the host was rebuilt, remove that line and check the new key",
                self.known_hosts.display()
            )),
            Err(e) => Err(format!("cannot read {}: {e}", self.known_hosts.display())),
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(m) => {
                *self.refusal.lock().unwrap() = Some(m);
                Ok(false)
            }
        }
    }
}

pub struct Session {
    handle: client::Handle<Verifier>,
    sudo: bool,
    exec_timeout: Duration,
}

/// How long a host may take: a host that hangs costs its own timeout, never the run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TCP connect, banner, key exchange and authentication, together.
    pub connect: Duration,
    /// Each remote exec (facts, apply): long enough for a package install.
    pub exec: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect: Duration::from_secs(10),
            exec: Duration::from_secs(900),
        }
    }
}

/// Where a connection attempt is, so a timeout can say where it stuck.
const PHASES: [&str; 3] = [
    "TCP connect",
    "SSH banner and key exchange",
    "authentication",
];

impl Session {
    /// Connects and authenticates within `limits.connect`, whatever the peer does (a stopped
    /// sshd accepts TCP and never sends a banner).
    pub async fn connect(
        address: Ipv4Addr,
        target: &SshTarget,
        accept_new: bool,
        limits: Limits,
    ) -> Result<Session, SshError> {
        let phase = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let attempt = Self::handshake(address, target, accept_new, phase.clone());
        match tokio::time::timeout(limits.connect, attempt).await {
            Ok(Ok(handle)) => Ok(Session {
                handle,
                sudo: target.sudo,
                exec_timeout: limits.exec,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SshError::Unreachable(format!(
                "no SSH session with {address}:{} within {} s (stuck in {}); check the host, or raise --connect-timeout",
                target.port,
                limits.connect.as_secs(),
                PHASES[phase.load(std::sync::atomic::Ordering::Relaxed).min(2)]
            ))),
        }
    }

    async fn handshake(
        address: Ipv4Addr,
        target: &SshTarget,
        accept_new: bool,
        phase: Arc<std::sync::atomic::AtomicUsize>,
    ) -> Result<client::Handle<Verifier>, SshError> {
        let at = |p: usize| phase.store(p, std::sync::atomic::Ordering::Relaxed);
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(600)),
            // A peer that dies mid-run is noticed after 3 unanswered keepalives.
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 3,
            ..Default::default()
        });
        let refusal = Arc::new(Mutex::new(None));
        let verifier = Verifier {
            host: address.to_string(),
            port: target.port,
            known_hosts: target.known_hosts.clone(),
            accept_new,
            refusal: refusal.clone(),
        };
        let tcp = tokio::net::TcpStream::connect((address, target.port))
            .await
            .map_err(|e| {
                SshError::Unreachable(format!("cannot connect to {address}:{}: {e}", target.port))
            })?;
        let _ = tcp.set_nodelay(true);
        at(1);
        let mut handle = match client::connect_stream(config, tcp, verifier).await {
            Ok(h) => h,
            Err(e) => {
                if let Some(m) = refusal.lock().unwrap().take() {
                    return Err(SshError::HostKey(m));
                }
                return Err(SshError::Unreachable(format!(
                    "SSH handshake with {address} failed: {e}"
                )));
            }
        };
        at(2);
        let auth = match &target.identity_file {
            Some(path) => {
                let key = keys::load_secret_key(path, None).map_err(|e| {
                    SshError::Auth(format!("cannot load the identity file {}: {e}; set ssh.identity_file in the inventory", path.display()))
                })?;
                let hash = rsa_hash(&handle).await;
                handle
                    .authenticate_publickey(
                        &target.user,
                        PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                    )
                    .await
                    .map_err(|e| SshError::Auth(format!("authentication failed: {e}")))?
                    .success()
            }
            None => agent_auth(&mut handle, &target.user).await?,
        };
        if !auth {
            return Err(SshError::Auth(format!(
                "the host refused the key for user {}; install the public key in ~{}/.ssh/authorized_keys",
                target.user, target.user
            )));
        }
        Ok(handle)
    }

    /// A root shell on the host (through `sudo -n` for a non-root user), fed scripts on stdin.
    pub async fn shell(&self) -> Result<Shell, SshError> {
        let ch = self.handle.channel_open_session().await.map_err(broken)?;
        let cmd = if self.sudo {
            "sudo -n /bin/sh -s"
        } else {
            "/bin/sh -s"
        };
        ch.exec(true, cmd).await.map_err(broken)?;
        Ok(Shell::new(ch, self.sudo, self.exec_timeout))
    }

    /// Runs one script to its end and collects its output, within the exec timeout.
    pub async fn run(&self, script: &Script) -> Result<Output, SshError> {
        let mut shell = self.shell().await?;
        shell.send(script).await?;
        shell.eof().await?;
        shell.read(None).await
    }

    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// The hash an RSA key would sign with (None for other keys, or when the server does not say).
async fn rsa_hash(handle: &client::Handle<Verifier>) -> Option<keys::HashAlg> {
    handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten()
}

async fn agent_auth(handle: &mut client::Handle<Verifier>, user: &str) -> Result<bool, SshError> {
    let mut agent = keys::agent::client::AgentClient::connect_env()
        .await
        .map_err(|e| {
            SshError::Auth(format!(
                "no identity_file and no ssh-agent ({e}); set ssh.identity_file or start an agent"
            ))
        })?;
    let ids = agent
        .request_identities()
        .await
        .map_err(|e| SshError::Auth(format!("ssh-agent: {e}")))?;
    for key in ids {
        let hash = rsa_hash(handle).await;
        if let Ok(r) = handle
            .authenticate_publickey_with(user, key.clone(), hash, &mut agent)
            .await
        {
            if r.success() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
