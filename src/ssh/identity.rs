//! The keys a run signs with, settled once before any host is contacted: an encrypted key's
//! passphrase is asked once per run (not once per host, and never while progress bars draw),
//! the agent is preferred when it holds the key, and a missing or undecryptable key stops the
//! run before anything is sent anywhere.
//!
//! Passphrases live in this process's memory only (zeroed when dropped): never on a command
//! line, in an environment variable lvsprov sets, in output, logs or JSON.

use russh::keys::{self, ssh_key, HashAlg, PrivateKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// What signs the authentication request.
#[derive(Clone)]
pub enum Signer {
    /// Decrypted (or never encrypted) in this process only.
    Key(Arc<PrivateKey>),
    /// The agent holds it and signs; the private key never leaves the agent.
    Agent(ssh_key::PublicKey),
}

#[derive(Clone)]
pub struct Identity {
    /// What an operator recognises: the file, or the agent key's comment.
    pub label: String,
    pub signer: Signer,
}

impl Identity {
    pub fn public_key(&self) -> &ssh_key::PublicKey {
        match &self.signer {
            Signer::Key(k) => k.public_key(),
            Signer::Agent(p) => p,
        }
    }

    /// `~/.ssh/id_rsa (ssh-rsa SHA256:…)`: enough to find the key in authorized_keys.
    pub fn describe(&self) -> String {
        let key = self.public_key();
        format!(
            "{} ({} {})",
            self.label,
            key.algorithm().as_str(),
            key.fingerprint(HashAlg::Sha256)
        )
    }
}

/// Where an encrypted key's passphrase (or sudo's password) comes from when it is needed.
#[derive(Clone, Debug, PartialEq)]
pub enum SecretSource {
    /// The first line of a file (unattended runs); the file is the operator's to protect.
    File(PathBuf),
    /// An askpass program (`SSH_ASKPASS`), given the prompt as its argument, the secret on stdout.
    Askpass(PathBuf),
    /// Asked on the controlling terminal, without echo.
    Terminal,
    /// Nothing can be asked: the run says which option to use.
    Unavailable,
}

impl SecretSource {
    /// `file` when given; else OpenSSH's rules: `SSH_ASKPASS` when `SSH_ASKPASS_REQUIRE` is
    /// `force` or `prefer`, the terminal when there is one, `SSH_ASKPASS` when there is not.
    pub fn choose(file: Option<&Path>) -> SecretSource {
        if let Some(f) = file {
            return SecretSource::File(f.to_path_buf());
        }
        let askpass = std::env::var_os("SSH_ASKPASS")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let require = std::env::var("SSH_ASKPASS_REQUIRE").unwrap_or_default();
        match askpass {
            Some(p) if require == "force" || require == "prefer" => SecretSource::Askpass(p),
            _ if has_terminal() => SecretSource::Terminal,
            Some(p) => SecretSource::Askpass(p),
            None => SecretSource::Unavailable,
        }
    }

    /// Whether a wrong answer may be asked again (a person typing), or is final (a file).
    fn retries(&self) -> usize {
        match self {
            SecretSource::Terminal => 3,
            _ => 1,
        }
    }

    pub fn ask(&self, prompt: &str) -> Result<Zeroizing<String>, String> {
        let line = |s: String| Zeroizing::new(s.lines().next().unwrap_or("").to_string());
        match self {
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(line)
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
            SecretSource::Askpass(program) => {
                let out = std::process::Command::new(program)
                    .arg(prompt)
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::inherit())
                    .output()
                    .map_err(|e| format!("cannot run SSH_ASKPASS {}: {e}", program.display()))?;
                if !out.status.success() {
                    return Err(format!(
                        "SSH_ASKPASS {} exited with {} (cancelled?)",
                        program.display(),
                        out.status
                    ));
                }
                Ok(line(String::from_utf8_lossy(&out.stdout).into_owned()))
            }
            SecretSource::Terminal => rpassword::prompt_password(prompt)
                .map(Zeroizing::new)
                .map_err(|e| format!("cannot read the terminal: {e}")),
            SecretSource::Unavailable => Err(
                "no terminal to ask on; give it in a file (--passphrase-file / --become-pass-file) or through SSH_ASKPASS".into(),
            ),
        }
    }
}

fn has_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// Every identity the run may offer, by the file it came from; the agent's own keys apart.
#[derive(Default)]
pub struct Keyring {
    files: BTreeMap<PathBuf, Identity>,
    agent: Vec<Identity>,
    /// Default key files (`~/.ssh/id_*`), offered to hosts whose inventory names no identity.
    defaults: Vec<Identity>,
    /// Default key files that were left out, and why (said when authentication fails).
    skipped: Vec<String>,
}

/// OpenSSH's own default identities, in its order (DSA is gone from OpenSSH 10).
const DEFAULT_KEYS: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

