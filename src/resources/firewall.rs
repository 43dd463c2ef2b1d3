//! A port (or `vrrp`) let in by the host's firewall, only when one is active; lvsprov never turns a
//! firewall off. firewalld and ufw: the platform's own command. nftables (an input chain whose
//! policy is drop): lvsprov's own chain `lvsprov` in the host's table, one jump to it from the
//! host's input chain, and the same rules at boot from `/etc/lvsprov/firewall.nft` through
//! `lvsprov-firewall.service` (ordered after nftables.service, restarted with it). `down`
//! removes exactly those: each port's rule and line, then, with the chain empty, the jump, the
//! chain, the file and the unit; the host's own rules are never touched.

use super::{arrow, Action, Change, DownOptions, Owed, Refusal, Resource};
use crate::facts::{Facts, Firewall, Probe};
use crate::host_state::{add_line, remove_line, write_file, Mode};
use crate::sh;
use crate::shell::Script;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

pub const NFT_FILE: &str = "/etc/lvsprov/firewall.nft";
pub const NFT_UNIT: &str = "/etc/systemd/system/lvsprov-firewall.service";
const UNIT_NAME: &str = "lvsprov-firewall";
/// The link `systemctl enable` makes: read as a file fact (a shell test, no fork where it is
/// absent) rather than asking systemctl on every host, most of which have no nftables at all.
const UNIT_WANTS: &str = "/etc/systemd/system/multi-user.target.wants/lvsprov-firewall.service";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPort {
    /// Ignored for `vrrp`.
    pub port: u16,
    /// `tcp`, `udp`, or `vrrp` (IP protocol 112, the directors' adverts).
    pub protocol: String,
    /// The NIC the traffic arrives on: firewalld opens the port in that NIC's zone.
    #[serde(default)]
    pub dev: Option<String>,
    /// Let it in from this address only (unicast VRRP: a peer director).
    #[serde(default)]
    pub source: Option<Ipv4Addr>,
    /// lvsprov's own rule for it must not be there (VRRP from anywhere once the directors talk
    /// unicast, and the reverse): removed from lvsprov's nftables chain as `down` would.
    #[serde(default)]
    pub absent: bool,
}

impl FirewallPort {
    /// How the firewall facts name this opening: `80/tcp`, `vrrp`, `vrrp from 192.168.100.12`.
    fn spec(&self) -> String {
        let what = match self.protocol.as_str() {
            "vrrp" => "vrrp".into(),
            p => format!("{}/{p}", self.port),
        };
        match self.source {
            Some(src) => format!("{what} from {src}"),
            None => what,
        }
    }

    /// The nftables rule body, as words.
    fn nft_rule(&self) -> Vec<String> {
        let from = self
            .source
            .map(|src| ["ip".into(), "saddr".into(), src.to_string()]);
        let what = match self.protocol.as_str() {
            // By number: the name needs /etc/protocols (netbase), which minimal hosts lack.
            "vrrp" => vec!["ip".into(), "protocol".into(), "112".into()],
            p => vec![p.into(), "dport".into(), self.port.to_string()],
        };
        from.into_iter()
            .flatten()
            .chain(what)
            .chain(["accept".to_string()])
            .collect()
    }

    /// firewalld's `--add-port=`/`--add-protocol=` argument, or with a source its rich rule.
    fn firewalld_arg(&self, spec: &str) -> String {
        match self.source {
            Some(src) => {
                let what = match self.protocol.as_str() {
                    "vrrp" => "protocol value=\"vrrp\"".to_string(),
                    p => format!("port port=\"{}\" protocol=\"{p}\"", self.port),
                };
                format!(
                    "--add-rich-rule=rule family=\"ipv4\" source address=\"{src}\" {what} accept"
                )
            }
            None if self.protocol == "vrrp" => format!("--add-protocol={spec}"),
            None => format!("--add-port={spec}"),
        }
    }
}

