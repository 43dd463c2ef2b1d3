//! Facts: what a host is now, read in ONE exec. Each fact is one module holding its shell
//! fragment, its parser and a test on recorded output; this module only assembles the fragments
//! into one script of tagged sections and hands each section to its parser. The parsers are pure,
//! so recorded outputs (Debian from the lab, RHEL from documented outputs) drive the plan tests
//! without a host.

use crate::os::PlatformId;
use crate::sh;
use crate::shell::Script;
use std::collections::{BTreeMap, BTreeSet};

pub mod addresses;
pub mod bgp;
pub mod drained;
pub mod files;
pub mod firewall;
pub mod ipvs;
pub mod live;
pub mod lock;
pub mod marks;
pub mod os;
pub mod packages;
pub mod pkgdb;
pub mod routes;
pub mod selinux;
pub mod services;
pub mod state;
pub mod sysctls;

pub use crate::os::{Boot, Init, OsRelease};
pub use addresses::Addr;
pub use files::FileFact;
pub use firewall::Firewall;
pub use ipvs::Ipvs;
pub use selinux::Selinux;
pub use services::ServiceFact;

/// What the resources need read, beside the facts every host reports.
#[derive(Debug, Default, Clone)]
pub struct Probe {
    pub files: BTreeSet<String>,
    pub dirs: BTreeSet<String>,
    pub packages: BTreeSet<String>,
    /// The package database was left mid-change (dpkg killed): finished before any install.
    pub package_db_interrupted: bool,
    pub services: BTreeSet<String>,
    /// Leaf names under net.ipv4.conf.*, read for every interface (the NIC is a fact itself).
    pub conf_leaves: BTreeSet<String>,
    /// Other sysctl keys, dotted.
    pub sysctls: BTreeSet<String>,
    /// SELinux booleans a step may set.
    pub selinux_booleans: BTreeSet<String>,
    /// IPVS (rules, sync daemons, timeouts) and the firewall are read only for hosts whose steps
    /// look at them: a real server needs no IPVS facts, a custom playbook may need neither, and
    /// each costs a process on the host on every run (`modinfo`, `nft`). Unread, they say so
    /// ([`Ipvs::Unread`], [`Firewall::Unread`]) instead of looking absent.
    pub ipvs: bool,
    pub firewall: bool,
    /// A director's IPVS counters and VRRP state as they are now (`status`).
    pub live: bool,
    /// The firewall marks set on VIPs' packets (`import`).
    pub marks: bool,
}

/// What an unprobed section prints instead of its facts.
pub const UNREAD: &str = "unread";

#[derive(Debug, Clone)]
pub struct Facts {
    pub platform: PlatformId,
    pub os_id: String,
    pub os_major: u32,
    /// How the host boots: where persistence can hook in.
    pub boot: Boot,
    pub hostname: String,
    pub addrs: Vec<Addr>,
    /// MAC address per interface: `verify` tells who answers ARP for the VIP.
    pub macs: BTreeMap<String, String>,
    pub sysctls: BTreeMap<String, String>,
    pub ipvs: Ipvs,
    /// IPVS sync daemons running here: role (`master`, `backup`) → `mcast=eth0, syncid=51`.
    pub sync_daemons: BTreeMap<String, String>,
    /// IPVS's tcp, tcpfin and udp timeouts (seconds); None before ipvsadm is installed.
    pub ipvs_timeouts: Option<[u32; 3]>,
    pub packages: BTreeSet<String>,
    /// The package database was left mid-change (dpkg killed): finished before any install.
    pub package_db_interrupted: bool,
    pub services: BTreeMap<String, ServiceFact>,
    pub firewall: Firewall,
    /// Ports the active firewall lets in, as `80/tcp` (and `vrrp`); firewalld: its default zone's.
    pub firewall_open: Vec<String>,
    /// firewalld: each NIC's zone and what each zone lets in, now and after a reload.
    pub firewalld: Option<firewall::Zones>,
    pub selinux: Selinux,
    /// nftables: the host's input chain (`inet filter input`) and whether it jumps to lvsprov's.
    pub nft_chain: Option<(String, bool)>,
    /// Sysctl values as they were before lvsprov first changed them (recorded on the host by `up`).
    pub sysctl_orig: BTreeMap<String, String>,
    /// Service reloads owed by an earlier run that changed a config file.
    pub pending_reloads: BTreeSet<String>,
    pub files: BTreeMap<String, FileFact>,
    /// Directories asked for, with their mode.
    pub dirs: BTreeMap<String, String>,
    /// Files whose pre-lvsprov content is kept in the state folder, restored by `down`.
    pub backups: BTreeSet<String>,
    /// Managed paths that are symbolic links (to their target): refused, never read or written.
    pub links: BTreeMap<String, String>,
    /// lvsprov's state folder exists on the host: `down` removes it last.
    pub state_dir: bool,
    /// Real servers drained on this director (`lvsprov drain`): weight 0 until undrained.
    pub drained: BTreeSet<String>,
    /// This run took the host's lock from a run past its lease (who that was).
    pub lock_taken_from: Option<String>,
    /// Counters, connection table and VRRP state, when `Probe::live` asked for them.
    pub live: Option<live::Live>,
    /// Firewall marks on VIPs' packets, when `Probe::marks` asked for them.
    pub marks: Vec<marks::Mark>,
    /// An ECMP director's BIRD protocols (read with the IPVS facts).
    pub bgp: Vec<bgp::Protocol>,
}

