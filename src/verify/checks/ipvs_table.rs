//! A director's IPVS table holds exactly the inventory's rules for a service (drained servers at
//! weight 0): what keepalived or `up` should have put there, nothing missing, nothing extra.

use super::{check, Check};
use crate::facts::Ipvs;
use crate::inventory::Service;
use crate::resources::ipvs::VirtualService;

pub fn run(director: &str, ipvs: &Ipvs, svc: &Service, as_run: &Service) -> Check {
    let name = format!("{director}: IPVS table for {}:{}", svc.vip, svc.port);
    let Ipvs::Available(table) = ipvs else {
        return check(name, false, "IPVS rules", "this kernel has no IPVS loaded");
    };
    let want = VirtualService::from(as_run).model().rules();
    let have = table
        .service(&VirtualService::from(svc).key())
        .map(|s| s.rules())
        .unwrap_or_default();
    let missing: Vec<&String> = want.iter().filter(|w| !have.contains(w)).collect();
    let extra: Vec<&String> = have.iter().filter(|h| !want.contains(h)).collect();
    let ok = missing.is_empty() && extra.is_empty();
    let seen = if ok {
        format!("{} rules as in the inventory", have.len())
    } else {
        format!("missing {missing:?}, unexpected {extra:?}")
    };
    check(name, ok, want.join("; "), seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::parse;
    use crate::ipvs::Table;

    const INV: &str = include_str!("../../../inventories/lab.json");

    #[test]
    fn a_missing_real_server_fails_and_names_the_rule() {
        let inv = parse(INV).unwrap();
        let svc = &inv.services[0];
        let all = VirtualService::from(svc).model().rules();
        let table = |rules: &[String]| Ipvs::Available(Table::from_save(&rules.join("\n")));
        assert!(run("lvs01", &table(&all), svc, svc).ok);
        let c = run("lvs01", &table(&all[..2]), svc, svc);
        assert!(!c.ok && c.seen.contains("192.168.100.202:80"), "{c:?}");
        assert!(!run("lvs01", &Ipvs::Absent, svc, svc).ok);
    }
}
