//! The operator's OpenSSH client config (`~/.ssh/config`, or `--ssh-config FILE`), read with the
//! ssh2-config crate, so hosts are reached the way `ssh HOST` reaches them. A host is looked up by
//! its `ssh.host` (an alias) or else its address. The inventory's own `ssh` fields win; the config
//! fills what the inventory left unsaid; then lvsprov's defaults.
//!
//! A directive that changes where or how lvsprov would connect and that it does not implement is
//! an error naming its line: silently connecting some other way than `ssh HOST` would is worse
//! than refusing.

use crate::inventory::{expand, parse_jump, Hop, SshTarget};
use ssh2_config::{HostParams, ParseRule, SshParserError};
use std::path::{Path, PathBuf};

pub struct SshConfig {
    parsed: ssh2_config::SshConfig,
    path: PathBuf,
    text: String,
}

/// Directives that decide where or how to connect, which lvsprov does not implement, with what
/// to do instead.
const REFUSED: [(&str, &str); 9] = [
    (
        "proxycommand",
        "use ProxyJump (or the inventory's ssh.jump)",
    ),
    (
        "hostkeyalias",
        "record the key under the host's name in known_hosts",
    ),
    ("identityagent", "set SSH_AUTH_SOCK for lvsprov instead"),
    ("certificatefile", "use a plain key"),
    ("pkcs11provider", "load the key into ssh-agent"),
    ("knownhostscommand", "use a known_hosts file"),
    ("bindaddress", "remove it for these hosts"),
    ("bindinterface", "remove it for these hosts"),
    ("canonicalizehostname", "give HostName in full"),
];

impl SshConfig {
    /// `--ssh-config FILE`, `none`, or (no flag) `~/.ssh/config` when it exists.
    pub fn load(flag: Option<&Path>) -> Result<Option<SshConfig>, String> {
        let path = match flag {
            Some(p) if p == Path::new("none") => return Ok(None),
            Some(p) => p.to_path_buf(),
            None => {
                let p = expand("~/.ssh/config");
                if !p.exists() {
                    return Ok(None);
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read the ssh config {}: {e}; or pass --ssh-config none",
                path.display()
            )
        })?;
        SshConfig::parse(text, path).map(Some)
    }

    /// A config's text, read from `path` (named in errors).
    pub fn parse(text: String, path: PathBuf) -> Result<SshConfig, String> {
        let shown = path.display().to_string();
        let rules = ParseRule::STRICT | ParseRule::ALLOW_UNSUPPORTED_FIELDS;
        let parsed = ssh2_config::SshConfig::default()
            .parse(&mut text.as_bytes(), rules)
            .map_err(|e| match e {
                SshParserError::UnknownField(field, _) => format!(
                    "{}: `{field}` is not supported by lvsprov (it could change which host or how it connects); remove it, or pass --ssh-config none and put ssh.host, ssh.jump and keys in the inventory",
                    locate(&text, &shown, &field)
                ),
                other => format!("{shown}: {other}; fix it, or pass --ssh-config none"),
            })?;
        Ok(SshConfig { parsed, path, text })
    }

