//! Package managers: install, remove, and the repair of a database a killed run left mid-change.

use crate::sh;
use crate::shell::Script;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    Apt,
    Yum,
    Dnf,
}

impl PackageManager {
    pub fn install(self, names: &[&str]) -> Script {
        match self {
            PackageManager::Apt => apt("install", names),
            PackageManager::Yum => yum_like("yum", "install", names),
            PackageManager::Dnf => yum_like("dnf", "install", names),
        }
    }

    pub fn remove(self, names: &[&str]) -> Script {
        match self {
            PackageManager::Apt => apt("purge", names),
            PackageManager::Yum => yum_like("yum", "remove", names),
            PackageManager::Dnf => yum_like("dnf", "remove", names),
        }
    }

    /// Finishes a package database left mid-change, where the manager can.
    pub fn repair(self) -> Option<Script> {
        match self {
            PackageManager::Apt => Some(dpkg_repair()),
            PackageManager::Yum | PackageManager::Dnf => None,
        }
    }
}

fn apt(verb: &str, names: &[&str]) -> Script {
    let list = Script::words(names);
    let verb = match verb {
        "purge" => Script::lit("purge"),
        _ => Script::lit("install"),
    };
    // A private log: a fixed name in /tmp is a file any local user can plant a link at.
    sh!(
        "log=$(mktemp)\nDEBIAN_FRONTEND=noninteractive apt-get {} -y -q -o Dpkg::Options::=--force-confold{} >\"$log\" 2>&1 || {{ tail -n 20 \"$log\" >&2; rm -f \"$log\"; exit 1; }}\nrm -f \"$log\"",
        verb,
        list
    )
}

fn yum_like(tool: &'static str, verb: &'static str, names: &[&str]) -> Script {
    sh!(
        "{} {} -y -q{}",
        Script::lit(tool),
        Script::lit(verb),
        Script::words(names)
    )
}

/// A killed dpkg leaves packages unpacked (configure them) or half-installed or flagged
/// reinst-required (only a reinstall fixes those: dpkg refuses to configure them, "in a very bad
/// inconsistent state"); then apt's own repair, and the audit must come back empty. A package
/// apt's reinstall left so (seen twice in the container lab: perl-base, killed mid-upgrade) gets
/// its cached archive of the recorded version unpacked by dpkg itself.
fn dpkg_repair() -> Script {
    sh!(
        "export DEBIAN_FRONTEND=noninteractive\nlog=$(mktemp)\n\
         half_installed() {{ dpkg-query -W -f='${{db:Status-Status}} ${{db:Status-Eflag}} ${{binary:Package}}\\n' 2>/dev/null | awk '$1==\"half-installed\" || $2==\"reinstreq\"{{print $3}}'; }}\n\
         dpkg --configure -a --force-confold >>\"$log\" 2>&1 || true\n\
         half=$(half_installed)\n\
         if [ -n \"$half\" ]; then apt-get install --reinstall -y -q -o Dpkg::Options::=--force-confold $half >>\"$log\" 2>&1 || true; fi\n\
         apt-get install -f -y -q -o Dpkg::Options::=--force-confold >>\"$log\" 2>&1 || true\n\
         half=$(half_installed)\n\
         for p in $half; do v=$(dpkg-query -W -f='${{Version}}' \"$p\" | sed 's/:/%3a/'); \
         for d in /var/cache/apt/archives/${{p%%:*}}_${{v}}_*.deb; do if [ -e \"$d\" ]; then dpkg -i --force-confold \"$d\" >>\"$log\" 2>&1 || true; fi; done; done\n\
         dpkg --configure -a --force-confold >>\"$log\" 2>&1 || true\n\
         if [ -n \"$(dpkg --audit 2>/dev/null)\" ]; then tail -n 20 \"$log\" >&2; rm -f \"$log\"; dpkg --audit >&2; exit 1; fi\n\
         rm -f \"$log\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_repair_is_valid_sh() {
        let script = PackageManager::Apt.repair().unwrap();
        let out = std::process::Command::new("sh")
            .args(["-n", "-c", script.as_str()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            script
        );
        assert!(script.contains("/var/cache/apt/archives/${p%%:*}_${v}_*.deb"));
    }
}
