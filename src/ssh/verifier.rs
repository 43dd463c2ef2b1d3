//! The server's key, checked against known_hosts before anything is sent: an unknown key is
//! learned only with `--accept-new-host-keys`, a changed key never.

use russh::client;
use russh::keys;
use std::sync::{Arc, Mutex};

pub(super) struct Verifier {
    pub host: String,
    pub port: u16,
    pub known_hosts: std::path::PathBuf,
    pub accept_new: bool,
    pub refusal: Arc<Mutex<Option<String>>>,
    /// The key exchange the server and lvsprov agreed on (for `-v`).
    pub kex: Arc<Mutex<String>>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn kex_done(
        &mut self,
        _secret: Option<&[u8]>,
        names: &russh::Names,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        *self.kex.lock().unwrap() = names.kex.as_ref().to_string();
        Ok(())
    }

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            *self.refusal.lock().unwrap() = Some(
                "the host offered a certificate; lvsprov checks plain host keys against known_hosts".into(),
            );
            return Ok(false);
        };
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
