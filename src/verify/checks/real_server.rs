//! A real server looks the way `up` leaves it. What it should look like comes from the steps `up`
//! applies to it (the same rendered playbook), never from a second list here: every sysctl the
//! steps set holds, every address the steps add is there with its prefix, the page is served.

use super::{check, listed, Check};
use crate::facts::Facts;
use crate::resources::Step;

pub fn run(host: &str, steps: &[Step], facts: &Facts) -> Vec<Check> {
    let mut out = vec![sysctls(host, steps, facts)];
    for s in steps {
        let Step::Address(a) = s else { continue };
        let want = format!("{}/{}", a.ip, a.prefix);
        let on: Vec<String> = facts
            .addrs
            .iter()
            .filter(|x| x.ip == a.ip && x.dev == a.dev)
            .map(|x| format!("{}/{}", x.ip, x.prefix))
            .collect();
        out.push(check(
            format!("{host}: VIP {} on {}", a.ip, a.dev),
            on == [want.clone()],
            want,
            listed(&on, "absent"),
        ));
    }
    out
}

fn sysctls(host: &str, steps: &[Step], facts: &Facts) -> Check {
    let wanted: Vec<&(String, String)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Sysctl(s) => Some(&s.values),
            _ => None,
        })
        .flatten()
        .collect();
    let wrong: Vec<String> = wanted
        .iter()
        .filter_map(|(key, want)| {
            let now = facts.sysctls.get(key).map(String::as_str).unwrap_or("?");
            (now != want).then(|| format!("{key}={now}"))
        })
        .collect();
    let expected: Vec<String> = wanted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    check(
        format!("{host}: ARP sysctls"),
        wrong.is_empty(),
        expected.join(", "),
        listed(&wrong, "set"),
    )
}

/// The page on the real server's own address: what the VIP serves from it. Without `want` (no
/// `page` in the inventory, the operator's own page) any page served with 200 passes.
pub fn page(host: &str, at: &str, want: Option<&str>, got: &Result<String, String>) -> Check {
    let (ok, expected) = match want {
        Some(w) => (got.as_deref() == Ok(w.trim()), w.trim()),
        None => (got.is_ok(), "a page (200), the operator's own"),
    };
    check(
        format!("{host}: page on {at}"),
        ok,
        expected,
        got.clone().unwrap_or_else(|e| format!("error: {e}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::parse;
    use crate::inventory;
    use crate::playbook::Playbooks;

    #[test]
    fn judged_by_the_steps_up_applies() {
        let inv = inventory::parse(include_str!("../../../inventories/lab.json")).unwrap();
        let web01 = inv.host("web01").unwrap();
        let fresh = parse(include_str!("../../../tests/facts/debian12-web01.txt")).unwrap();
        let done = parse(include_str!(
            "../../../tests/facts/debian12-web01-converged.txt"
        ))
        .unwrap();
        let steps = Playbooks::default().render(&inv, web01, &done).unwrap();
        let ok = run("web01", &steps, &done);
        assert!(ok.iter().all(|c| c.ok), "{ok:#?}");
        let bad = run("web01", &steps, &fresh);
        assert_eq!(bad.len(), 2);
        assert!(
            bad[0].seen.contains("net.ipv4.conf.eth0.arp_announce=0"),
            "{:?}",
            bad[0]
        );
        assert_eq!(
            (bad[1].name.as_str(), bad[1].seen.as_str()),
            ("web01: VIP 192.168.100.10 on lo", "absent")
        );
        assert!(
            !page(
                "web01",
                "192.168.100.201:80",
                Some("<h1>a</h1>\n"),
                &Err("refused".into())
            )
            .ok
        );
        assert!(
            page(
                "web01",
                "192.168.100.201:80",
                Some("<h1>a</h1>\n"),
                &Ok("<h1>a</h1>".into())
            )
            .ok
        );
        assert!(
            page(
                "web01",
                "192.168.100.201:80",
                None,
                &Ok("<p>theirs</p>".into())
            )
            .ok
        );
        assert!(!page("web01", "192.168.100.201:80", None, &Err("refused".into())).ok);
    }
}