/// Why facts could not become [`Facts`].
#[derive(Debug, Clone, PartialEq)]
pub enum FactsError {
    /// The host runs an OS lvsprov has no platform for: a refusal, nothing is changed.
    Unsupported(String),
    /// The output is not what the script prints: a broken shell, a truncated session.
    Garbled(String),
}

impl std::fmt::Display for FactsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FactsError::Unsupported(m) | FactsError::Garbled(m) => f.write_str(m),
        }
    }
}

/// `print_file PATH`: a file's lines, nothing when it is absent. Built into the shell: a `cat` is a
/// fork and an exec, and on a no-op run the host's forks are most of lvsprov's cost.
pub const PRINT_FILE: &str = "print_file() { while IFS= read -r _pf || [ -n \"$_pf\" ]; do printf '%s\\n' \"$_pf\"; done 2>/dev/null <\"$1\"; }";

/// The one facts script: every section's fragment under its `@@tag`, then `@@end`.
pub fn script(p: &Probe) -> Script {
    let mut s =
        sh!("export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    s.push(Script::lit(PRINT_FILE));
    let sections: [(&str, Script); 15] = [
        (os::TAG, os::fragment()),
        (selinux::TAG, selinux::fragment(p)),
        (addresses::TAG, addresses::fragment()),
        (ipvs::TAG, unless_unread(p.ipvs, ipvs::fragment())),
        (
            firewall::TAG,
            unless_unread(p.firewall, firewall::fragment()),
        ),
        (sysctls::TAG, sysctls::fragment(p)),
        (packages::TAG, packages::fragment(p)),
        (pkgdb::TAG, pkgdb::fragment(p)),
        (services::TAG, services::fragment(p)),
        (state::TAG, state::fragment()),
        (drained::TAG, drained::fragment()),
        (files::TAG, files::fragment(p)),
        (live::TAG, live::fragment(p)),
        (marks::TAG, marks::fragment(p)),
        (bgp::TAG, unless_unread(p.ipvs, bgp::fragment())),
    ];
    for (tag, fragment) in sections {
        s.push(sh!("echo @@{}", tag));
        s.push(fragment);
    }
    s.push(sh!("echo @@end\n"));
    s
}

fn unless_unread(read: bool, fragment: Script) -> Script {
    if read {
        fragment
    } else {
        sh!("echo {}", UNREAD)
    }
}

/// The output split by `@@tag` lines. A tag may be a section's own sub-tag (`@@init`).
pub fn sections(out: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut cur = "";
    for line in out.lines() {
        if let Some(tag) = line.strip_prefix("@@") {
            cur = tag.trim();
            map.entry(cur).or_default();
        } else if !cur.is_empty() {
            map.entry(cur).or_default().push(line);
        }
    }
    map
}

pub fn parse(out: &str) -> Result<Facts, FactsError> {
    let sec = sections(out);
    if !sec.contains_key("end") {
        return Err(FactsError::Garbled(
            "the facts script did not finish; is /bin/sh on the host?".into(),
        ));
    }
    let get = |k: &str| sec.get(k).cloned().unwrap_or_default();
    let os = os::parse(&get("os"));
    let platform = crate::os::detect(&os).map_err(FactsError::Unsupported)?;
    let (addrs, macs) = addresses::parse(&[get("addr"), get("link")].concat());
    let (firewall, firewall_open) = firewall::parse(&get("firewall"));
    let nft_chain = firewall::nft_chain(&get("firewall"));
    let st = state::parse(&get("statedir"), &get("state"), &get("reloads"));
    let (files, backups, dirs, links) = files::parse(&get("files"), &get("dirs"))?;
    Ok(Facts {
        platform,
        os_id: os.id,
        os_major: os.major,
        boot: os::parse_boot(&get("init")),
        hostname: os::parse_hostname(&get("hostname")),
        addrs,
        macs,
        sysctls: sysctls::parse(&get("sysctl")),
        ipvs: ipvs::parse(&get("ipvs")),
        sync_daemons: ipvs::parse_daemons(&get("ipvsd")),
        ipvs_timeouts: ipvs::parse_timeouts(&get("ipvsd")),
        packages: packages::parse(&get("packages")),
        package_db_interrupted: pkgdb::parse(&get("pkgdb")),
        services: services::parse(&get("services")),
        firewall,
        firewall_open,
        firewalld: firewall::zones(&get("firewall")),
        selinux: selinux::parse(&get("selinux")),
        nft_chain,
        sysctl_orig: st.sysctl_orig,
        pending_reloads: st.reloads,
        files,
        dirs,
        backups,
        links,
        state_dir: st.present,
        drained: lines_of(&get("drained")),
        lock_taken_from: None,
        live: live::parse(
            &get("live"),
            &get("livestats"),
            &get("liverate"),
            &get("liveconns"),
            &get("vrrp"),
        ),
        marks: marks::parse(&get("marks")),
        bgp: bgp::parse(&get("bgp")),
    })
}

/// The non-empty lines of a section, trimmed: one name per line.
pub fn lines_of<T: std::iter::FromIterator<String>>(section: &[&str]) -> T {
    section
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Facts {
    /// The NIC whose subnet holds `ip`: where the VIP lives on a director, where ARP for it arrives
    /// on a real server.
    pub fn nic_for(&self, ip: std::net::IpAddr) -> Option<&str> {
        addresses::nic_for(&self.addrs, ip)
    }

    pub fn has_systemd(&self) -> bool {
        self.boot.init == Init::Systemd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const DEBIAN_LAB: &str = include_str!("../../tests/facts/debian12-web01.txt");

    #[test]
    fn parses_a_debian_lab_host() {
        let f = parse(DEBIAN_LAB).unwrap();
        assert_eq!(f.platform, PlatformId::Debian);
        assert_eq!(f.os_major, 12);
        assert_eq!(f.boot.init, Init::None);
        assert_eq!(f.nic_for("192.168.100.10".parse().unwrap()), Some("eth0"));
        assert_eq!(
            f.sysctls
                .get("net.ipv4.conf.all.arp_ignore")
                .map(String::as_str),
            Some("0")
        );
        assert_eq!(f.ipvs, Ipvs::Absent);
    }

    #[test]
    fn an_unfinished_script_is_an_error() {
        assert!(matches!(
            parse("@@os\nID=debian\n"),
            Err(FactsError::Garbled(_))
        ));
    }

    #[test]
    fn an_unknown_os_is_a_refusal_not_garbage() {
        let out = DEBIAN_LAB.replace("ID=debian", "ID=gentoo");
        assert!(matches!(parse(&out), Err(FactsError::Unsupported(m)) if m.contains("gentoo")));
    }

    /// What a broken or hostile host can print: any bytes, any section order, cut anywhere.
    #[test]
    fn any_output_is_parsed_or_refused_never_a_panic() {
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let tags = [
            "@@os",
            "@@addr",
            "@@link",
            "@@ipvs",
            "@@files",
            "@@dirs",
            "@@sysctl",
            "@@state",
            "@@end",
            "@@services",
        ];
        for round in 0..3000 {
            let mut out = String::new();
            if round % 3 == 0 {
                // A real output, cut at a random point and spliced with noise.
                let cut = (next() as usize) % DEBIAN_LAB.len();
                out.push_str(DEBIAN_LAB.get(..cut).unwrap_or(""));
            }
            for _ in 0..(next() % 40) {
                match next() % 4 {
                    0 => out.push_str(tags[(next() as usize) % tags.len()]),
                    1 => out.push('\n'),
                    2 => out.push_str(" 644 !!notbase64 /etc/x: = lo inet 1.2.3.4/99 scope global"),
                    _ => out.push(char::from_u32((next() % 0x2FFF) as u32).unwrap_or('?')),
                }
            }
            out.push_str("\n@@end\n");
            let _ = parse(&out);
        }
    }

    #[test]
    fn the_script_has_every_section_once() {
        let s = script(&Probe::default());
        for tag in ["@@os", "@@addr", "@@ipvs", "@@sysctl", "@@files", "@@end"] {
            assert_eq!(
                s.as_str().matches(&format!("echo {tag}\n")).count(),
                1,
                "{tag}"
            );
        }
    }
}
