//! Whether each service the steps name is enabled and running.

use super::Probe;
use crate::sh;
use crate::shell::Script;
use std::collections::BTreeMap;

pub const TAG: &str = "services";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceFact {
    pub enabled: bool,
    pub active: bool,
}

pub fn fragment(p: &Probe) -> Script {
    // Without systemd, a running process is the only honest answer: init scripts' `status` is
    // missing or lies (keepalived's exits 0 whenever its config file is absent).
    // With it, a process is most of a no-op run's cost on a host (under emulation a systemctl is
    // 100-120 ms), so two answer for every service: `is-active`, a line each in the order asked,
    // and `list-unit-files`, each unit file's state as `is-enabled` reads it (which, for a unit
    // that also has an init script, prefers the unit). `is-enabled` itself (it stops at the first
    // unknown unit, so one per service) is asked only where the list cannot say: a unit made from
    // an init script (`generated`, where `is-enabled` asks the script's links), an init script
    // systemd has not read yet, or any state but enabled and disabled.
    let names = Script::words(&p.services);
    let units = Script::words(p.services.iter().map(|s| format!("{s}.service")));
    let each = Script::lines(p.services.iter().map(|svc| {
        sh!(
            "if [ -n \"$sd\" ]; then unit_state {}; a=${{1:-unknown}}; [ $# -eq 0 ] || shift; \
             else e=disabled; ls /etc/rc[2345].d/S*{} >/dev/null 2>&1 && e=enabled; a=inactive; pidof {} >/dev/null 2>&1 && a=active; fi; \
             echo {} \"$e\" \"$a\"",
            svc, svc, svc, svc
        )
    }));
    if p.services.is_empty() {
        return each;
    }
    sh!(
        "unit_state() {{ case \"$uf\" in *[[:space:]]\"$1.service \"*) e=${{uf#*[[:space:]]\"$1.service \"}}; e=${{e#\"${{e%%[! ]*}}\"}}; e=${{e%%[!a-z-]*}} ;; *) e= ;; esac; \
           case \"$e\" in enabled|disabled) ;; *) [ -z \"$e\" ] && [ ! -e \"/etc/init.d/$1\" ] || e=$(systemctl is-enabled \"$1\" 2>/dev/null) ;; esac; }}\n\
         sd=; uf=; set --; if [ -d /run/systemd/system ]; then sd=1; set -- $(systemctl is-active{} 2>/dev/null); \
           uf=\" $(systemctl list-unit-files --no-legend --no-pager{} 2>/dev/null)\"; fi\n{}",
        names,
        units,
        each
    )
}

/// `keepalived enabled active` per line.
pub fn parse(lines: &[&str]) -> BTreeMap<String, ServiceFact> {
    lines
        .iter()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let enabled = w.next().unwrap_or("") == "enabled";
            let active = w.next().unwrap_or("") == "active";
            Some((name, ServiceFact { enabled, active }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_and_active_are_separate() {
        let s = parse(&[
            "apache2 enabled inactive",
            "keepalived disabled active",
            "x",
        ]);
        assert_eq!(
            s["apache2"],
            ServiceFact {
                enabled: true,
                active: false
            }
        );
        assert_eq!(
            s["keepalived"],
            ServiceFact {
                enabled: false,
                active: true
            }
        );
        assert_eq!(s["x"], ServiceFact::default());
    }
}
