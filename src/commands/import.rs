//! `lvsprov import HOST...`: reads a running cluster (one facts exec per host, nothing written on
//! any host, no lock taken) and prints the inventory that describes it. What it cannot map is
//! listed on stderr and makes the exit code 1, so a script never takes a partial picture for
//! the whole one.

use super::{credentials, print_line, runtime, usage, Common, Output};
use crate::exit::Exit;
use crate::facts::Probe;
use crate::fleet::FleetOptions;
use crate::import::{self, Seen, BIRD_CONF, KEEPALIVED_CONF, PAGE};
use crate::inventory::{self, expand, Duty, Explicit, Host, Role, SshTarget};
use crate::ssh::{Limits, SshConfig};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// SSH targets: addresses or ssh_config aliases, every director and real server of the cluster
    #[arg(required = true, value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Write the inventory to FILE (mode 0600 when it holds keepalived's auth_pass) instead of
    /// stdout (`-w`: `-o` is the report format everywhere else)
    #[arg(short = 'w', long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// The SSH user (default root, or ssh_config's User)
    #[arg(long)]
    pub user: Option<String>,
    /// The SSH port (default 22, or ssh_config's Port)
    #[arg(long)]
    pub port: Option<u16>,
    /// The private key to log in with (default: the agent's keys, then ~/.ssh/id_*)
    #[arg(long, value_name = "FILE")]
    pub identity_file: Option<PathBuf>,
    /// Read through `sudo -n` (default when the user is not root)
    #[arg(long)]
    pub sudo: bool,
    /// The known_hosts file to check host keys against (default ~/.ssh/known_hosts)
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Hosts to take as directors whatever they hold (comma list of targets)
    #[arg(long, value_delimiter = ',', value_name = "HOST")]
    pub director: Vec<String>,
    /// Hosts to take as real servers whatever they hold (comma list of targets)
    #[arg(long, value_delimiter = ',', value_name = "HOST")]
    pub real_server: Vec<String>,
    /// Record unknown host keys in known_hosts (a changed key is always refused)
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Seconds to connect, get the SSH banner, exchange keys and authenticate, per host
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Seconds the read may take per host
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout: u64,
    /// OpenSSH client config to read (default ~/.ssh/config when it exists; `none` to read none)
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Read encrypted identity files' passphrase from the first line of FILE
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Ask once for sudo's password
    #[arg(long)]
    pub ask_become_pass: bool,
    /// Read sudo's password from the first line of FILE
    #[arg(long, value_name = "FILE")]
    pub become_pass_file: Option<PathBuf>,
    /// Per host: the key exchange, the identity used, each phase's time
    #[arg(short, long)]
    pub verbose: bool,
}

/// What a `Common` for the shared credential code needs from import's own options.
fn common(a: &ImportArgs) -> Common {
    Common {
        inventory: PathBuf::new(),
        limit: None,
        forks: None,
        output: Output::Human,
        accept_new_host_keys: a.accept_new_host_keys,
        playbooks: None,
        diff_lines: 0,
        wait_lock: 0,
        connect_timeout: a.connect_timeout,
        timeout: a.timeout,
        ask_become_pass: a.ask_become_pass,
        become_pass_file: a.become_pass_file.clone(),
        passphrase_file: a.passphrase_file.clone(),
        ssh_config: a.ssh_config.clone(),
        verbose: a.verbose,
        dump_facts: None,
    }
}

fn target(a: &ImportArgs, host: &str) -> SshTarget {
    let user = a.user.clone().unwrap_or_else(|| "root".into());
    SshTarget {
        host: host.to_string(),
        jump: vec![],
        port: a.port.unwrap_or(22),
        identity_files: a.identity_file.iter().cloned().collect(),
        known_hosts: a
            .known_hosts
            .clone()
            .unwrap_or_else(|| expand("~/.ssh/known_hosts")),
        sudo: a.sudo || user != "root",
        accept_new: false,
        connect_timeout: None,
        keepalive: None,
        explicit: Explicit {
            user: a.user.is_some(),
            port: a.port.is_some(),
            identity_file: a.identity_file.is_some(),
            known_hosts: a.known_hosts.is_some(),
            jump: false,
            sudo: a.sudo,
        },
        user,
    }
}

