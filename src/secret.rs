//! The one rule for what lvsprov never shows: the value after a secret keyword (`auth_pass`) at
//! the start of a line. Diffs, `--show-scripts` and `--dump-facts` all mask by it, and a playbook
//! that puts a secret anywhere else is refused when it is rendered (`playbook`), so the rule
//! cannot miss one. A rule by line and keyword, not by value: the value may be as short as `1`,
//! and replacing every `1` in a script hides the script, not the secret.

use std::borrow::Cow;

/// What a secret reads as wherever lvsprov shows text.
pub const MASK: &str = "********";

/// The keywords whose value is a secret: keepalived's VRRP password, BIRD's BGP session password.
const KEYWORDS: [&str; 2] = ["auth_pass", "password"];

/// A secret the inventory holds: printed (`{:?}`) and serialised as [`MASK`], so a debug line or
/// a JSON view of the inventory cannot carry it; a template gets it through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// `text` with the value of every secret line masked; borrowed when there is none.
pub fn mask(text: &str) -> Cow<'_, str> {
    if !KEYWORDS.iter().any(|k| text.contains(k)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split_inclusive('\n').map(mask_line).collect())
}

/// One line: `<indent>auth_pass <value><rest>` → `<indent>auth_pass ********<rest>`. The value is
/// one word (keepalived reads one); inside a single-quoted shell string a quote in it reads
/// `'\''`, still one word, and a lone `'` ending it closes the string and is kept.
fn mask_line(line: &str) -> Cow<'_, str> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let Some(after) = KEYWORDS.iter().find_map(|k| body.strip_prefix(k)) else {
        return Cow::Borrowed(line);
    };
    let value = after.trim_start();
    let gap = &after[..after.len() - value.len()];
    if gap.is_empty() || value.trim().is_empty() {
        return Cow::Borrowed(line);
    }
    let end = value.find(char::is_whitespace).unwrap_or(value.len());
    let (word, rest) = value.split_at(end);
    let closes = word.ends_with('\'') && !word.ends_with(r"'\''");
    let keyword = &body[..body.len() - after.len()];
    Cow::Owned(format!(
        "{indent}{keyword}{gap}{MASK}{}{rest}",
        if closes { "'" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn only_the_value_on_a_secret_line_is_masked() {
        assert_eq!(
            mask("id 1\n    auth_pass 1\nweight 1\nprintf 1\n"),
            "id 1\n    auth_pass ********\nweight 1\nprintf 1\n"
        );
        assert_eq!(
            mask("auth_pass\tab'\\''c # x\n"),
            "auth_pass\t******** # x\n"
        );
        assert_eq!(mask("  auth_pass abc'\n"), "  auth_pass ********'\n");
        assert_eq!(
            mask("auth_passes 1\nauth_pass\n"),
            "auth_passes 1\nauth_pass\n"
        );
        assert_eq!(mask("# no auth_pass here 1"), "# no auth_pass here 1");
        assert_eq!(
            mask("    password \"s3cret\";\n    passwords 1\n"),
            "    password ********\n    passwords 1\n"
        );
        let s = super::Secret::new("s3cret".into());
        assert_eq!(
            format!("{s:?} {}", serde_json::json!(s)),
            "******** \"********\""
        );
    }
}
