//! The one place where text becomes shell. A [`Script`] can only be built from program text
//! written in this source tree (`sh!`'s literal format string, [`Script::lit`]) and values that
//! went through [`quote`], so "every value that reaches a remote shell is quoted" is a property
//! the compiler checks, not a habit: a resource cannot put an inventory or playbook string into a
//! script without it.

use std::fmt;
use std::net::Ipv4Addr;

/// Quotes a string for POSIX sh as one word. Single quotes keep everything literal; an embedded
/// single quote is closed, escaped and reopened. Plain words stay readable in `check`'s output.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Shell text that is safe to run: literals from the source, quoted values, other scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script(String);

impl Script {
    pub fn new() -> Script {
        Script(String::new())
    }

    /// Program text written in the source (a `&'static str` cannot come from an inventory).
    pub fn lit(text: &'static str) -> Script {
        Script(text.to_string())
    }

    /// Only for `sh!`, which builds the text from a literal and [`Arg`]s.
    #[doc(hidden)]
    pub fn from_macro(text: String) -> Script {
        Script(text)
    }

    /// Appends `next` as its own line(s).
    pub fn push(&mut self, next: Script) -> &mut Self {
        if !self.0.is_empty() && !self.0.ends_with('\n') && !next.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(&next.0);
        self
    }

    pub fn then(mut self, next: Script) -> Script {
        self.push(next);
        self
    }

    pub fn lines(parts: impl IntoIterator<Item = Script>) -> Script {
        let mut s = Script::new();
        for p in parts {
            s.push(p);
        }
        s
    }

    /// Each value quoted as one word, each after a space (` keepalived 'a b'`): the arguments
    /// that follow a command, `sh!("dpkg-query -W{}", Script::words(names))`.
    pub fn words<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Script {
        let mut s = String::new();
        for v in values {
            s.push(' ');
            s.push_str(&quote(v.as_ref()));
        }
        Script(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.0.contains(needle)
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value as one shell word: quoted text, a number, an address, or a script verbatim.
pub trait Arg {
    fn shell(&self) -> String;
}

impl Arg for str {
    fn shell(&self) -> String {
        quote(self)
    }
}
impl Arg for String {
    fn shell(&self) -> String {
        quote(self)
    }
}
impl Arg for Script {
    fn shell(&self) -> String {
        self.0.clone()
    }
}
impl<T: Arg + ?Sized> Arg for &T {
    fn shell(&self) -> String {
        (**self).shell()
    }
}
macro_rules! plain_arg {
    ($($t:ty),*) => { $(impl Arg for $t { fn shell(&self) -> String { self.to_string() } })* };
}
plain_arg!(
    u8,
    u16,
    u32,
    u64,
    usize,
    i32,
    Ipv4Addr,
    std::net::Ipv6Addr,
    std::net::IpAddr
);

/// True when every placeholder in a format string is `{}`: a named or captured `{x}` would put
/// a variable into the text without going through [`Arg`].
pub const fn positional_only(fmt: &str) -> bool {
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if i + 1 < b.len() && b[i + 1] == b'{' {
                i += 2;
                continue;
            }
            if i + 1 >= b.len() || b[i + 1] != b'}' {
                return false;
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    true
}

/// `sh!("ip addr add {}/32 dev {}", vip, dev)`: a [`Script`] from a literal template whose `{}`
/// are filled with quoted [`Arg`]s (scripts verbatim). Named placeholders do not compile.
#[macro_export]
macro_rules! sh {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::shell::positional_only($fmt),
            "sh!: use positional {{}} placeholders; a captured name would skip quoting"
        );
        $crate::shell::Script::from_macro(format!($fmt $(, $crate::shell::Arg::shell(&$arg))*))
    }};
}

/// `sh -c TEXT` on this machine: how the unit tests run a fragment the way a host's shell would.
#[cfg(test)]
pub fn run_sh(text: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(text)
        .output()
        .expect("sh runs")
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_quoted_one_by_one_each_after_a_space() {
        use super::Script;
        assert_eq!(
            Script::words(["keepalived", "a b", "it's"]).as_str(),
            " keepalived 'a b' 'it'\\''s'"
        );
        assert!(Script::words(Vec::<String>::new()).is_empty());
    }

    use super::*;

    #[test]
    fn plain_words_stay_readable() {
        assert_eq!(
            quote("net.ipv4.conf.all.arp_ignore"),
            "net.ipv4.conf.all.arp_ignore"
        );
        assert_eq!(
            quote("/etc/sysctl.d/90-lvsprov.conf"),
            "/etc/sysctl.d/90-lvsprov.conf"
        );
    }

    #[test]
    fn hostile_strings_stay_one_word() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
        assert_eq!(quote("<h1>x</h1>"), "'<h1>x</h1>'");
    }

    #[test]
    fn quoted_text_round_trips_through_sh() {
        for s in ["it's", "a\nb", "$HOME `id` \\ \"q\"", "-n", "*"] {
            let out = run_sh(sh!("printf %s {}", s).as_str());
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }

    #[test]
    fn the_macro_quotes_values_and_keeps_scripts() {
        let inner = sh!("echo {}", "a b");
        assert_eq!(
            sh!("{}; rm {}", inner, "$(x)").as_str(),
            "echo 'a b'; rm '$(x)'"
        );
        assert!(positional_only("a {} b {{literal}}"));
        assert!(!positional_only("a {name} b"));
        assert!(!positional_only("a {0} b"));
    }
}
