//! One SSH connection per host (russh), through bastions when asked (`jump`). The server's key is
//! checked against known_hosts before anything is sent; an unknown key is learned only with
//! `--accept-new-host-keys`, a changed key never. Scripts go to `sh -s` on stdin, so no script
//! text is ever re-quoted into a command line.

use crate::inventory::{Hop, SshTarget};
use crate::shell::Script;

pub mod config;
pub mod identity;
mod jump;
mod shell;
mod verifier;
pub use config::SshConfig;
pub use identity::{Keyring, SecretSource};
pub use shell::{Output, Shell};
use verifier::Verifier;

fn broken(e: russh::Error) -> SshError {
    SshError::Session(format!("SSH session broke: {e}"))
}
use identity::{Identity, Signer};
use jump::{bastion, tunnel, Bastions};
use russh::client;
use russh::keys::{self, PrivateKeyWithHashAlg};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

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

impl SshError {
    /// The same kind of error, said of `what` (a bastion on the way).
    pub fn context(self, what: &str) -> SshError {
        match self {
            SshError::Unreachable(m) => SshError::Unreachable(format!("{what}: {m}")),
            SshError::HostKey(m) => SshError::HostKey(format!("{what}: {m}")),
            SshError::Auth(m) => SshError::Auth(format!("{what}: {m}")),
            SshError::Session(m) => SshError::Session(format!("{what}: {m}")),
            t @ SshError::Timeout { .. } => t,
        }
    }
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

pub struct Session {
    handle: client::Handle<Verifier>,
    sudo: bool,
    /// sudo's password, when the user's sudo wants one (`--ask-become-pass`).
    become_pass: Option<Arc<Zeroizing<String>>>,
    exec_timeout: Duration,
    /// What `-v` says about the connection: key exchange, identity used.
    pub about: String,
}

/// What every connection of a run shares: how to trust hosts, which keys to offer, sudo's password.
#[derive(Clone, Default)]
pub struct Credentials {
    pub accept_new_host_keys: bool,
    pub keyring: Arc<Keyring>,
    pub become_pass: Option<Arc<Zeroizing<String>>>,
    pub bastions: Arc<Bastions>,
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

/// Never prints a secret: only whether sudo's password is set.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("accept_new_host_keys", &self.accept_new_host_keys)
            .field(
                "become_pass",
                &self.become_pass.as_ref().map(|_| "********"),
            )
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects (through its bastions, if any) and authenticates within `limits.connect`,
    /// whatever the peer does (a stopped sshd accepts TCP and never sends a banner).
    pub async fn connect(
        target: &SshTarget,
        creds: &Credentials,
        limits: Limits,
    ) -> Result<Session, SshError> {
        let phase = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let attempt = Self::handshake(target, creds, phase.clone());
        let bound = target.connect_timeout.unwrap_or(limits.connect);
        match tokio::time::timeout(bound, attempt).await {
            Ok(Ok((handle, about))) => Ok(Session {
                handle,
                sudo: target.sudo,
                become_pass: creds.become_pass.clone().filter(|_| target.sudo),
                exec_timeout: limits.exec,
                about,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SshError::Unreachable(format!(
                "no SSH session with {}:{} within {} s (stuck in {}); check the host, or raise --connect-timeout",
                target.host,
                target.port,
                bound.as_secs(),
                PHASES[phase.load(std::sync::atomic::Ordering::Relaxed).min(2)]
            ))),
        }
    }

    async fn handshake(
        target: &SshTarget,
        creds: &Credentials,
        phase: Arc<std::sync::atomic::AtomicUsize>,
    ) -> Result<(client::Handle<Verifier>, String), SshError> {
        let end = Hop {
            user: target.user.clone(),
            host: target.host.clone(),
            port: target.port,
        };
        // The stream differs (TCP, or a channel of the last bastion); the login is the same.
        let (handle, login_, via) = if target.jump.is_empty() {
            let tcp = tcp(&end).await?;
            phase.store(1, std::sync::atomic::Ordering::Relaxed);
            let (h, l) = login(tcp, &end, target, creds, &phase).await?;
            (h, l, None)
        } else {
            let (via, via_kex) = bastion(&target.jump, target, creds).await?;
            let stream = tunnel(&via, &end, &target.jump).await?;
            phase.store(1, std::sync::atomic::Ordering::Relaxed);
            let (h, l) = login(stream, &end, target, creds, &phase).await?;
            (h, l, Some(via_kex))
        };
        let mut about = format!("key exchange {}, identity {}", login_.kex, login_.identity);
        if let Some(via_kex) = via {
            let hops: Vec<String> = target.jump.iter().map(|h| h.to_string()).collect();
            about.push_str(&format!(
                ", through {} (key exchange {via_kex})",
                hops.join(" → ")
            ));
        }
        Ok((handle, about))
    }

    /// A root shell on the host (through `sudo -n` for a non-root user), fed scripts on stdin.
    pub async fn shell(&self) -> Result<Shell, SshError> {
        let ch = self.handle.channel_open_session().await.map_err(broken)?;
        match (self.sudo, &self.become_pass) {
            (false, _) => ch.exec(true, "/bin/sh -s").await.map_err(broken)?,
            (true, None) => ch.exec(true, "sudo -n /bin/sh -s").await.map_err(broken)?,
            (true, Some(pass)) => {
                // The password goes on stdin, alone: nothing else is sent until the root shell
                // says it runs, so a wrong password can never be followed by script lines that
                // sudo would read as more guesses.
                ch.exec(true, shell::SUDO_WITH_PASSWORD)
                    .await
                    .map_err(broken)?;
                let line = Zeroizing::new(format!("{}\n", pass.as_str()));
                ch.data(line.as_bytes()).await.map_err(broken)?;
                let mut shell = Shell::new(ch, true, self.exec_timeout);
                shell.await_root().await?;
                return Ok(shell);
            }
        }
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

fn config(target: &SshTarget) -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(600)),
        // A peer that dies mid-run is noticed after 3 unanswered keepalives.
        keepalive_interval: Some(target.keepalive.unwrap_or(Duration::from_secs(15))),
        keepalive_max: 3,
        ..Default::default()
    })
}

