//! `status --textfile DIR`: the metrics where node_exporter's textfile collector reads them.

use std::io::Write as _;
use std::path::Path;

/// `DIR/lvsprov.prom`, replaced whole: node_exporter may read it at any moment, and a file it
/// reads half-written would be a scrape with series missing.
pub fn write(dir: &Path, metrics: &str) -> std::io::Result<()> {
    let tmp = dir.join(format!(".lvsprov.prom.{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(metrics.as_bytes())?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, dir.join("lvsprov.prom"))) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    /// Written, then replaced whole; no temp file is left for the collector to read.
    #[test]
    fn the_file_is_replaced_whole_and_nothing_else_stays() {
        let dir = std::env::temp_dir().join(format!("lvsprov-tf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        super::write(&dir, "lvsprov_up 1\n").unwrap();
        super::write(&dir, "lvsprov_up 0\n").unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["lvsprov.prom"]);
        let text = std::fs::read_to_string(dir.join("lvsprov.prom")).unwrap();
        assert_eq!(text, "lvsprov_up 0\n");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(super::write(&dir, "x").is_err(), "a folder that is gone");
    }
}
