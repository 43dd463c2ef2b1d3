//! Facts: what a host is now, read in ONE exec. The script is assembled from what the playbook's
//! resources asked for ([`Probe`]); its output is tagged sections parsed into [`Facts`].
//! The parser is pure, so recorded outputs (Debian from the lab, RHEL from documented outputs)
//! drive the plan tests without a host.

use crate::shell::quote;
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// What the resources need read, beside the facts every host reports.
#[derive(Debug, Default, Clone)]
pub struct Probe {
    pub files: BTreeSet<String>,
    pub dirs: BTreeSet<String>,
    pub packages: BTreeSet<String>,
    pub services: BTreeSet<String>,
    /// Leaf names under net.ipv4.conf.*, read for every interface (the NIC is a fact itself).
    pub conf_leaves: BTreeSet<String>,
    /// Other sysctl keys, dotted.
    pub sysctls: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Debian,
    Rhel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Systemd,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipvs {
    /// The kernel has IPVS; the rules as `ipvsadm-save -n` prints them (empty without ipvsadm).
    Available(Vec<String>),
    /// ip_vs is a module that is not loaded yet: apply loads it.
    Module,
    /// The kernel has no IPVS at all.
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub dev: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFact {
    pub mode: String,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceFact {
    pub enabled: bool,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    Firewalld,
    Ufw,
    None,
}

#[derive(Debug, Clone)]
pub struct Facts {
    pub family: Family,
    pub os_id: String,
    pub os_major: u32,
    pub init: Init,
    pub pkg_mgr: String,
    pub hostname: String,
    pub addrs: Vec<Addr>,
    /// MAC address per interface: `verify` tells who answers ARP for the VIP.
    pub macs: BTreeMap<String, String>,
    pub sysctls: BTreeMap<String, String>,
    pub ipvs: Ipvs,
    pub packages: BTreeSet<String>,
    pub services: BTreeMap<String, ServiceFact>,
    pub firewall: Firewall,
    /// Ports the active firewall lets in, as `80/tcp`.
    pub firewall_open: Vec<String>,
    /// Sysctl values as they were before lvsprov first changed them (recorded on the host by `up`).
    pub sysctl_orig: BTreeMap<String, String>,
    /// Service reloads owed by an earlier run that changed a config file.
    pub pending_reloads: BTreeSet<String>,
    pub files: BTreeMap<String, FileFact>,
    /// Directories asked for, with their mode.
    pub dirs: BTreeMap<String, String>,
    /// Files whose pre-lvsprov content is kept in the state folder, restored by `down`.
    pub backups: BTreeSet<String>,
    /// lvsprov's state folder exists on the host: `down` removes it last.
    pub state_dir: bool,
    /// Real servers drained on this director (`lvsprov drain`): weight 0 until undrained.
    pub drained: BTreeSet<String>,
}

/// Where lvsprov keeps what `down` needs: original sysctls, file backups, owed reloads.
pub const STATE_DIR: &str = "/var/lib/lvsprov";

pub fn backup_path(path: &str) -> String {
    format!("{STATE_DIR}/backup{path}")
}

pub fn script(p: &Probe) -> String {
    let mut s = String::from(
        r#"export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo @@os; cat /etc/os-release 2>/dev/null
echo @@init; if [ -d /run/systemd/system ]; then echo systemd; else echo none; fi
echo @@pkgmgr; for m in apt-get dnf yum; do if command -v $m >/dev/null; then echo $m; break; fi; done
echo @@hostname; hostname
echo @@addr; ip -o -4 addr show
echo @@link; ip -o link show
echo @@ipvs
if [ -e /proc/net/ip_vs ]; then echo available; if command -v ipvsadm-save >/dev/null; then ipvsadm-save -n; fi
elif modinfo ip_vs >/dev/null 2>&1; then echo module; else echo absent; fi
echo @@firewall
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then echo firewalld; firewall-cmd --list-ports | tr ' ' '\n'
elif command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q 'Status: active'; then echo ufw; ufw status | awk '/ALLOW/{print $1}'
else echo none; fi
"#,
    );
    s.push_str("echo @@sysctl; cd /proc/sys && grep -H . ");
    let mut globs: Vec<String> = p.sysctls.iter().map(|k| k.replace('.', "/")).collect();
    globs.extend(
        p.conf_leaves
            .iter()
            .map(|l| format!("net/ipv4/conf/*/{}", quote(l))),
    );
    if globs.is_empty() {
        globs.push("kernel/hostname".into());
    }
    s.push_str(
        &globs
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    );
    s.push_str(" 2>/dev/null; cd /\n");
    s.push_str("echo @@packages\n");
    if !p.packages.is_empty() {
        let names: Vec<String> = p.packages.iter().map(|n| quote(n)).collect();
        let names = names.join(" ");
        s.push_str(&format!(
            "if command -v dpkg-query >/dev/null; then dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n' {names} 2>/dev/null | awk '$2==\"installed\"{{print $1}}'; \
             else rpm -q --qf '%{{NAME}}\\n' {names} 2>/dev/null | grep -v 'is not installed'; fi\n"
        ));
    }
    s.push_str("echo @@services\n");
    // Without systemd, a running process is the only honest answer: init scripts' `status` is
    // missing or lies (keepalived's exits 0 whenever its config file is absent).
    for svc in &p.services {
        let q = quote(svc);
        s.push_str(&format!(
            "if [ -d /run/systemd/system ]; then e=$(systemctl is-enabled {q} 2>/dev/null); a=$(systemctl is-active {q} 2>/dev/null); \
             else e=disabled; ls /etc/rc[2345].d/S*{q} >/dev/null 2>&1 && e=enabled; a=inactive; pidof {q} >/dev/null 2>&1 && a=active; fi; \
             echo {q} \"$e\" \"$a\"\n"
        ));
    }
    s.push_str(&format!(
        "echo @@statedir; [ -d {d} ] && echo present\necho @@state; cat {d}/sysctl.orig 2>/dev/null; echo @@reloads; ls {d}/reload 2>/dev/null; echo @@drained; cat {d}/drained 2>/dev/null\n",
        d = STATE_DIR
    ));
    s.push_str("echo @@files\n");
    for f in &p.files {
        let q = quote(f);
        let (b, none) = (
            quote(&backup_path(f)),
            quote(&format!("{}.none", backup_path(f))),
        );
        s.push_str(&format!(
            "if [ -f {q} ]; then printf '%s %s ' {q} \"$(stat -c %a {q})\"; base64 -w0 < {q}; echo; fi; \
             if [ -e {b} ] || [ -e {none} ]; then echo @backup {q}; fi\n"
        ));
    }
    s.push_str("echo @@dirs\n");
    for d in &p.dirs {
        let q = quote(d);
        s.push_str(&format!(
            "if [ -d {q} ]; then printf '%s %s\\n' {q} \"$(stat -c %a {q})\"; fi\n"
        ));
    }
    s.push_str("echo @@end\n");
    s
}

fn sections(out: &str) -> BTreeMap<&str, Vec<&str>> {
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

pub fn parse(out: &str) -> Result<Facts, String> {
    let sec = sections(out);
    if !sec.contains_key("end") {
        return Err("the facts script did not finish; is /bin/sh on the host?".into());
    }
    let get = |k: &str| sec.get(k).cloned().unwrap_or_default();
    let os: BTreeMap<String, String> = get("os")
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect();
    let os_id = os.get("ID").cloned().unwrap_or_default();
    let like = os.get("ID_LIKE").cloned().unwrap_or_default();
    let family = if ["rhel", "centos", "fedora", "rocky", "almalinux", "ol"]
        .contains(&os_id.as_str())
        || like.contains("rhel")
        || like.contains("fedora")
    {
        Family::Rhel
    } else if os_id == "debian" || like.contains("debian") {
        Family::Debian
    } else {
        return Err(format!(
            "unsupported OS {os_id:?}: lvsprov knows the Debian and RHEL families"
        ));
    };
    let os_major = os
        .get("VERSION_ID")
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let init = if get("init").first() == Some(&"systemd") {
        Init::Systemd
    } else {
        Init::None
    };
    let pkg_mgr = get("pkgmgr")
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let hostname = get("hostname")
        .first()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let addrs = get("addr").iter().filter_map(|l| parse_addr(l)).collect();
    let macs = get("link").iter().filter_map(|l| parse_link(l)).collect();
    let drained = lines_of(&get("drained"));
    let sysctls = get("sysctl")
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.replace('/', "."), v.trim().to_string()))
        .collect();
    let ipvs_lines = get("ipvs");
    let ipvs = match ipvs_lines.first() {
        Some(&"available") => {
            Ipvs::Available(ipvs_lines[1..].iter().map(|s| s.to_string()).collect())
        }
        Some(&"module") => Ipvs::Module,
        _ => Ipvs::Absent,
    };
    let firewall = match get("firewall").first() {
        Some(&"firewalld") => Firewall::Firewalld,
        Some(&"ufw") => Firewall::Ufw,
        _ => Firewall::None,
    };
    let firewall_open = lines_of(get("firewall").get(1..).unwrap_or_default());
    let packages = lines_of(&get("packages"));
    let services = get("services")
        .iter()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let enabled = w.next().unwrap_or("") == "enabled";
            let active = w.next().unwrap_or("") == "active";
            Some((name, ServiceFact { enabled, active }))
        })
        .collect();
    let sysctl_orig = get("state")
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let pending_reloads = lines_of(&get("reloads"));
    let mut files = BTreeMap::new();
    let mut backups = BTreeSet::new();
    for line in get("files") {
        if let Some(p) = line.strip_prefix("@backup ") {
            backups.insert(p.to_string());
            continue;
        }
        let mut w = line.splitn(3, ' ');
        let (Some(path), Some(mode)) = (w.next(), w.next()) else {
            continue;
        };
        let b64 = w.next().unwrap_or("").trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("file {path}: bad base64 in facts ({e})"))?;
        files.insert(
            path.to_string(),
            FileFact {
                mode: mode.to_string(),
                content: String::from_utf8_lossy(&bytes).into_owned(),
            },
        );
    }
    Ok(Facts {
        family,
        os_id,
        os_major,
        init,
        pkg_mgr,
        hostname,
        addrs,
        macs,
        sysctls,
        ipvs,
        packages,
        services,
        firewall,
        firewall_open,
        sysctl_orig,
        pending_reloads,
        files,
        dirs: get("dirs")
            .iter()
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(p, m)| (p.to_string(), m.to_string()))
            .collect(),
        backups,
        drained,
        state_dir: get("statedir").first() == Some(&"present"),
    })
}

