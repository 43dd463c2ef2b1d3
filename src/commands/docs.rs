//! Shell completions and the man page, generated from the same clap definitions the parser uses,
//! so they can never list a flag the program does not take; and the inventory's JSON Schema,
//! derived from the very types the inventory is read into, so it can never accept a field they
//! refuse or miss one they take.

use crate::exit::Exit;
use clap_complete::Shell;
use std::io::Write;

/// `lvsprov completions SHELL`: the completion script on stdout, e.g.
/// `lvsprov completions bash > /etc/bash_completion.d/lvsprov`.
pub fn completions(mut cmd: clap::Command, shell: Shell) -> Exit {
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
    Exit::Ok
}

/// `lvsprov schema`: the inventory's JSON Schema (draft 2020-12) on stdout. The checkout keeps a
/// copy, `docs/inventory.schema.json`, that an inventory can name with `"$schema"`.
pub fn schema() -> Exit {
    let schema = schemars::schema_for!(crate::inventory::raw::RawInventory);
    println!(
        "{}",
        serde_json::to_string_pretty(&schema).expect("a schema serialises")
    );
    Exit::Ok
}

/// What clap cannot know: the exit codes scripts decide from, the environment read, examples.
const MAN_EXTRA: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Done, nothing to change, or every check held.
.TP
\fB1\fR
A host failed, was refused or was unreachable (the others still ran), or a check failed.
.TP
\fB2\fR
\fBcheck\fR found changes to make.
.TP
\fB3\fR
Invalid inventory, playbook or usage: no host was contacted. With \fB\-\-output json\fR also a JSON document on stdout.
.SH ENVIRONMENT
.TP
\fBSSH_AUTH_SOCK\fR
The ssh\-agent whose keys are offered when no identity file is given, and that unlocks encrypted keys.
.TP
\fBSSH_ASKPASS\fR, \fBSSH_ASKPASS_REQUIRE\fR
The program asked for a key's passphrase, as OpenSSH uses them.
.TP
\fBHOME\fR
Where \fI~/.ssh/config\fR, \fI~/.ssh/known_hosts\fR and the default identities are.
.TP
\fBUSER\fR, \fBLOGNAME\fR
Who holds a host's lock, as other runs are told.
.TP
\fBNO_COLOR\fR
No colour in the human report.
.SH EXAMPLES
.TP
\fBlvsprov check inventories/lab.json\fR
What \fBup\fR would change, per host, with diffs; nothing written (exit 2 when there are changes).
.TP
\fBlvsprov up inventories/lab.json\fR
Build or converge the cluster.
.TP
\fBlvsprov verify inventories/lab.json \-\-failover\fR
Prove it balances, then measure a failover.
.TP
\fBlvsprov up inventories/lab.json \-\-limit 'web*' \-\-rolling\fR
Change the real servers one at a time, each drained first.
.TP
\fBlvsprov drain web01 inventories/lab.json\fR
Weight 0 on every director, then wait for web01's connections to end.
.TP
\fBlvsprov down inventories/lab.json\fR
Take down what \fBup\fR built.
"#;

/// `lvsprov man`: the man page (roff) on stdout; `lvsprov man --dir DIR`: one page per command
/// (`lvsprov.1`, `lvsprov-up.1`, ...) written into DIR, which must exist (a typo must not become
/// a new folder), as git ships them.
pub fn man(cmd: clap::Command, dir: Option<&std::path::Path>) -> Exit {
    let written = match dir {
        Some(d) if !d.is_dir() => {
            eprintln!(
                "lvsprov man: --dir {}: no such folder; create it first (mkdir -p {0})",
                d.display()
            );
            return Exit::Usage;
        }
        Some(d) => clap_mangen::generate_to(cmd, d).and_then(|_| {
            std::fs::OpenOptions::new()
                .append(true)
                .open(d.join("lvsprov.1"))
                .and_then(|mut f| f.write_all(MAN_EXTRA.as_bytes()))
        }),
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out).and_then(|_| {
                out.extend_from_slice(MAN_EXTRA.as_bytes());
                std::io::stdout().write_all(&out)
            })
        }
    };
    match written {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("lvsprov man: {e}");
            Exit::Usage
        }
    }
}
