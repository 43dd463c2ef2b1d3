//! serde's messages about an inventory value, said in the inventory's words: the user wrote JSON,
//! not Rust, so `expected u16` means nothing to them and `0–65535` does.

/// serde's message about a value of the wrong type or range, in an operator's words: `invalid
/// value: integer `70000`, expected u16` → `70000 is out of range 0–65535`.
pub(super) fn in_words(said: &str) -> String {
    let kind = |t: &str| -> String {
        match t {
            "u8" => "a whole number from 0 to 255".into(),
            "u16" => "a whole number from 0 to 65535".into(),
            "u32" => "a whole number from 0 to 4294967295".into(),
            "i32" => "a whole number".into(),
            "a boolean" => "true or false".into(),
            "a sequence" => "a list ([...])".into(),
            t if t.starts_with("struct ") || t == "a map" => "an object ({...})".into(),
            t => t.into(),
        }
    };
    let value = |v: &str| -> String {
        let v = v.replace('`', "");
        match v.split_once(' ') {
            Some(("integer" | "floating point", n)) => format!("the number {n}"),
            Some(("string", text)) => format!("the string {text}"),
            Some(("boolean", b)) => b.to_string(),
            _ if v == "map" => "an object".into(),
            _ if v == "sequence" => "a list".into(),
            _ => v,
        }
    };
    if let Some((got, want)) = said
        .strip_prefix("invalid value: ")
        .and_then(|r| r.split_once(", expected "))
    {
        let n = got.replace('`', "");
        let n = n.split_once(' ').map_or(n.as_str(), |(_, n)| n);
        let range = kind(want);
        return match range.strip_prefix("a whole number from ") {
            Some(r) => format!("{n} is out of range {}", r.replace(" to ", "–")),
            None => format!("{} is not {range}", value(got)),
        };
    }
    if let Some((got, want)) = said
        .strip_prefix("invalid type: ")
        .and_then(|r| r.split_once(", expected "))
    {
        return format!("must be {}, not {}", kind(want), value(got));
    }
    // A list where an object goes: serde reads a struct from a list too, and counts fields.
    if said.starts_with("invalid length") && said.contains("expected struct ") {
        return "must be an object ({...}), not a list".into();
    }
    said.replace('`', "\"")
}

#[cfg(test)]
mod tests {
    use super::in_words;

    #[test]
    fn types_and_ranges_in_plain_words() {
        assert_eq!(
            in_words("invalid value: integer `70000`, expected u16"),
            "70000 is out of range 0–65535"
        );
        assert_eq!(
            in_words("invalid type: string \"80\", expected u16"),
            "must be a whole number from 0 to 65535, not the string \"80\""
        );
        assert_eq!(
            in_words("invalid type: map, expected a sequence"),
            "must be a list ([...]), not an object"
        );
        assert_eq!(in_words("missing field `vip`"), "missing field \"vip\"");
    }
}