/// `2: eth0@if15: <BROADCAST,...> mtu 1500 ... link/ether 02:42:c0:a8:64:c9 brd ff:ff:ff:ff:ff:ff`
fn parse_link(line: &str) -> Option<(String, String)> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let dev = w
        .get(1)?
        .trim_end_matches(':')
        .split('@')
        .next()?
        .to_string();
    let i = w.iter().position(|x| *x == "link/ether")?;
    Some((dev, w.get(i + 1)?.to_lowercase()))
}

/// The non-empty lines of a section, trimmed: one name per line.
fn lines_of<T: std::iter::FromIterator<String>>(section: &[&str]) -> T {
    section
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `2: eth0    inet 192.168.100.201/24 brd 192.168.100.255 scope global eth0\       valid_lft ...`
fn parse_addr(line: &str) -> Option<Addr> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let dev = w.get(1)?.split('@').next()?.to_string();
    let i = w.iter().position(|x| *x == "inet")?;
    let (ip, prefix) = w.get(i + 1)?.split_once('/')?;
    let scope = w.iter().position(|x| *x == "scope")?;
    let label = w
        .get(scope + 2)
        .map(|l| l.trim_end_matches('\\'))
        .filter(|l| !l.is_empty() && !l.contains("valid_lft"))
        .map(str::to_string);
    Some(Addr {
        ip: ip.parse().ok()?,
        prefix: prefix.parse().ok()?,
        label: label
            .filter(|l| l.starts_with(&dev))
            .unwrap_or_else(|| dev.clone()),
        dev,
    })
}

