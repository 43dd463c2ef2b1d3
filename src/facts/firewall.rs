//! The active firewall (firewalld, ufw, or an nftables input chain whose policy is drop), and
//! what it lets in for the cluster. For nftables that is lvsprov's own chain `lvsprov` in the
//! host's table, reached by one jump from the host's input chain (`@jump`).

use crate::sh;
use crate::shell::Script;
use std::collections::{BTreeMap, BTreeSet};

pub const TAG: &str = "firewall";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Firewalld,
    Ufw,
    /// The host's own input chain drops by default: `family table chain`, e.g. `inet filter input`.
    Nftables,
    None,
    /// Not read: no step on this host opens a port (`Probe::firewall`).
    Unread,
}

pub fn fragment() -> Script {
    // firewalld: every zone, runtime and permanent, in one call each; the plan picks the NIC's.
    // nftables: one `nft list ruleset`, read by the shell's own loop (no awk, grep or second nft:
    // under emulation each process is ~100 ms, and Debian installs nft on every host): the first
    // table with an input chain whose policy is drop, what lvsprov's chain there lets in, and
    // whether that input chain jumps to it.
    sh!("if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then echo firewalld; echo \"@default $(firewall-cmd --get-default-zone)\"; \
           echo @runtime; firewall-cmd --list-all-zones; echo @permanent; firewall-cmd --permanent --list-all-zones\n\
         elif command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q 'Status: active'; then echo ufw; ufw status | awk '/ALLOW/{{print $1}}'\n\
         elif command -v nft >/dev/null && c=$(nft list ruleset 2>/dev/null | {} ) && [ -n \"$c\" ]; then echo \"nftables $c\"\n\
         else echo none; fi", Script::lit(NFT_READER))
}

/// Reads `nft list ruleset` on stdin; prints `family table chain` of the first input chain whose
/// policy is drop, then lvsprov's rules in that table as the plan names them (`80/tcp`, `vrrp`,
/// `vrrp from 192.168.100.12`, `179/tcp from 192.168.100.254`), then `@jump` if the input chain
/// jumps to lvsprov's chain. Rules are kept `;`-separated until their table is known to be it.
const NFT_READER: &str = "{ t=; ch=; d=; L=; j=; \
    emit() { echo \"$t $d\"; IFS=';'; for x in $L; do [ -n \"$x\" ] && echo \"$x\"; done; [ -z \"$j\" ] || echo @jump; }; \
    while read -r w1 w2 w3 w4 w5 w6 rest; do \
      case $w1 in (table) [ -n \"$d\" ] && break; t=\"$w2 $w3\"; ch=; L=; j=; continue ;; (chain) ch=$w2; continue ;; esac; \
      case \" $w1 $w2 $w3 $w4 $w5 $w6 $rest \" in \
        (*' hook input '*'policy drop'*) [ -n \"$d\" ] || d=$ch ;; \
        (*' jump lvsprov '*) [ \"$ch\" != \"$d\" ] || j=1 ;; \
      esac; \
      [ \"$ch\" = lvsprov ] || continue; \
      case \"$w1 $w2 $w5\" in \
        ('ip protocol '*) L=\"$L;$w3\" ;; \
        ('ip saddr protocol') L=\"$L;vrrp from $w3\" ;; \
        ('ip saddr dport') L=\"$L;$w6/$w4 from $w3\" ;; \
        (*) [ \"$w2\" != dport ] || L=\"$L;$w3/$w1\" ;; \
      esac; \
    done; [ -z \"$d\" ] || emit; }";

/// firewalld's zones: which one each interface is in, and what each lets in (ports as `80/tcp`,
/// protocols as `vrrp`) now and after a reload (`--permanent`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones {
    pub default: String,
    pub of_interface: BTreeMap<String, String>,
    pub runtime: BTreeMap<String, BTreeSet<String>>,
    pub permanent: BTreeMap<String, BTreeSet<String>>,
}

impl Zones {
    /// The zone traffic arriving on `dev` meets: its own, or the default one.
    pub fn zone_for(&self, dev: Option<&str>) -> &str {
        dev.and_then(|d| self.of_interface.get(d))
            .unwrap_or(&self.default)
    }
}

