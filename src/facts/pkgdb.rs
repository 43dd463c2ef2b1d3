//! Whether the package database was left mid-change (dpkg killed by a reboot, an OOM kill or a
//! dropped session): apt then refuses every later install until it is finished, so `up` finishes
//! it first.

use super::Probe;
use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "pkgdb";

/// Read only when a step manages packages: nothing else needs it, and every fork counts on a
/// no-op run.
pub fn fragment(p: &Probe) -> Script {
    if p.packages.is_empty() {
        return Script::new();
    }
    // A grep of the status file, not `dpkg --audit`: the audit parses the whole database and
    // costs tens of milliseconds on every run of every host.
    // The journal of an unfinished dpkg run is any file in updates/, found by the shell's glob
    // (dot names too, as `ls -A` would) rather than a process.
    sh!("if [ -d /var/lib/dpkg ]; then u=; for f in /var/lib/dpkg/updates/* /var/lib/dpkg/updates/.[!.]* /var/lib/dpkg/updates/..?*; do [ -e \"$f\" ] && u=1 && break; done; \
         if [ -n \"$u\" ] || grep -qE '^Status: .* (half-installed|unpacked|half-configured|triggers-awaited|triggers-pending)$' /var/lib/dpkg/status 2>/dev/null; then echo interrupted; fi; fi")
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