    /// Fills what the inventory left unsaid from the config's entry for the host.
    pub fn apply(&self, t: &mut SshTarget) -> Result<(), String> {
        let alias = t.host.clone();
        let p = self.parsed.query(&alias);
        let shown = self.path.display().to_string();
        self.refuse_unsupported(&p, &alias, &shown, t)?;
        let user = if t.explicit.user {
            t.user.clone()
        } else {
            p.user.clone().unwrap_or_else(|| t.user.clone())
        };
        if !t.explicit.port {
            t.port = p.port.unwrap_or(t.port);
        }
        let tokens = Tokens {
            alias: &alias,
            host: p.host_name.as_deref().unwrap_or(&alias),
            port: t.port,
            user: &user,
        };
        if let Some(h) = &p.host_name {
            t.host = tokens.expand(h);
        }
        if !t.explicit.user && user != t.user {
            t.user = user.clone();
            if !t.explicit.sudo {
                t.sudo = t.user != "root";
            }
        }
        if !t.explicit.identity_file {
            if let Some(files) = &p.identity_file {
                // Like ssh: a configured identity that does not exist is skipped.
                t.identity_files = files
                    .iter()
                    .map(|f| expand(&tokens.expand(&f.to_string_lossy())))
                    .filter(|f| f.exists())
                    .collect();
            }
        }
        if !t.explicit.known_hosts {
            if let Some((_, args)) = unsupported(&p, "userknownhostsfile") {
                if let Some(first) = args.first() {
                    t.known_hosts = expand(&tokens.expand(first));
                }
            }
        }
        if !t.explicit.jump {
            if let Some(hops) = &p.proxy_jump {
                let text = hops.join(",");
                let parsed = parse_jump(&text, &t.user)
                    .map_err(|e| format!("{}: {e}", locate(&self.text, &shown, "proxyjump")))?;
                let named_user = text.split(',').map(|h| h.contains('@'));
                t.jump = parsed
                    .into_iter()
                    .zip(named_user)
                    .map(|(h, named)| self.hop(h, named))
                    .collect();
            }
        }
        if let Some(d) = p.connect_timeout {
            t.connect_timeout = Some(d);
        }
        if let Some(d) = p.server_alive_interval.filter(|d| !d.is_zero()) {
            t.keepalive = Some(d);
        }
        Ok(())
    }

    /// Options lvsprov does not implement are refused naming their line, never ignored; a
    /// `StrictHostKeyChecking` that would skip the key check is refused, `accept-new` learns.
    fn refuse_unsupported(
        &self,
        p: &ssh2_config::HostParams,
        alias: &str,
        shown: &str,
        t: &mut SshTarget,
    ) -> Result<(), String> {
        for (name, instead) in REFUSED {
            if let Some((field, args)) = unsupported(p, name) {
                if name == "canonicalizehostname"
                    && args.iter().all(|a| a.eq_ignore_ascii_case("no"))
                {
                    continue;
                }
                return Err(format!(
                    "{}: `{field} {}` applies to {alias}, and lvsprov does not implement it; {instead}, or pass --ssh-config none",
                    locate(&self.text, shown, field),
                    args.join(" ")
                ));
            }
        }
        if let Some((field, args)) = unsupported(p, "stricthostkeychecking") {
            match args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
                Some("yes") | Some("ask") => {}
                Some("accept-new") => t.accept_new = true,
                _ => {
                    return Err(format!(
                        "{}: `{field} {}` for {alias}: lvsprov never talks to a host whose key it cannot check; use `accept-new` (or --accept-new-host-keys) to learn new keys",
                        locate(&self.text, shown, field),
                        args.join(" ")
                    ))
                }
            }
        }
        Ok(())
    }

    /// A bastion named by an alias gets the alias's HostName, Port and (unless the hop names
    /// one) User, as `ssh -J` does.
    fn hop(&self, mut h: Hop, named_user: bool) -> Hop {
        let p = self.parsed.query(&h.host);
        if let Some(name) = p.host_name {
            h.host = name;
        }
        if let Some(port) = p.port.filter(|_| h.port == 22) {
            h.port = port;
        }
        if let Some(user) = p.user.filter(|_| !named_user) {
            h.user = user;
        }
        h
    }
}

/// A directive the crate keeps aside (it does not model it), by lowercase name.
fn unsupported<'a>(p: &'a HostParams, name: &str) -> Option<(&'a str, &'a Vec<String>)> {
    p.unsupported_fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(k, v)| (k.as_str(), v))
}

/// `FILE line N` of the first line setting `keyword`, or the file alone if it is in an included
/// file.
fn locate(text: &str, file: &str, keyword: &str) -> String {
    text.lines()
        .position(|l| {
            l.trim_start()
                .split(|c: char| c.is_whitespace() || c == '=')
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
        })
        .map(|n| format!("{file} line {}", n + 1))
        .unwrap_or_else(|| format!("{file} (in a file it includes)"))
}

/// ssh_config's `%` tokens lvsprov knows: %h host, %n the name as given, %p port, %r remote user,
/// %u local user, %d home, %% a percent sign.
struct Tokens<'a> {
    alias: &'a str,
    host: &'a str,
    port: u16,
    user: &'a str,
}