impl FirewallPort {
    /// firewalld: the port in the NIC's zone (not necessarily the default one), both now and in
    /// the permanent config, each only where it is missing: a port opened by hand at runtime
    /// only would be gone after the next reload or reboot.
    fn plan_firewalld(&self, zones: &crate::facts::firewall::Zones, spec: &str) -> Option<Change> {
        let zone = zones.zone_for(self.dev.as_deref());
        let has = |m: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>| {
            m.get(zone).is_some_and(|open| open.contains(spec))
        };
        let (runtime, permanent) = (has(&zones.runtime), has(&zones.permanent));
        if runtime && permanent {
            return None;
        }
        let arg = self.firewalld_arg(spec);
        let mut script = Script::new();
        if !permanent {
            script.push(sh!(
                "firewall-cmd -q --permanent --zone={} {}",
                zone,
                arg.as_str()
            ));
        }
        if !runtime {
            script.push(sh!("firewall-cmd -q --zone={} {}", zone, arg.as_str()));
        }
        let before = match (runtime, permanent) {
            (true, false) => "open until the next reload",
            (false, true) => "open after a reload, closed now",
            _ => "closed",
        };
        Some(Change::new(
            format!("firewall port {spec}"),
            Action::Create,
            arrow(before, &format!("open (firewalld zone {zone})")),
            script,
        ))
    }
}

/// `family table` and the input chain's name, from `inet filter input`.
fn split_chain(chain: &str) -> Option<(Vec<String>, String)> {
    let w: Vec<String> = chain.split_whitespace().map(str::to_string).collect();
    (w.len() == 3).then(|| (w[..2].to_vec(), w[2].clone()))
}

/// `nft VERB... FAMILY TABLE REST...`: every word quoted, the table the host's own.
struct Nft<'a>(&'a [String]);

impl Nft<'_> {
    fn cmd(&self, verb: &[&str], rest: &[&str], extra: &[String]) -> Script {
        let words = verb
            .iter()
            .map(|w| w.to_string())
            .chain(self.0.iter().cloned())
            .chain(rest.iter().map(|w| w.to_string()))
            .chain(extra.iter().cloned());
        words.fold(sh!("nft"), |s, w| sh!("{} {}", s, w))
    }
}

/// The nftables input chain (split) and whether it jumps to lvsprov's, when the firewall is one.
fn chain_of(facts: &Facts) -> Option<((Vec<String>, String), bool)> {
    facts
        .nft_chain
        .as_ref()
        .and_then(|(c, j)| split_chain(c).map(|s| (s, *j)))
}

/// Opening a port where ufw is the active firewall (firewalld and nftables are done zone by zone
/// above; no firewall, nothing to open). Never turns a firewall off.
fn ufw_allow(firewall: Firewall, spec: &str) -> Option<Script> {
    match firewall {
        // ufw has no rule for IP protocol 112.
        Firewall::Ufw if spec.starts_with("vrrp") => None,
        Firewall::Ufw => Some(sh!("ufw allow {} >/dev/null", spec)),
        Firewall::None | Firewall::Firewalld | Firewall::Nftables | Firewall::Unread => None,
    }
}

impl Resource for FirewallPort {
    fn probe(&self, probe: &mut Probe) {
        probe.firewall = true;
        probe.files.insert(NFT_FILE.into());
        probe.files.insert(UNIT_WANTS.into());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        if self.absent {
            return Ok(self.down(facts, DownOptions::default()));
        }
        let spec = self.spec();
        if facts.firewall == Firewall::Nftables {
            return Ok(self.plan_nft(facts, &spec).into_iter().collect());
        }
        if let (Firewall::Firewalld, Some(zones)) = (facts.firewall, &facts.firewalld) {
            return Ok(self.plan_firewalld(zones, &spec).into_iter().collect());
        }
        if facts.firewall_open.iter().any(|p| p == &spec) {
            return Ok(vec![]);
        }
        let Some(script) = ufw_allow(facts.firewall, &spec) else {
            return Ok(vec![]);
        };
        Ok(vec![Change::new(
            format!("firewall port {spec}"),
            Action::Create,
            arrow("closed", "open"),
            script,
        )])
    }

