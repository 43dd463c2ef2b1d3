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
    // With it, one `systemctl is-active` answers for every service, a line each in the order
    // asked (a process is most of a no-op run's cost on a host: under emulation a systemctl is
    // 120 ms). `is-enabled` stays one per service: for several it stops at an unknown unit.
    let names = Script::words(&p.services);
    let each = Script::lines(p.services.iter().map(|svc| {
        sh!(
            "if [ -n \"$sd\" ]; then e=$(systemctl is-enabled {} 2>/dev/null); a=${{1:-unknown}}; [ $# -eq 0 ] || shift; \
             else e=disabled; ls /etc/rc[2345].d/S*{} >/dev/null 2>&1 && e=enabled; a=inactive; pidof {} >/dev/null 2>&1 && a=active; fi; \
             echo {} \"$e\" \"$a\"",
            svc, svc, svc, svc
        )
    }));
    if p.services.is_empty() {
        return each;
    }
    sh!(
        "sd=; set --; if [ -d /run/systemd/system ]; then sd=1; set -- $(systemctl is-active{} 2>/dev/null); fi\n{}",
        names,
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
