//! Debian (12 and later; the lab's hosts): apt, apache2. The VIP persisted by lvsprov's unit on
//! systemd hosts, by ifupdown (`/etc/network/interfaces.d`) on sysvinit hosts that use it; IPVS
//! rules restored by the ipvsadm package's init script (enabled) from `/etc/ipvsadm.rules` when
//! `/etc/default/ipvsadm` says AUTO.

use super::{nothing_at_boot, vip_unit, Platform, PlatformId, Verb};
use crate::facts::{Boot, Init};
use crate::resources::file::File;
use crate::resources::service::Service;
use crate::resources::Step;
use crate::sh;
use crate::shell::Script;

pub struct Debian;

fn apt(verb: &str, names: &[&str]) -> Script {
    let mut list = Script::new();
    for n in names {
        list = sh!("{} {}", list, n);
    }
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

impl Platform for Debian {
    fn id(&self) -> PlatformId {
        PlatformId::Debian
    }

    fn web_server(&self) -> &'static str {
        "apache2"
    }

    fn install(&self, names: &[&str]) -> Script {
        apt("install", names)
    }

    /// A killed dpkg leaves packages unpacked (configure them) or half-installed (only a
    /// reinstall fixes those); then apt's own repair, and the audit must come back empty. A
    /// package apt's reinstall left half-installed (seen once in the container lab: perl-base,
    /// killed mid-upgrade) gets its cached archive of the recorded version unpacked by dpkg itself.
    fn repair_packages(&self) -> Option<Script> {
        Some(sh!(
            "export DEBIAN_FRONTEND=noninteractive\nlog=$(mktemp)\n\
             half_installed() {{ dpkg-query -W -f='${{db:Status-Status}} ${{binary:Package}}\\n' 2>/dev/null | awk '$1==\"half-installed\"{{print $2}}'; }}\n\
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
        ))
    }

    fn remove(&self, names: &[&str]) -> Script {
        apt("purge", names)
    }

    fn sysv(&self, name: &str, verb: Verb) -> Script {
        match verb {
            Verb::Enable => sh!(
                "update-rc.d {} defaults >/dev/null 2>&1 || update-rc.d {} enable",
                name,
                name
            ),
            Verb::Disable => sh!("update-rc.d {} disable >/dev/null 2>&1 || true", name),
            Verb::Start => sh!("service {} start", name),
            Verb::Stop => sh!("service {} stop", name),
            Verb::Reload => sh!("service {} reload || service {} restart", name, name),
        }
    }

    fn persist_vip(&self, boot: Boot, dev: &str, _vips: &[String]) -> Result<Vec<Step>, String> {
        match boot {
            Boot {
                init: Init::Systemd,
                ..
            } => Ok(vip_unit(dev)),
            Boot {
                init: Init::Sysv,
                ifupdown: true,
                ..
            } => Ok(vec![Step::File(File::templated(
                "/etc/network/interfaces.d/lvsprov-vip",
                "ifupdown-vip.j2",
                serde_json::json!({ "dev": dev }),
            ))]),
            _ => Err(nothing_at_boot(boot, "the VIP")),
        }
    }

    fn ipvs_rules_file(&self) -> &'static str {
        "/etc/ipvsadm.rules"
    }

    /// The init script restores at boot only when enabled (systemd runs it through its sysv
    /// generator); it is not started now: the rules are live already.
    fn persist_ipvs(&self, boot: Boot) -> Result<Vec<Step>, String> {
        if boot.init == Init::None {
            return Err(nothing_at_boot(boot, "the IPVS rules"));
        }
        Ok(vec![
            Step::File(File::templated(
                "/etc/default/ipvsadm",
                "ipvsadm-default.j2",
                serde_json::Value::Null,
            )),
            Step::Service(Service::at_boot("ipvsadm")),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_repair_is_valid_sh() {
        let script = Debian.repair_packages().unwrap();
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
