//! Drain marks on a director (`lvsprov drain`): real servers held at weight 0 by every `up`.

use crate::host_state::DRAINED;
use crate::sh;
use crate::shell::Script;

pub const TAG: &str = "drained";

pub fn fragment() -> Script {
    sh!("print_file {}", DRAINED)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn one_name_per_line() {
        let d: BTreeSet<String> = super::super::lines_of(&["web01", " ", "web02 "]);
        assert_eq!(d.into_iter().collect::<Vec<_>>(), ["web01", "web02"]);
        assert!(super::fragment()
            .as_str()
            .contains("/var/lib/lvsprov/drained"));
    }
}