/// `firewall-cmd --list-all-zones` output: a zone's name at the start of a line (`public
/// (active)`), its fields indented (`  ports: 80/tcp 443/tcp`).
fn read_zones(
    lines: &[&str],
    open: &mut BTreeMap<String, BTreeSet<String>>,
    mut of_interface: Option<&mut BTreeMap<String, String>>,
) {
    let mut zone = String::new();
    for l in lines.iter().filter(|l| !l.trim().is_empty()) {
        if !l.starts_with(char::is_whitespace) {
            zone = l.split_whitespace().next().unwrap_or_default().to_string();
            open.entry(zone.clone()).or_default();
            continue;
        }
        if let Some(spec) = rich_rule(l.trim()) {
            open.entry(zone.clone()).or_default().insert(spec);
            continue;
        }
        let Some((field, values)) = l.trim().split_once(':') else {
            continue;
        };
        let values = values.split_whitespace().map(str::to_string);
        match field {
            "ports" | "protocols" => open.entry(zone.clone()).or_default().extend(values),
            "interfaces" => {
                if let Some(map) = of_interface.as_deref_mut() {
                    map.extend(values.map(|i| (i, zone.clone())));
                }
            }
            _ => {}
        }
    }
}

/// A rich rule that accepts from one IPv4 source, named like the ports beside it: `rule
/// family="ipv4" source address="192.168.100.12" protocol value="vrrp" accept` → `vrrp from
/// 192.168.100.12` (the one lvsprov adds for a unicast VRRP peer); any other rule is not ours.
fn rich_rule(line: &str) -> Option<String> {
    let rest = line.strip_prefix("rule ")?.strip_suffix(" accept")?;
    let value = |key: &str| {
        let at = rest.find(&format!("{key}=\""))? + key.len() + 2;
        rest[at..].split('"').next()
    };
    let src = value("source address")?;
    let what = if rest.contains("protocol value=\"vrrp\"") {
        "vrrp".to_string()
    } else {
        format!("{}/{}", value("port port")?, value(" protocol")?)
    };
    Some(format!("{what} from {src}"))
}

/// firewalld's zones from the fragment's output; a recording with only a list of ports (older
/// lvsprov) is that list in the default zone, runtime and permanent.
pub fn zones(lines: &[&str]) -> Option<Zones> {
    if lines.first().map(|l| l.trim()) != Some("firewalld") {
        return None;
    }
    let rest = lines.get(1..).unwrap_or_default();
    let mut z = Zones {
        default: rest
            .iter()
            .find_map(|l| l.strip_prefix("@default "))
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "public".into()),
        ..Zones::default()
    };
    let at = |m: &str| rest.iter().position(|l| l.trim() == m);
    match (at("@runtime"), at("@permanent")) {
        (Some(r), Some(p)) if r < p => {
            read_zones(&rest[r + 1..p], &mut z.runtime, Some(&mut z.of_interface));
            read_zones(&rest[p + 1..], &mut z.permanent, None);
        }
        _ => {
            let open: BTreeSet<String> = super::lines_of::<Vec<String>>(rest)
                .into_iter()
                .filter(|l| !l.starts_with('@'))
                .collect();
            z.runtime.insert(z.default.clone(), open.clone());
            z.permanent.insert(z.default.clone(), open);
        }
    }
    Some(z)
}

/// The nftables input chain (`family table chain`) and whether it jumps to lvsprov's chain.
pub fn nft_chain(lines: &[&str]) -> Option<(String, bool)> {
    let chain = lines.first()?.trim().strip_prefix("nftables ")?.to_string();
    Some((chain, lines.iter().any(|l| l.trim() == "@jump")))
}