pub fn run(a: ImportArgs) -> Exit {
    let c = common(&a);
    if a.connect_timeout == 0 || a.timeout == 0 {
        return usage("--connect-timeout and --timeout must be at least 1 second");
    }
    let forced = match forced_roles(&a) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let hosts = match targets(&a) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let targets: Vec<&SshTarget> = hosts.iter().map(|h| &h.ssh).collect();
    let creds = match credentials(&c, &targets) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let opts = FleetOptions {
        forks: crate::fleet::FORKS,
        creds,
        limits: Limits {
            connect: Duration::from_secs(a.connect_timeout),
            exec: Duration::from_secs(a.timeout),
        },
        verbose: a.verbose,
        bars: true,
    };
    let Some(seen) = read_all(hosts, &opts) else {
        return Exit::HostFailed;
    };
    let imported = import::inventory(
        &seen,
        &import::Options {
            forced,
            ssh: ssh_block(&a),
        },
    );
    finish(&a, imported)
}

/// `--director` / `--real-server`: each one of the hosts to read, and in one role only.
fn forced_roles(a: &ImportArgs) -> Result<std::collections::BTreeMap<String, Role>, Exit> {
    let mut forced = std::collections::BTreeMap::new();
    for (list, role) in [
        (&a.director, Role::Director),
        (&a.real_server, Role::RealServer),
    ] {
        for t in list {
            if !a.hosts.contains(t) {
                return Err(usage(format_args!(
                    "--{} {t}: not one of the hosts to read; add it to the host list",
                    role.name().replace('_', "-")
                )));
            }
            if forced.insert(t.clone(), role).is_some() {
                return Err(usage(format_args!("{t} is forced to both roles; pick one")));
            }
        }
    }
    Ok(forced)
}

/// The hosts to read as SSH targets, completed from ssh_config.
fn targets(a: &ImportArgs) -> Result<Vec<Host>, Exit> {
    let config = SshConfig::load(a.ssh_config.as_deref()).map_err(usage)?;
    let mut hosts = Vec::new();
    for h in &a.hosts {
        let mut ssh = target(a, h);
        if let Some(cfg) = &config {
            cfg.apply(&mut ssh)
                .map_err(|e| usage(format_args!("{h}: {e}\nnothing was contacted")))?;
        }
        hosts.push(Host {
            name: h.clone(),
            address: std::net::Ipv4Addr::UNSPECIFIED,
            address6: None,
            nic: None,
            persist: true,
            duty: Duty::RealServer {
                page: None,
                web_server: true,
            },
            ssh,
        });
    }
    Ok(hosts)
}

/// Every host's facts, read-only; None (each failure said) when any host could not be read.
fn read_all(hosts: Vec<Host>, opts: &FleetOptions) -> Option<Vec<Seen>> {
    // The table (a hand-built director's rules) and the addresses are what import reads.
    let mut probe = Probe {
        ipvs: true,
        ..Probe::default()
    };
    probe.marks = true;
    probe.files.insert(KEEPALIVED_CONF.into());
    probe.files.insert(PAGE.into());
    probe.files.insert(BIRD_CONF.into());
    let results = runtime().block_on(super::read::facts_of(hosts, opts, |_| probe.clone()));
    let mut seen = Vec::new();
    let mut failed = 0;
    for (host, r) in results {
        match r {
            Ok(f) => seen.push(Seen {
                target: host.name,
                facts: f,
            }),
            Err(e) => {
                failed += 1;
                eprintln!("lvsprov: {}: {e}", host.name);
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "lvsprov: {failed} host(s) could not be read; nothing was written (an inventory without them would take them out of the cluster at the next `up`)"
        );
        return None;
    }
    Some(seen)
}

/// The top-level `ssh` block: what the command line said, so `up` connects the same way.
fn ssh_block(a: &ImportArgs) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    if let Some(u) = &a.user {
        m.insert("user".into(), u.as_str().into());
    }
    if let Some(p) = a.port {
        m.insert("port".into(), p.into());
    }
    if let Some(f) = &a.identity_file {
        m.insert("identity_file".into(), f.display().to_string().into());
    }
    if let Some(f) = &a.known_hosts {
        m.insert("known_hosts".into(), f.display().to_string().into());
    }
    if a.sudo {
        m.insert("sudo".into(), true.into());
    }
    m
}