impl Facts {
    /// The NIC whose subnet holds `ip`: where the VIP lives on a director, where ARP for it arrives
    /// on a real server.
    pub fn nic_for(&self, ip: Ipv4Addr) -> Option<&str> {
        self.addrs
            .iter()
            .filter(|a| a.dev != "lo")
            .find(|a| {
                ipnet::Ipv4Net::new(a.ip, a.prefix)
                    .map(|n| n.trunc().contains(&ip))
                    .unwrap_or(false)
            })
            .map(|a| a.dev.as_str())
    }

    pub fn has_systemd(&self) -> bool {
        self.init == Init::Systemd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const DEBIAN_LAB: &str = include_str!("../tests/facts/debian12-web01.txt");

    #[test]
    fn parses_a_debian_lab_host() {
        let f = parse(DEBIAN_LAB).unwrap();
        assert_eq!(f.family, Family::Debian);
        assert_eq!(f.os_major, 12);
        assert_eq!(f.init, Init::None);
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
        assert!(parse("@@os\nID=debian\n").is_err());
    }

    #[test]
    fn reads_alias_labels() {
        let a = parse_addr("1: lo    inet 192.168.100.10/32 scope global lo:0\\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!(
            (a.dev.as_str(), a.prefix, a.label.as_str()),
            ("lo", 32, "lo:0")
        );
        let b = parse_addr("14: eth0    inet 192.168.100.201/24 brd 192.168.100.255 scope global eth0\\       valid_lft forever preferred_lft forever").unwrap();
        assert_eq!((b.dev.as_str(), b.prefix), ("eth0", 24));
    }
}
