//! Whether the package database was left mid-change (dpkg killed by a reboot, an OOM kill or a
//! dropped session): apt then refuses every later install until it is finished, so `up` finishes
//! it first.

use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "pkgdb";

pub fn fragment() -> Script {
    sh!("if command -v dpkg >/dev/null; then if [ -n \"$(ls -A /var/lib/dpkg/updates 2>/dev/null)\" ] || [ -n \"$(dpkg --audit 2>/dev/null)\" ]; then echo interrupted; fi; fi")
}

pub fn parse(lines: &[&str]) -> bool {
    lines.iter().any(|l| l.trim() == "interrupted")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_word_counts() {
        assert!(super::parse(&["interrupted"]));
        assert!(!super::parse(&[]));
    }
}
