//! Commands are modules: each has its own options, and all share [`Common`] (inventory, `--limit`,
//! `--forks`, output, host keys, playbooks) and [`load`], which does everything that can fail
//! before a host is contacted. Everything here returns an [`Exit`]; `main` only maps it.

use crate::exit::Exit;
use crate::fleet::FleetOptions;
use crate::inventory::{self, Host, Inventory, SshTarget};
pub use crate::pipeline::Loaded;
use crate::pipeline::Pipeline;
use crate::playbook::Playbooks;
pub use crate::report::Output;
use crate::ssh::{Credentials, Keyring, Limits, SecretSource, SshConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub mod converge;
pub mod docs;
pub mod drain;
pub mod drain_wait;
pub mod election;
pub mod import;
pub mod offline;
pub mod read;
pub mod rolling;
pub mod status;
pub mod textfile;
pub mod verify;

#[derive(clap::Args, Clone, Debug)]
pub struct Common {
    /// The inventory (JSON)
    #[arg(default_value = DEFAULT_INVENTORY)]
    pub inventory: PathBuf,
    /// Comma list of host names, globs ('web*') or the groups `directors`, `real_servers`;
    /// `!NAME` (or a glob or group) leaves those out
    #[arg(long)]
    pub limit: Option<String>,
    /// Hosts at once (default 100); the others wait their turn
    #[arg(long, value_name = "N")]
    pub forks: Option<usize>,
    /// The report: text for people, or JSON for scripts (versioned; an exit 3 is JSON too);
    /// `status` also prints Prometheus metrics
    #[arg(short, long, value_enum, default_value = "human")]
    pub output: Output,
    /// Record unknown host keys in known_hosts (a changed key is always refused)
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Read playbooks and templates from this folder instead of the built-in ones
    #[arg(long)]
    pub playbooks: Option<PathBuf>,
    /// Show at most N lines of each diff in the human report (0: all; JSON always has all)
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub diff_lines: usize,
    /// When another lvsprov run holds a host, wait this many seconds for it (default: refuse at once)
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait_lock: u64,
    /// Seconds to connect, get the SSH banner, exchange keys and authenticate, per host
    /// (counted from that host's turn under --forks)
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Seconds each remote script may run (facts, apply) before the host is failed
    #[arg(long, default_value_t = 900, value_name = "SECS")]
    pub timeout: u64,
    /// Ask once for sudo's password (users whose sudo wants one); sent to `sudo -S` on stdin only
    #[arg(long)]
    pub ask_become_pass: bool,
    /// Read sudo's password from the first line of FILE instead of asking (unattended runs)
    #[arg(long, value_name = "FILE")]
    pub become_pass_file: Option<PathBuf>,
    /// Read encrypted identity files' passphrase from the first line of FILE (else the agent,
    /// SSH_ASKPASS or the terminal)
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// OpenSSH client config to read (default ~/.ssh/config when it exists; `none` to read none)
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Per host: the key exchange, the identity used, each phase's time
    #[arg(short, long)]
    pub verbose: bool,
    /// Save each host's raw facts in DIR/<host>.txt (secrets masked), for `--facts-from` later
    #[arg(long, value_name = "DIR")]
    pub dump_facts: Option<PathBuf>,
}

/// Set by `main` from the command line: with `--output json`, an error that stops the run before
/// any host is contacted is also a JSON document on stdout, so a script reading stdout always
/// gets one (the text stays on stderr for the person watching).
static JSON_ERRORS: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// `command` ran with `--output json`: its early errors are JSON too.
pub fn errors_as_json(command: &'static str) {
    let _ = JSON_ERRORS.set(command);
}

/// The run stops before any host: exit 3, the message on stderr (and JSON on stdout, see
/// [`errors_as_json`]), with the inventory's problems one by one when that is what failed.
fn stop(message: impl std::fmt::Display, problems: &[inventory::Problem]) -> Exit {
    eprintln!("lvsprov: {message}");
    if let Some(command) = JSON_ERRORS.get() {
        let doc = serde_json::json!({
            "version": crate::report::REPORT_VERSION,
            "command": command,
            "error": {
                "kind": if problems.is_empty() { "usage" } else { "inventory" },
                "message": message.to_string(),
                "problems": problems.iter().map(|p| serde_json::json!({"path": p.path, "message": p.message})).collect::<Vec<_>>(),
            },
            "exit": Exit::Usage.code(),
        });
        print_line(&format!("{doc:#}\n"));
    }
    Exit::Usage
}

pub(crate) fn usage(message: impl std::fmt::Display) -> Exit {
    stop(message, &[])
}

pub fn inventory(c: &Common) -> Result<Inventory, Exit> {
    // Left out, the inventory is the lab's: elsewhere, suggesting that very path would not help.
    if c.inventory == std::path::Path::new(DEFAULT_INVENTORY) && !c.inventory.exists() {
        return Err(usage(format_args!("no inventory given, and the default ({DEFAULT_INVENTORY}, the lab's) is not in this folder; name yours, e.g. `lvsprov check cluster.json` (docs/inventory.md shows one)")));
    }
    inventory::load(&c.inventory).map_err(|e| stop(&e, &e.problems))
}

/// The inventory when none is named: the lab's, for the demo run from the repository.
pub const DEFAULT_INVENTORY: &str = "inventories/lab.json";

/// The flags' own values, before anything else is read.
fn check_flags(c: &Common) -> Result<(), Exit> {
    if let Some(dir) = c.playbooks.as_ref().filter(|d| !d.is_dir()) {
        return Err(usage(format_args!("--playbooks {}: not a folder; pass the folder holding director.json.j2 and real_server.json.j2", dir.display())));
    }
    if c.forks == Some(0) {
        return Err(usage("--forks must be at least 1"));
    }
    if c.connect_timeout == 0 || c.timeout == 0 {
        return Err(usage(
            "--connect-timeout and --timeout must be at least 1 second",
        ));
    }
    Ok(())
}

/// The inventory's ssh fields, completed from ~/.ssh/config for the `selected` hosts and the
/// routers.
fn apply_ssh_config(c: &Common, inv: &mut Inventory, selected: &[String]) -> Result<(), Exit> {
    if let Some(cfg) = SshConfig::load(c.ssh_config.as_deref()).map_err(usage)? {
        for h in inv.hosts.iter_mut().filter(|h| selected.contains(&h.name)) {
            cfg.apply(&mut h.ssh).map_err(|e| {
                usage(format_args!(
                    "{} ({}): {e}\nnothing was contacted",
                    h.name, h.ssh.host
                ))
            })?;
        }
        for r in routers_mut(inv) {
            cfg.apply(r).map_err(|e| {
                usage(format_args!(
                    "router {}: {e}\nnothing was contacted",
                    r.host
                ))
            })?;
        }
    }
    Ok(())
}

/// Inventory, `--limit`, `--forks`, `--playbooks` and every selected host's playbook: any
/// problem is Exit 3 with the reason on stderr, and no host has been contacted.
pub fn load(c: &Common, inv: Inventory, limit: Option<&str>) -> Result<Loaded, Exit> {
    check_flags(c)?;
    let mut inv = inv;
    let selected: Vec<String> = inv
        .select(limit.or(c.limit.as_deref()))
        .map_err(usage)?
        .into_iter()
        .map(|h| h.name.clone())
        .collect();
    apply_ssh_config(c, &mut inv, &selected)?;
    let hosts: Vec<Host> = selected
        .iter()
        .filter_map(|n| inv.host(n).cloned())
        .collect();
    let inv = Arc::new(inv);
    let playbooks = Playbooks::new(c.playbooks.clone());
    if let Some(dir) = &c.dump_facts {
        std::fs::create_dir_all(dir).map_err(|e| {
            usage(format_args!(
                "--dump-facts {}: {e}\nnothing was contacted; give a folder you can write",
                dir.display()
            ))
        })?;
    }
    let pipeline = Pipeline::prepare(inv.clone(), &hosts, playbooks, c.dump_facts.clone())
        .map_err(|e| {
            usage(format_args!(
                "{e}\nnothing was contacted; fix the playbook and run again"
            ))
        })?;
    let mut targets: Vec<&SshTarget> = hosts.iter().map(|h| &h.ssh).collect();
    targets.extend(
        inv.ecmp
            .iter()
            .flat_map(|e| &e.routers)
            .flat_map(|r| &r.ssh),
    );
    let creds = credentials(c, &targets)?;
    Ok(Loaded {
        fleet: FleetOptions {
            forks: c.forks.unwrap_or(crate::fleet::FORKS),
            creds,
            limits: Limits {
                connect: Duration::from_secs(c.connect_timeout),
                exec: Duration::from_secs(c.timeout),
            },
            verbose: c.verbose,
            bars: true,
        },
        inv,
        hosts,
        pipeline: Arc::new(pipeline),
        output: c.output,
        wait_lock: c.wait_lock,
    })
}

/// The routers `verify` logs in to (ECMP), to complete from ~/.ssh/config like the hosts.
fn routers_mut(inv: &mut Inventory) -> impl Iterator<Item = &mut SshTarget> {
    inv.ecmp
        .iter_mut()
        .flat_map(|e| &mut e.routers)
        .flat_map(|r| &mut r.ssh)
}

/// Keys and sudo's password for `targets` (the selected hosts, and the routers `verify` reads),
/// settled before any host is contacted: a passphrase or password is asked once for the whole
/// run, and a key that cannot be used stops the run here (exit 3).
pub(crate) fn credentials(c: &Common, targets: &[&SshTarget]) -> Result<Credentials, Exit> {
    let named: Vec<PathBuf> = targets
        .iter()
        .flat_map(|t| t.identity_files.clone())
        .collect();
    let want_defaults = targets.iter().any(|t| t.identity_files.is_empty());
    let source = SecretSource::choose(c.passphrase_file.as_deref());
    let keyring = Keyring::load(&named, want_defaults, &source)
        .map_err(|e| usage(format_args!("{e}\nnothing was contacted")))?;
    let become_pass = if c.ask_become_pass || c.become_pass_file.is_some() {
        if !targets.iter().any(|t| t.sudo) {
            return Err(usage(
                "--ask-become-pass: no selected host uses sudo (ssh.user is root or ssh.sudo is false)",
            ));
        }
        let source = SecretSource::choose(c.become_pass_file.as_deref());
        let pass = source
            .ask("[lvsprov] sudo password: ")
            .map_err(|e| usage(format_args!("sudo's password: {e}\nnothing was contacted")))?;
        Some(Arc::new(pass))
    } else {
        None
    };
    Ok(Credentials {
        accept_new_host_keys: c.accept_new_host_keys,
        keyring: Arc::new(keyring),
        become_pass,
        bastions: Default::default(),
    })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Text on stdout; a reader that went away (`| head`) is no error.
pub fn print_line(text: &str) {
    let _ = write_out(text);
}

/// `text` on stdout, flushed; Err once the reader went away (`| head`).
pub fn write_out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The report on stdout, as JSON or as text. A reader that went away (`| head`) is no error.
pub fn print<T: serde::Serialize>(output: Output, report: &T, human: impl FnOnce() -> String) {
    let text = match output {
        Output::Json | Output::Prometheus => format!(
            "{}\n",
            serde_json::to_string_pretty(report).expect("a report serialises")
        ),
        Output::Human => human(),
    };
    print_line(&text);
}
