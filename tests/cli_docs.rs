//! Completions and the man page come from the parser's own definitions: bash really completes
//! subcommands and flags from the generated script, and the man page renders.

use std::process::Command;

fn lvsprov(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What bash offers after `words`, with the generated script sourced.
fn complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=({line}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _lvsprov lvsprov \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words.len() - 1
        ))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let dir = std::env::temp_dir().join(format!("lvsprov-compl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("lvsprov.bash");
    std::fs::write(&script, lvsprov(&["completions", "bash"])).unwrap();
    let subs = complete(&script, &["lvsprov", "''"]);
    for s in [
        "up",
        "check",
        "down",
        "verify",
        "drain",
        "undrain",
        "completions",
        "man",
    ] {
        assert!(subs.iter().any(|x| x == s), "{s} not offered: {subs:?}");
    }
    let flags = complete(&script, &["lvsprov", "up", "--"]);
    for f in [
        "--limit",
        "--forks",
        "--output",
        "--connect-timeout",
        "--wait-lock",
    ] {
        assert!(
            flags.iter().any(|x| x == f),
            "{f} not offered after `up --`: {flags:?}"
        );
    }
    let verify = complete(&script, &["lvsprov", "verify", "--f"]);
    assert!(verify.iter().any(|x| x == "--failover"), "{verify:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_man_page_renders_for_every_command() {
    let page = lvsprov(&["man"]);
    assert!(
        page.starts_with(".ie") || page.contains(".TH lvsprov"),
        "{page}"
    );
    for sub in ["up", "check", "down", "verify", "drain"] {
        assert!(page.contains(sub), "{sub} missing from the man page");
    }
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH EXAMPLES"] {
        assert!(
            page.contains(section),
            "{section} missing from the man page"
        );
    }
    assert!(page.contains("SSH_AUTH_SOCK") && page.contains("\\fB3\\fR"));
    let dir = std::env::temp_dir().join(format!("lvsprov-man-{}", std::process::id()));
    // A folder that is not there is an error, not a new folder (a typo stays a typo).
    let missing = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
    assert!(!dir.exists());
    std::fs::create_dir_all(&dir).unwrap();
    lvsprov(&["man", "--dir", dir.to_str().unwrap()]);
    let up = std::fs::read_to_string(dir.join("lvsprov-up.1")).unwrap();
    assert!(
        up.contains("\\-\\-limit"),
        "lvsprov-up.1 lists --limit: {up}"
    );
    let top = std::fs::read_to_string(dir.join("lvsprov.1")).unwrap();
    assert!(top.contains(".SH \"EXIT STATUS\""), "{top}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Every relative link in the README and docs/ leads to a file of the checkout.
#[test]
fn readme_and_docs_links_lead_to_files() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![repo.join("README.md")];
    for e in std::fs::read_dir(repo.join("docs")).unwrap() {
        pages.push(e.unwrap().path());
    }
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')').unwrap_or(rest.len())];
            let path = target.split('#').next().unwrap();
            if path.is_empty() || path.contains("://") {
                continue;
            }
            let at = page.parent().unwrap().join(path);
            assert!(
                at.exists(),
                "{}: link to {target} leads nowhere",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 12,
        "only {checked} links found: is the README still the index?"
    );
}

/// Each command's `--help` describes every flag it lists, and lists none it ignores: `verify` has
/// no diffs to cut, `undrain` nothing to wait for; `-o` is the report format everywhere.
#[test]
fn every_listed_flag_is_described_and_used() {
    for cmd in [
        "up", "check", "down", "verify", "status", "drain", "undrain", "import", "man",
    ] {
        let help = lvsprov(&[cmd, "--help"]);
        for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
            let (flag, text) = line
                .trim_start()
                .split_once("  ")
                .unwrap_or((line.trim(), ""));
            assert!(
                !text.trim().is_empty(),
                "{cmd} --help: {flag} has no description"
            );
        }
        // `-o` is the report's format wherever it exists, never a file.
        if help.contains("-o,") {
            assert!(help.contains("-o, --output <OUTPUT>"), "{cmd}: {help}");
        }
    }
    assert!(!lvsprov(&["verify", "--help"]).contains("--diff-lines"));
    let undrain = lvsprov(&["undrain", "--help"]);
    assert!(!undrain.contains("--no-wait") && !undrain.contains("--drain-timeout"));
    assert!(lvsprov(&["check", "--help"]).contains("--dump-facts <DIR>"));
    assert!(lvsprov(&["import", "--help"]).contains("-w, --output-file <FILE>"));
}