pub fn parse(lines: &[&str]) -> (Firewall, Vec<String>) {
    let kind = match lines.first().map(|l| l.trim()) {
        Some("firewalld") => Firewall::Firewalld,
        Some("ufw") => Firewall::Ufw,
        Some(l) if l.starts_with("nftables ") => Firewall::Nftables,
        Some(super::UNREAD) => Firewall::Unread,
        _ => Firewall::None,
    };
    if let Some(z) = zones(lines) {
        let open = z.runtime.get(&z.default).cloned().unwrap_or_default();
        return (kind, open.into_iter().collect());
    }
    // nft prints IP protocol 112 by name only where /etc/protocols has it.
    let open = super::lines_of::<Vec<String>>(lines.get(1..).unwrap_or_default())
        .into_iter()
        .filter(|l| l != "@jump")
        .map(|l| if l == "112" { "vrrp".to_string() } else { l })
        .collect();
    (kind, open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_rules_from_one_source_read_as_ports_do() {
        assert_eq!(
            rich_rule(
                r#"rule family="ipv4" source address="192.168.100.12" protocol value="vrrp" accept"#
            )
            .as_deref(),
            Some("vrrp from 192.168.100.12")
        );
        assert_eq!(
            rich_rule(r#"rule family="ipv4" source address="10.0.0.5" port port="80" protocol="tcp" accept"#).as_deref(),
            Some("80/tcp from 10.0.0.5")
        );
        // Not lvsprov's shape: no source, or a reject.
        assert_eq!(rich_rule(r#"rule protocol value="vrrp" accept"#), None);
        assert_eq!(
            rich_rule(
                r#"rule family="ipv4" source address="10.0.0.5" protocol value="vrrp" reject"#
            ),
            None
        );
    }

    #[test]
    fn open_ports_follow_the_firewall_name() {
        assert_eq!(
            parse(&["firewalld", "80/tcp", "", "443/tcp"]),
            (
                Firewall::Firewalld,
                vec!["443/tcp".to_string(), "80/tcp".to_string()]
            )
        );
        assert_eq!(parse(&["none"]), (Firewall::None, vec![]));
        assert_eq!(parse(&["unread"]), (Firewall::Unread, vec![]));
        assert_eq!(zones(&["none"]), None);
        let nft = ["nftables inet filter input", "80/tcp", "112", "@jump"];
        assert_eq!(
            parse(&nft),
            (
                Firewall::Nftables,
                vec!["80/tcp".to_string(), "vrrp".to_string()]
            )
        );
        assert_eq!(
            nft_chain(&nft),
            Some(("inet filter input".to_string(), true))
        );
    }

    /// The fragment against this machine's own nft, in a network namespace of its own: its
    /// shell loop finds the input chain with a drop policy after another table's chains, then
    /// lvsprov's ports and peers in its chain (listed before the input chain) and the jump to it.
    #[test]
    fn the_fragment_finds_the_drop_input_chain_with_the_real_nft() {
        let have = |c: &str| {
            std::process::Command::new("sh")
                .args(["-c", &format!("command -v {c}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        if !have("nft") || !have("unshare") {
            eprintln!("skipped: no nft or unshare on this machine");
            return;
        }
        let rules = "table ip other {\n chain out {\n  type filter hook output priority 0; policy accept;\n }\n}\n\
                     table inet filter {\n chain lvsprov {\n  tcp dport 80 accept\n  ip protocol vrrp accept\n\
                      ip saddr 192.168.100.12 ip protocol vrrp accept\n  ip saddr 10.0.0.1 tcp dport 179 accept\n }\n\
                      chain input {\n  type filter hook input priority 0; policy drop;\n  jump lvsprov\n }\n\
                      chain forward {\n  type filter hook forward priority 0; policy drop;\n }\n}\n";
        let script = format!(
            "nft -f - <<'RULES' || exit 3\n{rules}RULES\n{}",
            fragment().as_str()
        );
        let out = std::process::Command::new("unshare")
            .args(["-n", "sh", "-c", &script])
            .output()
            .expect("unshare runs");
        if !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("Operation not permitted")
        {
            eprintln!("skipped: no permission for a network namespace");
            return;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            parse(&lines),
            (
                Firewall::Nftables,
                [
                    "80/tcp",
                    "vrrp",
                    "vrrp from 192.168.100.12",
                    "179/tcp from 10.0.0.1"
                ]
                .map(String::from)
                .to_vec()
            ),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            nft_chain(&lines),
            Some(("inet filter input".to_string(), true))
        );
    }

    /// As firewalld 0.6 (RHEL 7) and 1.x (RHEL 9) print it: the NIC in a zone that is not the
    /// default, a port open at runtime only.
    #[test]
    fn firewalld_zones_say_where_each_nic_is_and_what_lasts() {
        let out = [
            "firewalld",
            "@default public",
            "@runtime",
            "internal (active)",
            "  target: default",
            "  interfaces: bond0.100",
            "  services: dhcpv6-client mdns samba-client ssh",
            "  ports: 80/tcp",
            "  protocols: ",
            "",
            "public (active)",
            "  interfaces: ens33",
            "  ports: ",
            "  protocols: vrrp",
            "@permanent",
            "internal",
            "  ports: ",
            "public",
            "  protocols: vrrp",
        ];
        let z = zones(&out).unwrap();
        assert_eq!(z.zone_for(Some("bond0.100")), "internal");
        assert_eq!(z.zone_for(Some("ens33")), "public");
        assert_eq!(z.zone_for(None), "public");
        assert!(z.runtime["internal"].contains("80/tcp"));
        assert!(!z.permanent["internal"].contains("80/tcp"));
        assert!(z.permanent["public"].contains("vrrp"));
        assert_eq!(parse(&out), (Firewall::Firewalld, vec!["vrrp".to_string()]));
        // An older recording: a plain list, taken as the default zone's, runtime and permanent.
        let old = zones(&["firewalld", "80/tcp"]).unwrap();
        assert!(old.permanent["public"].contains("80/tcp"));
    }
}
