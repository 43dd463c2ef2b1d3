//! The command line: parse, dispatch to the command's module, exit with its code.

use clap::{CommandFactory, Parser, Subcommand};
use lvsprov::commands::converge::{self, CheckArgs, DownArgs, UpArgs};
use lvsprov::commands::docs;
use lvsprov::commands::drain::{self, DrainArgs};
use lvsprov::commands::import::{self, ImportArgs};
use lvsprov::commands::status::{self, StatusArgs};
use lvsprov::commands::verify::{self, VerifyArgs};
use lvsprov::commands::{self, Common, Output};
use lvsprov::exit::Exit;

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
    Up(UpArgs),
    /// Dry run: the same plan, nothing written on any host (exit 2 when there are changes)
    Check(CheckArgs),
    /// Take down what `up` built
    Down(DownArgs),
    /// Prove the cluster balances: requests through each VIP, ARP, IPVS tables, real servers
    #[command(mut_arg("diff_lines", |a| a.hide(true)))]
    Verify(VerifyArgs),
    /// Take a real server out (weight 0 on every director) or a director (its VIPs to its peers),
    /// live and persisted, and wait until it can be stopped
    Drain(DrainArgs),
    /// Give a drained real server its weight back, or a drained director its VIPs
    #[command(mut_arg("no_wait", |a| a.hide(true)), mut_arg("drain_timeout", |a| a.hide(true)))]
    Undrain(DrainArgs),
    /// The cluster now: VIP holders, VRRP states, real servers' weights, connections and rates
    #[command(
        mut_arg("diff_lines", |a| a.hide(true)),
        mut_arg("wait_lock", |a| a.hide(true)),
        mut_arg("playbooks", |a| a.hide(true)),
        mut_arg("dump_facts", |a| a.hide(true))
    )]
    Status(StatusArgs),
    /// Read a running (hand-built) cluster and print the inventory that describes it
    Import(ImportArgs),
    /// Print the inventory's JSON Schema (for editors: `"$schema"` in an inventory)
    Schema,
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell)
    Completions { shell: clap_complete::Shell },
    /// Print the man page, or write one page per command into --dir
    Man {
        /// An existing folder to write lvsprov.1, lvsprov-up.1, ... into
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

impl Cmd {
    /// The command's name and the options every inventory command shares (None for the others).
    fn common(&self) -> Option<(&'static str, &Common)> {
        Some(match self {
            Cmd::Up(c) => ("up", &c.common),
            Cmd::Check(c) => ("check", &c.common),
            Cmd::Down(c) => ("down", &c.common),
            Cmd::Verify(c) => ("verify", &c.common),
            Cmd::Drain(c) => ("drain", &c.common),
            Cmd::Undrain(c) => ("undrain", &c.common),
            Cmd::Status(c) => ("status", &c.common),
            Cmd::Import(_) | Cmd::Schema | Cmd::Completions { .. } | Cmd::Man { .. } => {
                return None
            }
        })
    }
}

fn main() {
    let _ = color_eyre::install();
    if std::env::var_os("NO_COLOR").is_some() {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let code = if e.use_stderr() {
            Exit::Usage
        } else {
            Exit::Ok
        };
        let _ = e.print();
        std::process::exit(code.code());
    });
    if let Some((name, common)) = cli.command.common() {
        if common.output == Output::Prometheus && name != "status" {
            eprintln!("lvsprov: --output prometheus is for `lvsprov status`; `{name}` prints human or json");
            std::process::exit(Exit::Usage.code());
        }
        if common.output == Output::Json {
            commands::errors_as_json(name);
        }
    }
    let exit = match cli.command {
        Cmd::Up(c) => converge::up(c),
        Cmd::Check(c) => converge::check(c),
        Cmd::Down(a) => converge::down(a),
        Cmd::Verify(a) => verify::run(a),
        Cmd::Drain(a) => drain::run(a, true),
        Cmd::Undrain(a) => drain::run(a, false),
        Cmd::Status(a) => status::run(a),
        Cmd::Import(a) => import::run(a),
        Cmd::Schema => docs::schema(),
        Cmd::Completions { shell } => docs::completions(Cli::command(), shell),
        Cmd::Man { dir } => docs::man(Cli::command(), dir.as_deref()),
    };
    std::process::exit(exit.code());
}