/// On stdout a secret is never printed: this stands in for it, and the inventory refuses to load
/// until it is replaced.
const SECRET_PLACEHOLDER: &str = "<secret: run import with -w FILE, or write it here>";

/// Every secret of the inventory replaced by [`SECRET_PLACEHOLDER`], for stdout.
fn hide_secrets(inv: &mut serde_json::Value) {
    if let Some(p) = inv.pointer_mut("/keepalived/auth_pass") {
        *p = SECRET_PLACEHOLDER.into();
    }
    let routers = inv
        .pointer_mut("/ecmp/routers")
        .and_then(|r| r.as_array_mut());
    for r in routers.into_iter().flatten() {
        if let Some(p) = r.get_mut("password") {
            *p = SECRET_PLACEHOLDER.into();
        }
    }
}

fn finish(a: &ImportArgs, imported: import::Imported) -> Exit {
    let mut inv = imported.inventory;
    let mut problems: Vec<String> = imported.not_mapped;
    let text = serde_json::to_string_pretty(&inv).expect("JSON serialises") + "\n";
    if let Err(errs) = inventory::parse(&text) {
        for p in errs {
            let msg = p.to_string();
            // The placeholder's own complaint is said once, below.
            if !msg.contains("auth_pass") || !imported.secret {
                problems.push(format!("the inventory does not load as written: {msg}"));
            }
        }
    }
    let counts = |k: &str| inv[k].as_array().map(Vec::len).unwrap_or(0);
    let summary = format!(
        "lvsprov: imported {} director(s), {} real server(s), {} service(s)",
        counts("directors"),
        counts("real_servers"),
        counts("services")
    );
    match &a.output_file {
        Some(path) => {
            let mode = if imported.secret { 0o600 } else { 0o644 };
            if let Err(e) = write_atomic(path, &text, mode) {
                return usage(format_args!("-o {}: {e}", path.display()));
            }
            eprintln!("{summary} into {}", path.display());
        }
        None => {
            if imported.secret {
                hide_secrets(&mut inv);
                problems.push("the cluster's secrets (keepalived's auth_pass, BGP session passwords) are not printed: run import with -w FILE to write them into a file only you can read, or put them in by hand".into());
            }
            let text = serde_json::to_string_pretty(&inv).expect("JSON serialises") + "\n";
            print_line(&text);
            eprintln!("{summary}");
        }
    }
    for p in &problems {
        eprintln!("lvsprov: not imported: {p}");
    }
    if problems.is_empty() {
        Exit::Ok
    } else {
        eprintln!(
            "lvsprov: {} thing(s) not imported (above); nothing was changed on any host",
            problems.len()
        );
        Exit::HostFailed
    }
}

/// The whole file or none of it, with its mode set before it has content.
fn write_atomic(path: &std::path::Path, text: &str, mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let tmp = dir
        .unwrap_or(std::path::Path::new("."))
        .join(format!(".lvsprov-import.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_shows_no_secret_and_adds_no_block() {
        let mut ecmp = serde_json::json!({ "ecmp": { "asn": 65010, "routers": [
            { "address": "192.168.100.254", "asn": 65000, "password": "s3cret" },
            { "address": "192.168.100.253", "asn": 65000 } ] } });
        hide_secrets(&mut ecmp);
        assert_eq!(ecmp["ecmp"]["routers"][0]["password"], SECRET_PLACEHOLDER);
        assert!(ecmp["ecmp"]["routers"][1].get("password").is_none());
        assert!(ecmp.get("keepalived").is_none(), "{ecmp}");
        let mut vrrp = serde_json::json!({ "keepalived": { "auth_pass": "lvs-lab1" } });
        hide_secrets(&mut vrrp);
        assert_eq!(vrrp["keepalived"]["auth_pass"], SECRET_PLACEHOLDER);
        assert!(vrrp.get("ecmp").is_none(), "{vrrp}");
    }
}