impl Keyring {
    /// Loads each named identity file once (asking for a passphrase only when the agent does
    /// not hold the key), the agent's keys, and — when some host names none — the default files.
    pub fn load(
        named: &[PathBuf],
        want_defaults: bool,
        source: &SecretSource,
    ) -> Result<Keyring, String> {
        let agent = agent_keys();
        let mut ring = Keyring {
            agent: agent
                .iter()
                .map(|(key, comment)| Identity {
                    label: format!(
                        "agent: {}",
                        if comment.is_empty() {
                            "(no comment)"
                        } else {
                            comment
                        }
                    ),
                    signer: Signer::Agent(key.clone()),
                })
                .collect(),
            ..Default::default()
        };
        for path in named {
            if ring.files.contains_key(path) {
                continue;
            }
            let id = load_file(path, &agent, Some(source))?
                .expect("a source is given, so an encrypted key is asked for");
            ring.files.insert(path.clone(), id);
        }
        if want_defaults {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| "/root".into());
            for name in DEFAULT_KEYS {
                let path = home.join(".ssh").join(name);
                if !path.exists() {
                    continue;
                }
                match load_file(&path, &agent, None) {
                    Ok(Some(id)) => ring.defaults.push(id),
                    Ok(None) => ring.skipped.push(format!(
                        "{} (encrypted and not in the agent: name it in ssh.identity_file to be asked its passphrase)",
                        path.display()
                    )),
                    Err(e) => ring.skipped.push(e),
                }
            }
        }
        Ok(ring)
    }

    /// What to offer a host, in order: its named identities; or the agent's keys, then the
    /// default files the agent does not already offer.
    pub fn offer(&self, identity_files: &[PathBuf]) -> Vec<Identity> {
        if !identity_files.is_empty() {
            return identity_files
                .iter()
                .filter_map(|p| self.files.get(p).cloned())
                .collect();
        }
        let mut ids = self.agent.clone();
        for d in &self.defaults {
            if !ids
                .iter()
                .any(|a| a.public_key().key_data() == d.public_key().key_data())
            {
                ids.push(d.clone());
            }
        }
        ids
    }

    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

/// The public halves the agent at `SSH_AUTH_SOCK` holds (none without an agent).
fn agent_keys() -> Vec<(ssh_key::PublicKey, String)> {
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Vec::new();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let Ok(mut agent) = keys::agent::client::AgentClient::connect_env().await else {
            return Vec::new();
        };
        agent
            .request_identities()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|id| match id {
                keys::agent::AgentIdentity::PublicKey { key, comment } => Some((key, comment)),
                _ => None,
            })
            .collect()
    })
}

/// One identity file. An encrypted key the agent holds is signed by the agent; otherwise its
/// passphrase is asked from `source` (None: not asked, `Ok(None)`).
fn load_file(
    path: &Path,
    agent: &[(ssh_key::PublicKey, String)],
    source: Option<&SecretSource>,
) -> Result<Option<Identity>, String> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the identity file {shown}: {e}; fix ssh.identity_file in the inventory"
        )
    })?;
    let plain = |key: PrivateKey| Identity {
        label: shown.clone(),
        signer: Signer::Key(Arc::new(key)),
    };
    match keys::decode_secret_key(&text, None) {
        Ok(key) => return Ok(Some(plain(key))),
        Err(keys::Error::KeyIsEncrypted) => {}
        Err(e) => {
            return Err(format!(
                "cannot use the identity file {shown}: {e}; lvsprov reads OpenSSH, PEM and PKCS#8 keys (ed25519, ECDSA, RSA)"
            ))
        }
    }
    if let Some(public) = public_half(&text, path) {
        if agent.iter().any(|(k, _)| k.key_data() == public.key_data()) {
            return Ok(Some(Identity {
                label: format!("{shown} (via the agent)"),
                signer: Signer::Agent(public),
            }));
        }
    }
    let Some(source) = source else {
        return Ok(None);
    };
    let prompt = format!("Enter passphrase for key '{shown}': ");
    for attempt in 1..=source.retries() {
        let pass = source
            .ask(&prompt)
            .map_err(|e| format!("the identity file {shown} is encrypted: {e}"))?;
        match keys::decode_secret_key(&text, Some(&pass)) {
            Ok(key) => return Ok(Some(plain(key))),
            Err(_) if attempt < source.retries() => {
                eprintln!("lvsprov: wrong passphrase, try again")
            }
            Err(_) => {}
        }
    }
    Err(format!(
        "wrong passphrase for the identity file {shown}; nothing was contacted"
    ))
}

/// An encrypted key's public half, without its passphrase: OpenSSH keys carry it in the clear;
/// for other formats, the `.pub` file beside it.
fn public_half(text: &str, path: &Path) -> Option<ssh_key::PublicKey> {
    if let Ok(k) = ssh_key::PrivateKey::from_openssh(text) {
        return Some(k.public_key().clone());
    }
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    let line = std::fs::read_to_string(pub_path).ok()?;
    ssh_key::PublicKey::from_openssh(line.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_file_gives_its_first_line_only() {
        let dir = std::env::temp_dir().join(format!("lvsprov-pass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pass");
        std::fs::write(&f, "s3cret\nignored\n").unwrap();
        let got = SecretSource::File(f).ask("prompt").unwrap();
        assert_eq!(got.as_str(), "s3cret");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_identity_file_names_the_field_to_fix() {
        let e = match load_file(
            Path::new("/nonexistent/id_x"),
            &[],
            Some(&SecretSource::Unavailable),
        ) {
            Err(e) => e,
            Ok(_) => panic!("a missing file loaded"),
        };
        assert!(
            e.contains("/nonexistent/id_x") && e.contains("ssh.identity_file"),
            "{e}"
        );
    }
}