async fn tcp(to: &Hop) -> Result<tokio::net::TcpStream, SshError> {
    let tcp = tokio::net::TcpStream::connect((to.host.as_str(), to.port))
        .await
        .map_err(|e| {
            SshError::Unreachable(format!("cannot connect to {}:{}: {e}", to.host, to.port))
        })?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// What `-v` says of one login.
struct Login {
    kex: String,
    identity: String,
}

/// Key exchange, host key check against known_hosts, authentication: one SSH login to `to`.
async fn login<R>(
    stream: R,
    to: &Hop,
    target: &SshTarget,
    creds: &Credentials,
    phase: &std::sync::atomic::AtomicUsize,
) -> Result<(client::Handle<Verifier>, Login), SshError>
where
    R: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let refusal = Arc::new(Mutex::new(None));
    let kex = Arc::new(Mutex::new(String::new()));
    let verifier = Verifier {
        host: to.host.clone(),
        port: to.port,
        known_hosts: target.known_hosts.clone(),
        accept_new: creds.accept_new_host_keys || target.accept_new,
        refusal: refusal.clone(),
        kex: kex.clone(),
    };
    let mut handle = match client::connect_stream(config(target), stream, verifier).await {
        Ok(h) => h,
        Err(e) => {
            if let Some(m) = refusal.lock().unwrap().take() {
                return Err(SshError::HostKey(m));
            }
            return Err(SshError::Unreachable(format!(
                "SSH handshake with {}:{} failed: {e}",
                to.host, to.port
            )));
        }
    };
    phase.store(2, std::sync::atomic::Ordering::Relaxed);
    let offered = creds.keyring.offer(&target.identity_files);
    let used = authenticate(&mut handle, &to.user, &offered)
        .await
        .map_err(|tried| {
            let mut m = if tried.is_empty() {
                format!("no identity to offer user {}: no ssh.identity_file, no ssh-agent key, no usable ~/.ssh/id_*", to.user)
            } else {
                format!("the host refused every identity for user {} (tried: {})", to.user, tried.join(", "))
            };
            for s in creds.keyring.skipped() {
                m.push_str(&format!("; skipped {s}"));
            }
            SshError::Auth(format!(
                "{m}; install one's public key in ~{}/.ssh/authorized_keys, or set ssh.identity_file",
                to.user
            ))
        })?;
    let kex = kex.lock().unwrap().clone();
    Ok((
        handle,
        Login {
            kex,
            identity: used,
        },
    ))
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

/// Offers each identity in turn until one is accepted: its description, or every one tried.
/// RSA keys sign with rsa-sha2-512/256 (what the server says it takes; SHA-512 when it says
/// nothing), never SHA-1 `ssh-rsa`, which OpenSSH 8.8+ refuses.
async fn authenticate(
    handle: &mut client::Handle<Verifier>,
    user: &str,
    offered: &[Identity],
) -> Result<String, Vec<String>> {
    let hash = Some(rsa_hash(handle).await.unwrap_or(keys::HashAlg::Sha512));
    let mut agent = None;
    let mut tried = Vec::new();
    for id in offered {
        let accepted = match &id.signer {
            Signer::Key(key) => handle
                .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), hash))
                .await
                .map(|r| r.success())
                .unwrap_or(false),
            Signer::Agent(public) => {
                if agent.is_none() {
                    agent = keys::agent::client::AgentClient::connect_env().await.ok();
                }
                match agent.as_mut() {
                    Some(a) => handle
                        .authenticate_publickey_with(user, public.clone(), hash, a)
                        .await
                        .map(|r| r.success())
                        .unwrap_or(false),
                    None => false,
                }
            }
        };
        if accepted {
            return Ok(id.describe());
        }
        tried.push(id.describe());
    }
    Err(tried)
}
