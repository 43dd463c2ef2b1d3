//! Shell completions and the man page, generated from the same clap definitions the parser uses,
//! so they can never list a flag the program does not take.

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

/// `lvsprov man`: the man page (roff) on stdout; `lvsprov man --dir DIR`: one page per command
/// (`lvsprov.1`, `lvsprov-up.1`, ...) written into DIR, as git ships them.
pub fn man(cmd: clap::Command, dir: Option<&std::path::Path>) -> Exit {
    let written = match dir {
        Some(d) => std::fs::create_dir_all(d).and_then(|_| clap_mangen::generate_to(cmd, d)),
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .and_then(|_| std::io::stdout().write_all(&out))
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
