//! Which of the packages the steps name are installed (dpkg or rpm, whichever the host has).

use super::Probe;
use crate::sh;
use crate::shell::Script;
use std::collections::BTreeSet;

pub const TAG: &str = "packages";

pub fn fragment(p: &Probe) -> Script {
    if p.packages.is_empty() {
        return Script::new();
    }
    let names = Script::words(&p.packages);
    // Each query prints `name state` and the parser keeps the installed ones: no awk or grep
    // process after it (every role names packages, so every run of every host would pay one).
    sh!(
        "if command -v dpkg-query >/dev/null; then dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n'{} 2>/dev/null; \
         else rpm -q --qf '%{{NAME}} installed\\n'{} 2>/dev/null; fi",
        names,
        names
    )
}

/// The installed packages among `name state` lines: dpkg's `installed` (not `config-files` or
/// `half-installed`); rpm prints `package NAME is not installed` for a missing one, whose second
/// word is the name. A line of one word is a name (recorded facts from before the state).
pub fn parse(lines: &[&str]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            match (w.next(), w.next()) {
                (None, _) | (Some("installed"), None) => Some(name.to_string()),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_into_both_queries() {
        let mut p = Probe::default();
        p.packages.insert("apache2".into());
        p.packages.insert("x;reboot".into());
        let s = fragment(&p);
        assert_eq!(s.as_str().matches(" apache2 'x;reboot'").count(), 2, "{s}");
    }

    #[test]
    fn only_installed_packages_count() {
        let got = parse(&[
            "apache2 installed",
            "ipvsadm config-files",
            "keepalived half-installed",
            "package httpd is not installed",
            "curl installed",
            "nginx",
            "",
        ]);
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            ["apache2", "curl", "nginx"]
        );
    }
}