    /// firewalld and ufw: the port stays open (closing it could cut a service someone else opened
    /// it for). nftables: lvsprov's own rule goes, and with the last one, its chain and unit.
    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        let spec = self.spec();
        let Some(((table, chain), _)) = chain_of(facts) else {
            return vec![];
        };
        let line = nft_line(&table, &self.nft_rule());
        let persisted = facts
            .files
            .get(NFT_FILE)
            .is_some_and(|f| f.content.lines().any(|l| l == line));
        if !facts.firewall_open.contains(&spec) && !persisted {
            return vec![];
        }
        let script = removal(&table, &chain, &self.nft_rule());
        vec![Change::new(
            format!("firewall port {spec}"),
            Action::Delete,
            arrow("open (lvsprov's rule)", "removed"),
            script,
        )]
    }
}

/// Takes lvsprov's `rule` out of its chain and of the boot file; with the chain left without a
/// rule, the jump to it, the chain, the file and the unit go too.
fn removal(table: &[String], chain: &str, rule_words: &[String]) -> Script {
    let n = Nft(table);
    let rule = rule_words.join(" ");
    let line = nft_line(table, rule_words);
    let list = n.cmd(&["-a", "list", "chain"], &["lvsprov"], &[]);
    let del = n.cmd(&["delete", "rule"], &["lvsprov", "handle"], &[]);
    let list_in = n.cmd(&["-a", "list", "chain"], &[chain], &[]);
    let del_in = n.cmd(&["delete", "rule"], &[chain, "handle"], &[]);
    let del_chain = n.cmd(&["delete", "chain"], &["lvsprov"], &[]);
    // nft lists protocol 112 by name where /etc/protocols has it. The tab that indents a
    // listed rule anchors the match: `ip protocol vrrp accept` is also the tail of a rule
    // with `ip saddr` before it.
    let grep = [rule.clone(), rule.replace("protocol 112", "protocol vrrp")]
        .iter()
        .fold(sh!("grep -F"), |g, r| {
            sh!("{} -e {}", g, format!("\t{r} # handle"))
        });
    sh!(
        "for h in $({} 2>/dev/null | {} | awk '{{print $NF}}'); do {} \"$h\"; done",
        list.clone(),
        grep,
        del
    )
    .then(remove_line(NFT_FILE, &line))
    .then(sh!(
        "if ! {} 2>/dev/null | grep -q accept; then\n\
         for h in $({} 2>/dev/null | grep -F 'jump lvsprov' | awk '{{print $NF}}'); do {} \"$h\"; done\n\
         {} 2>/dev/null || true\n\
         systemctl disable {} >/dev/null 2>&1 || true\n\
         rm -f {} {}\nrmdir /etc/lvsprov 2>/dev/null || true\nfi",
        list,
        list_in,
        del_in,
        del_chain,
        UNIT_NAME,
        NFT_UNIT,
        NFT_FILE
    ))
}

/// The ports lvsprov opened in the nftables chain for services the inventory no longer has: a
/// removed service (or one moved to another port) must not leave its port open until a `down`
/// that would not know it either. The playbook loader adds it after a host's last port, keeping
/// those; firewalld and ufw ports stay open as everywhere (see [`FirewallPort::down`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StalePorts {
    /// The host's port steps, those that open and those that close: their rules are theirs.
    pub keep: Vec<FirewallPort>,
}

