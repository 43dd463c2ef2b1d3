//! The one place where text becomes shell. Every inventory value that reaches a remote shell goes
//! through [`quote`], so no name, path or page can break out of its argument.

/// Quotes a string for POSIX sh as one word. Single quotes keep everything literal; an embedded
/// single quote is closed, escaped and reopened.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

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
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }
}