impl Tokens<'_> {
    fn expand(&self, s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('h') => out.push_str(self.host),
                Some('n') => out.push_str(self.alias),
                Some('p') => out.push_str(&self.port.to_string()),
                Some('r') => out.push_str(self.user),
                Some('u') => out.push_str(&std::env::var("USER").unwrap_or_else(|_| "root".into())),
                Some('d') => out.push_str(&expand("~").to_string_lossy()),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Explicit;

    fn target(host: &str) -> SshTarget {
        SshTarget {
            host: host.into(),
            jump: vec![],
            user: "root".into(),
            port: 22,
            identity_files: vec![],
            known_hosts: "/k".into(),
            sudo: false,
            accept_new: false,
            connect_timeout: None,
            keepalive: None,
            explicit: Explicit::default(),
        }
    }

    fn config(text: &str) -> Result<SshConfig, String> {
        let dir =
            std::env::temp_dir().join(format!("lvsprov-cfg-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("config");
        std::fs::write(&f, text).unwrap();
        let c = SshConfig::load(Some(&f)).map(|c| c.unwrap());
        std::fs::remove_dir_all(dir).unwrap();
        c
    }

    #[test]
    fn an_alias_gives_hostname_user_port_and_the_inventory_still_wins() {
        let c = config(
            "Host web01-mgmt\n  HostName 10.9.0.21\n  User deploy\n  Port 2222\n  ProxyJump admin@bastion,b2:2200\n  ConnectTimeout 4\n  StrictHostKeyChecking accept-new\n\nHost bastion\n  HostName 10.9.0.1\n\nHost * !web01-mgmt\n  User nobody\n",
        )
        .unwrap();
        let mut t = target("web01-mgmt");
        c.apply(&mut t).unwrap();
        assert_eq!(
            (t.host.as_str(), t.user.as_str(), t.port, t.sudo),
            ("10.9.0.21", "deploy", 2222, true)
        );
        assert_eq!(
            t.jump.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            ["admin@10.9.0.1:22", "nobody@b2:2200"]
        );
        assert_eq!(t.connect_timeout, Some(std::time::Duration::from_secs(4)));
        assert!(t.accept_new);
        let mut t = target("web01-mgmt");
        t.explicit.user = true;
        t.explicit.port = true;
        c.apply(&mut t).unwrap();
        assert_eq!(
            (t.user.as_str(), t.port),
            ("root", 22),
            "the inventory's own fields win"
        );
        let mut other = target("web02");
        c.apply(&mut other).unwrap();
        assert_eq!(other.user, "nobody", "`Host * !web01-mgmt` matches others");
    }

    #[test]
    fn what_lvsprov_cannot_honour_is_refused_naming_the_line() {
        let e = config("Host a\n  User x\n\nMatch host web*\n  User y\n")
            .err()
            .unwrap();
        assert!(e.contains("line 4") && e.contains("`Match`"), "{e}");
        let c = config("Host *.dc\n  ProxyCommand nc %h %p\nHost x\n  StrictHostKeyChecking no\n")
            .unwrap();
        let e = c.apply(&mut target("web01.dc")).unwrap_err();
        assert!(e.contains("line 2") && e.contains("ProxyJump"), "{e}");
        let e = c.apply(&mut target("x")).unwrap_err();
        assert!(e.contains("line 4") && e.contains("accept-new"), "{e}");
        c.apply(&mut target("other")).unwrap();
    }

    #[test]
    fn tokens_expand_like_ssh() {
        let t = Tokens {
            alias: "w",
            host: "10.0.0.1",
            port: 22,
            user: "deploy",
        };
        assert_eq!(
            t.expand("~/.ssh/%r@%h:%p-%n %% %x"),
            "~/.ssh/deploy@10.0.0.1:22-w % %x"
        );
        let home = expand("~").to_string_lossy().into_owned();
        assert!(!home.ends_with('/'));
        assert_eq!(
            t.expand("%d/.ssh/id"),
            format!("{home}/.ssh/id"),
            "%d is the home directory"
        );
    }
}