impl StalePorts {
    fn changes(&self, facts: &Facts) -> Vec<Change> {
        let Some(((table, chain), _)) = chain_of(facts) else {
            return vec![];
        };
        let Some(file) = facts.files.get(NFT_FILE) else {
            return vec![];
        };
        let prefix = format!("add rule {} lvsprov ", table.join(" "));
        let keep: Vec<String> = self
            .keep
            .iter()
            .map(|p| nft_line(&table, &p.nft_rule()))
            .collect();
        file.content
            .lines()
            .filter(|l| !keep.iter().any(|k| k == l))
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|rule| {
                let words: Vec<String> = rule.split_whitespace().map(str::to_string).collect();
                Change::new(
                    format!("firewall rule {rule}"),
                    Action::Delete,
                    arrow("open (lvsprov's rule, no service needs it)", "removed"),
                    removal(&table, &chain, &words),
                )
            })
            .collect()
    }
}

impl Resource for StalePorts {
    fn probe(&self, probe: &mut Probe) {
        probe.firewall = true;
        probe.files.insert(NFT_FILE.into());
    }

    fn plan(&self, facts: &Facts, _: &mut Owed) -> Result<Vec<Change>, Refusal> {
        Ok(self.changes(facts))
    }

    fn down(&self, facts: &Facts, _: DownOptions) -> Vec<Change> {
        self.changes(facts)
    }
}

fn nft_line(table: &[String], rule: &[String]) -> String {
    format!("add rule {} lvsprov {}", table.join(" "), rule.join(" "))
}

impl FirewallPort {
    fn plan_nft(&self, facts: &Facts, spec: &str) -> Option<Change> {
        let ((table, chain), jump) = chain_of(facts)?;
        let line = nft_line(&table, &self.nft_rule());
        let file = facts.files.get(NFT_FILE);
        let persisted = file.is_some_and(|f| f.content.lines().any(|l| l == line));
        let enabled = facts.links.contains_key(UNIT_WANTS);
        let live = facts.firewall_open.iter().any(|p| p == spec) && jump;
        if live && persisted && (enabled || !facts.has_systemd()) {
            return None;
        }
        let n = Nft(&table);
        let tbl = table.join(" ");
        let header = [
            format!("add chain {tbl} lvsprov"),
            format!("flush chain {tbl} lvsprov"),
            format!("insert rule {tbl} {chain} jump lvsprov"),
        ];
        let mut s = Script::new();
        if !live {
            s.push(n.cmd(&["add", "chain"], &["lvsprov"], &[]));
            if !jump {
                // Once, though several ports may ask for it in this run.
                let list_in = n.cmd(&["list", "chain"], &[&chain], &[]);
                let insert = n.cmd(&["insert", "rule"], &[&chain, "jump", "lvsprov"], &[]);
                s.push(sh!("{} | grep -q 'jump lvsprov' || {}", list_in, insert));
            }
            if !facts.firewall_open.iter().any(|p| p == spec) {
                s.push(n.cmd(&["add", "rule"], &["lvsprov"], &self.nft_rule()));
            }
        }
        for h in &header {
            s.push(add_line(NFT_FILE, h));
        }
        s.push(add_line(NFT_FILE, &line));
        if facts.has_systemd() && !enabled {
            s.push(sh!("if [ ! -e {} ]; then", NFT_UNIT));
            s.push(write_file(NFT_UNIT, UNIT, Mode::Set("0644")));
            s.push(sh!("fi\nsystemctl enable {} >/dev/null 2>&1", UNIT_NAME));
        }
        Some(Change::new(
            format!("firewall port {spec}"),
            Action::Create,
            arrow("closed", "open (live + at boot)"),
            s,
        ))
    }
}

/// Applies lvsprov's rules at boot, after the host's own ruleset (whose `flush ruleset` would
/// erase them), and again whenever nftables.service is restarted.
const UNIT: &str =
    "# Managed by lvsprov: the cluster's ports in the host's nftables input chain.\n\
[Unit]\n\
Description=lvsprov rules in the host's nftables input chain\n\
After=nftables.service\n\
PartOf=nftables.service\n\
\n\
[Service]\n\
Type=oneshot\n\
RemainAfterExit=yes\n\
ExecStart=/usr/sbin/nft -f /etc/lvsprov/firewall.nft\n\
\n\
[Install]\n\
WantedBy=multi-user.target nftables.service\n";
