//! Which of the packages the steps name are installed (dpkg or rpm, whichever the host has).

use super::Probe;
use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "packages";

pub fn fragment(p: &Probe) -> Script {
    if p.packages.is_empty() {
        return Script::new();
    }
    let mut names = Script::new();
    for n in &p.packages {
        names = sh!("{} {}", names, n);
    }
    sh!(
        "if command -v dpkg-query >/dev/null; then dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n'{} 2>/dev/null | awk '$2==\"installed\"{{print $1}}'; \
         else rpm -q --qf '%{{NAME}}\\n'{} 2>/dev/null | grep -v 'is not installed'; fi",
        names,
        names
    )
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
}
