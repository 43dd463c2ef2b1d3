//! `--limit`: which of the inventory's hosts a run touches.

use super::{Host, Inventory};

impl Inventory {
    /// Hosts selected by `--limit`: a comma list of names, globs (`web*`) and the groups
    /// `directors` / `real_servers`; a word starting with `!` takes its hosts out again (alone,
    /// out of every host: `!web01` is every host but web01).
    pub fn select(&self, limit: Option<&str>) -> Result<Vec<&Host>, String> {
        let Some(limit) = limit else {
            return Ok(self.hosts.iter().collect());
        };
        let words: Vec<&str> = limit
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        let (out_words, in_words): (Vec<&str>, Vec<&str>) =
            words.iter().partition(|w| w.starts_with('!'));
        let mut out: Vec<&Host> = if in_words.is_empty() && !out_words.is_empty() {
            self.hosts.iter().collect()
        } else {
            Vec::new()
        };
        for word in in_words {
            for h in self.matching(word)? {
                if !out.iter().any(|o| o.name == h.name) {
                    out.push(h);
                }
            }
        }
        for word in out_words {
            let gone = self.matching(&word[1..])?;
            out.retain(|h| !gone.iter().any(|g| g.name == h.name));
        }
        // An empty variable in a script (`--limit "$HOSTS"`) must not look like a run that
        // found nothing to do.
        if out.is_empty() {
            return Err(format!("--limit {limit:?} names no host; give host names, globs such as 'web*', the groups directors, real_servers (a leading ! takes hosts out), or leave --limit out for every host"));
        }
        Ok(out)
    }

    /// The hosts one `--limit` word names: a group, a name, or a glob over names.
    fn matching(&self, word: &str) -> Result<Vec<&Host>, String> {
        let pattern = glob::Pattern::new(word)
            .map_err(|e| format!("--limit: {word:?} is not a name or a glob ({e})"))?;
        let matched: Vec<&Host> = self
            .hosts
            .iter()
            .filter(|h| h.role().group() == word || pattern.matches(&h.name))
            .collect();
        if matched.is_empty() {
            let names: Vec<&str> = self.hosts.iter().map(|h| h.name.as_str()).collect();
            return Err(format!("--limit: {word:?} is no host or group; use directors, real_servers, a glob such as 'web*', or one of {}", names.join(", ")));
        }
        Ok(matched)
    }
}
