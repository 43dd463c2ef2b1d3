//! What else moves a director's VIPs, and who hears of it: keepalived's `vrrp_script`s (a
//! director gives up its VIPs, or lowers its priority, while a script fails), the NICs it tracks
//! besides the VIP's, and its notify hooks. The commands are the operator's and keepalived runs
//! them as root, so each is parsed here into words that need no quoting anywhere: keepalived's
//! own parser splits a quoted string on spaces and cuts at `#` and `!`, so anything a shell
//! would interpret is refused rather than escaped.

use super::raw::{RawKeepalived, RawNotify, RawTrackScript};
use super::valid_ifname;
use super::validate::Validator;
use serde::Serialize;
use std::fmt;

/// An absolute path and its arguments, each word of letters, digits and `/._-+=:,@%`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Command(String);

impl Command {
    pub fn parse(text: &str) -> Result<Command, String> {
        let words: Vec<&str> = text.split(' ').collect();
        if text.len() > 255 {
            return Err("is longer than 255 characters; put it in a script and name that".into());
        }
        if !words[0].starts_with('/') {
            return Err(format!("{text:?} does not start with an absolute path; name the program as /usr/local/bin/check-uplink, not check-uplink"));
        }
        let odd = |c: char| !(c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
        if let Some(c) = text.chars().find(|&c| c != ' ' && odd(c)) {
            return Err(format!("{text:?} holds {c:?}; keepalived runs it without a shell, so write a script that does the rest and name it here (words of letters, digits and /._-+=:,@% separated by one space)"));
        }
        if words.iter().any(|w| w.is_empty()) {
            return Err(format!(
                "{text:?} has an empty word; separate the words by one space"
            ));
        }
        Ok(Command(text.to_string()))
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackScript {
    pub name: String,
    pub script: Command,
    pub interval: u32,
    /// 0: the instance goes to FAULT (gives up its VIPs) while the script fails.
    pub weight: i32,
    pub fall: u32,
    pub rise: u32,
}

/// keepalived's `notify`, `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Notify {
    pub any: Option<Command>,
    pub master: Option<Command>,
    pub backup: Option<Command>,
    pub fault: Option<Command>,
    pub stop: Option<Command>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VrrpHooks {
    pub track_scripts: Vec<TrackScript>,
    pub track_interfaces: Vec<String>,
    pub notify: Notify,
}

impl Validator {
    pub(super) fn vrrp_hooks(&mut self, k: &RawKeepalived) -> VrrpHooks {
        let mut scripts: Vec<TrackScript> = Vec::new();
        for (i, raw) in k.track_scripts.iter().enumerate() {
            let path = format!("$.keepalived.track_scripts[{i}]");
            if let Some(s) = self.track_script(&path, raw) {
                if scripts.iter().any(|t| t.name == s.name) {
                    self.problem(
                        format!("{path}.name"),
                        format!("{:?} is named twice; give each script its own name", s.name),
                    );
                }
                scripts.push(s);
            }
        }
        for (i, nic) in k.track_interfaces.iter().enumerate() {
            if !valid_ifname(nic) {
                self.problem(
                    format!("$.keepalived.track_interfaces[{i}]"),
                    format!("{nic:?} is not an interface name, e.g. \"eth1\""),
                );
            }
        }
        VrrpHooks {
            track_scripts: scripts,
            track_interfaces: k.track_interfaces.clone(),
            notify: self.notify(&k.notify),
        }
    }

    fn track_script(&mut self, path: &str, raw: &RawTrackScript) -> Option<TrackScript> {
        let name_ok = !raw.name.is_empty()
            && raw.name.len() <= 32
            && raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            self.problem(
                format!("{path}.name"),
                format!(
                    "{:?} is not a script name; use 1 to 32 letters, digits, _ or -",
                    raw.name
                ),
            );
        }
        let script = self.command(&format!("{path}.script"), &raw.script);
        let mut within = |field: &str, v: Option<i64>, lo: i64, hi: i64, default: i64| match v {
            Some(x) if !(lo..=hi).contains(&x) => {
                self.problem(
                    format!("{path}.{field}"),
                    format!("{x} is out of range; use {lo} to {hi} (default {default})"),
                );
                default
            }
            v => v.unwrap_or(default),
        };
        let interval = within("interval", raw.interval.map(i64::from), 1, 3600, 1) as u32;
        let weight = within("weight", raw.weight.map(i64::from), -253, 253, 0) as i32;
        let fall = within("fall", raw.fall.map(i64::from), 1, 100, 1) as u32;
        let rise = within("rise", raw.rise.map(i64::from), 1, 100, 1) as u32;
        Some(TrackScript {
            name: raw.name.clone(),
            script: script?,
            interval,
            weight,
            fall,
            rise,
        })
        .filter(|_| name_ok)
    }

    fn notify(&mut self, raw: &RawNotify) -> Notify {
        let mut one = |key: &str, v: &Option<String>| {
            v.as_ref()
                .and_then(|t| self.command(&format!("$.keepalived.notify.{key}"), t))
        };
        Notify {
            any: one("any", &raw.any),
            master: one("master", &raw.master),
            backup: one("backup", &raw.backup),
            fault: one("fault", &raw.fault),
            stop: one("stop", &raw.stop),
        }
    }

    fn command(&mut self, path: &str, text: &str) -> Option<Command> {
        Command::parse(text).map_err(|e| self.problem(path, e)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn a_command_is_an_absolute_path_and_plain_words() {
        assert!(Command::parse("/usr/local/bin/check-uplink --iface=eth1 10.0.0.1:80").is_ok());
        for bad in [
            "check",
            "/bin/sh -c 'exit 1'",
            "/x \"y\"",
            "/x # y",
            "/x ! y",
            "/x;reboot",
            "/x $(id)",
            "/x  y",
            "/x\ny",
        ] {
            assert!(Command::parse(bad).is_err(), "{bad:?} was taken");
        }
    }
}
