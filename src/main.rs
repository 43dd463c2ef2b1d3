//! The command line: parse, load the inventory, hand over to the engine, print, exit.

use clap::{Parser, Subcommand, ValueEnum};
use lvsprov::engine::{self, Command, Options};
use lvsprov::inventory;
use lvsprov::playbook::Playbooks;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "lvsprov",
    version,
    about = "Build and tear down LVS-DR clusters over SSH"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Converge every host
    Up(Args),
    /// Dry run: the same plan, nothing written on any host (exit 2 when there are changes)
    Check(Args),
    /// Take down what `up` built
    Down {
        #[command(flatten)]
        args: Args,
        /// Also remove the packages `up` installed
        #[arg(long)]
        purge: bool,
    },
    /// Prove the cluster balances: requests through each VIP, ARP, IPVS tables, real servers
    Verify {
        #[command(flatten)]
        args: Args,
        /// Requests per virtual service
        #[arg(long, default_value_t = 100)]
        requests: usize,
        /// Also stop keepalived on the VIP holder, time the outage, start it again
        #[arg(long)]
        failover: bool,
    },
    /// Set a real server's weight to 0 on every director (live and persisted)
    Drain {
        /// The real server's name
        host: String,
        #[command(flatten)]
        args: Args,
    },
    /// Give a drained real server its inventory weight back
    Undrain {
        host: String,
        #[command(flatten)]
        args: Args,
    },
}

#[derive(clap::Args)]
struct Args {
    /// The inventory (JSON)
    #[arg(default_value = "inventories/lab.json")]
    inventory: PathBuf,
    /// Comma list of host names or the groups `directors`, `real_servers`
    #[arg(long)]
    limit: Option<String>,
    /// Hosts at once (default: all)
    #[arg(long)]
    forks: Option<usize>,
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
    /// Record unknown host keys in known_hosts (a changed key is always refused)
    #[arg(long)]
    accept_new_host_keys: bool,
    /// Read playbooks and templates from this folder instead of the built-in ones
    #[arg(long)]
    playbooks: Option<PathBuf>,
    #[arg(short, long)]
    verbose: bool,
    /// Save each host's raw facts in this folder (to record facts for plan tests)
    #[arg(long, hide = true)]
    dump_facts: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Human,
    Json,
}

fn main() {
    let _ = color_eyre::install();
    if std::env::var_os("NO_COLOR").is_some() {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let code = if e.use_stderr() { 3 } else { 0 };
        let _ = e.print();
        std::process::exit(code);
    });
    let code = match cli.command {
        Cmd::Up(a) => run(Command::Up, a, Extra::default()),
        Cmd::Check(a) => run(Command::Check, a, Extra::default()),
        Cmd::Down { args, purge } => run(
            Command::Down,
            args,
            Extra {
                purge,
                ..Extra::default()
            },
        ),
        Cmd::Verify {
            args,
            requests,
            failover,
        } => run(
            Command::Check,
            args,
            Extra {
                verify: Some((requests, failover)),
                ..Extra::default()
            },
        ),
        Cmd::Drain { host, args } => run(
            Command::Up,
            args,
            Extra {
                drain: Some((host, true)),
                ..Extra::default()
            },
        ),
        Cmd::Undrain { host, args } => run(
            Command::Up,
            args,
            Extra {
                drain: Some((host, false)),
                ..Extra::default()
            },
        ),
    };
    std::process::exit(code);
}

/// What the commands beyond up/check/down add to the same pipeline.
#[derive(Default)]
struct Extra {
    purge: bool,
    /// verify: requests per service, failover.
    verify: Option<(usize, bool)>,
    /// drain (true) / undrain (false) this real server: `up` on the directors after the mark changes.
    drain: Option<(String, bool)>,
}

fn run(command: Command, mut args: Args, extra: Extra) -> i32 {
    let purge = extra.purge;
    let inv = match inventory::load(&args.inventory) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("lvsprov: {e}");
            return 3;
        }
    };
    if let Some(dir) = &args.playbooks {
        if !dir.is_dir() {
            eprintln!("lvsprov: --playbooks {}: not a folder; pass the folder holding director.json.j2 and real_server.json.j2", dir.display());
            return 3;
        }
    }
    if let Some((name, _)) = &extra.drain {
        if !inv
            .hosts
            .iter()
            .any(|h| h.name == *name && h.role == inventory::Role::RealServer)
        {
            eprintln!(
                "lvsprov: {name:?} is not a real server in {}; name one of $.real_servers",
                args.inventory.display()
            );
            return 3;
        }
        args.limit = Some("directors".into());
    }
    let hosts: Vec<_> = match inv.select(args.limit.as_deref()) {
        Ok(h) => h.into_iter().cloned().collect(),
        Err(e) => {
            eprintln!("lvsprov: {e}");
            return 3;
        }
    };
    if args.forks == Some(0) {
        eprintln!("lvsprov: --forks must be at least 1");
        return 3;
    }
    let opts = Options {
        command,
        forks: args.forks.unwrap_or(hosts.len()),
        accept_new_host_keys: args.accept_new_host_keys,
        purge,
        playbooks: Playbooks {
            dir: args.playbooks.clone(),
        },
        verbose: args.verbose,
        dump_facts: args.dump_facts.clone(),
        drain: extra.drain.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Some((requests, failover)) = extra.verify {
        let report = runtime.block_on(lvsprov::verify::run(&inv, &opts, requests, failover));
        match args.output {
            Output::Json => println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("a report serialises")
            ),
            Output::Human => print!("{}", report.human()),
        }
        return report.exit_code();
    }
    let drain = extra.drain.clone();
    let mut report = runtime.block_on(engine::run(Arc::new(inv), hosts, opts));
    if let Some((_, on)) = drain {
        report.command = if on { "drain" } else { "undrain" }.to_string();
    }
    match args.output {
        Output::Json => println!("{}", report.json()),
        Output::Human => print!("{}", report.human()),
    }
    report.exit_code()
}
