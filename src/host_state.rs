//! What lvsprov keeps on a host, in one folder, and the one way it writes a file there or
//! anywhere else. `down` depends on this folder to put a host back exactly as it was, so its
//! layout lives here only, and every write is a temp file in the target's folder renamed over
//! the target: a file is old or new, never half-written, whatever kills the run.

use crate::sh;
use crate::shell::Script;

/// The folder: original sysctl values, file copies, owed reloads, drain marks.
pub const DIR: &str = "/var/lib/lvsprov";
/// `key=value` per line: each sysctl as it was before lvsprov first changed it.
pub const SYSCTL_ORIG: &str = "/var/lib/lvsprov/sysctl.orig";
/// One real-server name per line: drained on this director until `undrain`.
pub const DRAINED: &str = "/var/lib/lvsprov/drained";
/// One empty file per service whose config changed and whose reload has not run yet.
pub const RELOAD_DIR: &str = "/var/lib/lvsprov/reload";

pub fn reload_marker(service: &str) -> String {
    format!("{RELOAD_DIR}/{service}")
}

/// Where the pre-lvsprov copy of `path` is kept.
pub fn backup_path(path: &str) -> String {
    format!("{DIR}/backup{path}")
}

/// The marker saying `path` did not exist before lvsprov wrote it.
pub fn backup_none(path: &str) -> String {
    format!("{}.none", backup_path(path))
}

pub fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((d, _)) => d,
        None => ".",
    }
}

/// The mode a written file gets.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    Set(&'a str),
    /// The existing file's mode and owner, or this mode (and root) for a new file.
    KeepOr(&'static str),
}

/// Writes what `producer` prints to `path`, atomically (temp file in the same folder, renamed).
pub fn atomic_write(path: &str, producer: Script, mode: Mode) -> Script {
    atomic_write_checked(path, producer, mode, None, Script::new())
}

/// [`atomic_write`], and before the new file replaces the old one, `check` (a command that reads
/// the new file at `"$t"`) must accept it: when it refuses, the old file stays, untouched, and
/// the step fails with the command's own complaint. `before_replace` runs once the new file is
/// accepted, just before it replaces the old one (an owed reload is marked there: a refused file
/// owes nothing).
pub fn atomic_write_checked(
    path: &str,
    producer: Script,
    mode: Mode,
    check: Option<Script>,
    before_replace: Script,
) -> Script {
    let dir = parent(path);
    let (create, chmod) = match mode {
        Mode::Set(m) => (new_temp(dir, m), Script::new()),
        Mode::KeepOr(m) => (
            sh!(
                "if [ -e {} ]; then\n{}\nelse\n{}\nfi",
                path,
                new_temp(dir, "0600"),
                new_temp(dir, m)
            ),
            // Its owner too: a package's file read by a service's own user (bird2's bird.conf,
            // bird:bird 0640, read by BIRD as `bird`) stays readable to it and to no one else.
            sh!(
                "if [ -e {} ]; then chmod --reference={} \"$t\"; chown --reference={} \"$t\"; fi",
                path,
                path,
                path
            ),
        ),
    };
    Script::lines([
        ensure_dir(dir),
        create,
        // A write that fails (a full disk) ends the step's `set -e` subshell: the trap takes the
        // temp file with it, and the old file was never touched. `mkdir` and `rm` run only when
        // there is something to do: every process is a fork and an exec on every host.
        sh!("trap 'if [ -e \"$t\" ]; then rm -f \"$t\"; fi' EXIT"),
        chmod,
        sh!(
            "{{\n{}\n}} > \"$t\" || {{ echo {} >&2; exit 1; }}",
            producer,
            format!("cannot write {path} (is its file system full or read-only?)")
        ),
        match check {
            None => Script::new(),
            Some(c) => sh!(
                "if ! out=$({} 2>&1); then rm -f \"$t\"; printf '%s\\n' \"$out\" | tail -n 20 >&2; echo {} >&2; exit 1; fi",
                c,
                format!("the new {path} was refused by its own check; the old file is in place and in use")
            ),
        },
        before_replace,
        sh!("mv -f \"$t\" {}", path),
    ])
}

/// The umask every apply script sets first (`apply::script`), put back after a temp file is made.
pub const UMASK: &str = "022";

/// Makes the empty temp file `"$t"` in `dir` with `mode`, without a process where it can: its
/// name ends in a fresh UUID the kernel hands out (read by the shell itself), so nobody can
/// place anything at it beforehand, and the shell creates it with `set -C` (O_EXCL: never a
/// file that exists) under the umask that yields the mode. `mktemp` and `chmod` are two forks and
/// execs per file, most of a first `up`'s cost on the host. Where the UUID cannot be read, or
/// the mode has bits a umask cannot give (execute, setuid, sticky), `mktemp` and `chmod` as
/// before.
fn new_temp(dir: &str, mode: &str) -> Script {
    let fallback = sh!("t=$(mktemp {}/.lvsprov.XXXXXX); chmod {} \"$t\"", dir, mode);
    let Some(umask) = umask_for(mode) else {
        return fallback;
    };
    sh!(
        "if read -r u </proc/sys/kernel/random/uuid 2>/dev/null && [ ${{#u}} -ge 32 ]; then t={}/.lvsprov.$u; umask {}; set -C; : >\"$t\"; set +C; umask {}; else {}; fi",
        dir,
        umask,
        UMASK,
        fallback
    )
}

/// The umask under which the shell's `>` (0666) creates a file with exactly `mode`: none when
/// the mode is not octal or has execute or special bits.
fn umask_for(mode: &str) -> Option<String> {
    let m = u32::from_str_radix(mode, 8).ok()?;
    (m <= 0o7777 && m & 0o7111 == 0).then(|| format!("0{:03o}", !m & 0o777))
}

/// `mkdir -p DIR`, unless it is there already.
pub fn ensure_dir(dir: &str) -> Script {
    sh!("[ -d {} ] || mkdir -p {}", dir, dir)
}

/// Writes `content` to `path` atomically, cheaply: for files only written while the run holds
/// the host lock (so a fixed temp name cannot collide), with the umask's mode. One fork (`mv`)
/// instead of the five of [`atomic_write`], on every run of every host.
pub fn write_file_locked(path: &str, content: &str) -> Script {
    let tmp = format!("{path}.new");
    sh!("printf '%s' {} > {}\nmv -f {} {}", content, tmp, tmp, path)
}

/// Writes `content` to `path` atomically.
pub fn write_file(path: &str, content: &str, mode: Mode) -> Script {
    atomic_write(path, sh!("printf '%s' {}", content), mode)
}

/// Adds `lines` to a state file in one atomic write (the caller knows from the facts, read under
/// the host lock, that none is there yet). Nothing for no lines.
pub fn add_lines(file: &str, lines: &[String]) -> Script {
    if lines.is_empty() {
        return Script::new();
    }
    let mut printf = sh!("printf '%s\\n'");
    for l in lines {
        printf = sh!("{} {}", printf, l);
    }
    atomic_write(
        file,
        sh!("cat {} 2>/dev/null || true\n{}", file, printf),
        Mode::KeepOr("0644"),
    )
}

/// Records `key=value` in [`SYSCTL_ORIG`] as what a setting was before lvsprov first changed it,
/// unless the facts show it recorded already (then nothing: the first value is the one `down`
/// puts back). Keys: a sysctl's name, or `ipvs.timeouts`, `selinux.NAME`, `service.NAME`.
pub fn remember(
    recorded: &std::collections::BTreeMap<String, String>,
    key: &str,
    value: &str,
) -> Script {
    if recorded.contains_key(key) {
        return Script::new();
    }
    add_lines(SYSCTL_ORIG, &[format!("{key}={value}")])
}

/// Adds `line` to a state list file unless it is there.
pub fn add_line(list: &str, line: &str) -> Script {
    let add = add_lines(list, &[line.to_string()]);
    sh!(
        "if ! grep -qxF -- {} {} 2>/dev/null; then\n{}\nfi",
        line,
        list,
        add
    )
}

/// Removes `line` from a file (every copy), keeping the file's mode.
pub fn remove_line(file: &str, line: &str) -> Script {
    atomic_write(
        file,
        sh!("grep -vxF -- {} {} || true", line, file),
        Mode::KeepOr("0644"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &Script) -> std::process::Output {
        crate::shell::run_sh(script.as_str())
    }

    #[test]
    fn a_write_replaces_the_file_whole_and_keeps_its_mode() {
        let dir = std::env::temp_dir().join(format!("lvsprov-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x file").display().to_string();
        std::fs::write(&f, "old\n").unwrap();
        run(&sh!("chmod 0640 {}", f));
        let out = run(&write_file(&f, "it's new\n", Mode::KeepOr("0644")));
        assert!(out.status.success(), "{out:?}");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "it's new\n");
        assert_eq!(
            String::from_utf8(run(&sh!("stat -c %a {}", f)).stdout).unwrap(),
            "640\n"
        );
        run(&add_line(&f, "b"));
        run(&add_line(&f, "b"));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "it's new\nb\n");
        run(&remove_line(&f, "b"));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "it's new\n");
        run(&add_lines(&f, &["k=1".into(), "it's=2".into()]));
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "it's new\nk=1\nit's=2\n"
        );
        assert!(add_lines(&f, &[]).is_empty());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_umask_gives_exactly_the_modes_it_can() {
        assert_eq!(umask_for("0644").as_deref(), Some("0133"));
        assert_eq!(umask_for("600").as_deref(), Some("0177"));
        assert_eq!(umask_for("0440").as_deref(), Some("0337"));
        for m in ["0755", "0700", "4644", "1666", "u+rw", "", "99999"] {
            assert_eq!(umask_for(m), None, "{m}");
        }
    }

    /// Each way a new file gets its mode, run by this machine's sh: created under a umask (no
    /// process), by `chmod` where the mode needs execute bits, or from the file it replaces;
    /// the shell's umask is the apply's again afterwards, and no temp file is left.
    #[test]
    fn a_new_file_gets_its_mode_with_no_temp_file_left() {
        let dir = std::env::temp_dir().join(format!("lvsprov-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = |n: &str| dir.join(n).display().to_string();
        std::fs::write(at("kept"), "old\n").unwrap();
        run(&sh!("chmod 0604 {}", at("kept")));
        let mut s = sh!("umask {}", UMASK);
        s.push(write_file(&at("plain"), "a\n", Mode::Set("0640")));
        s.push(write_file(&at("tool"), "#!/bin/sh\n", Mode::Set("0750")));
        s.push(write_file(&at("new"), "b\n", Mode::KeepOr("0600")));
        s.push(write_file(&at("kept"), "c\n", Mode::KeepOr("0644")));
        s.push(sh!("umask"));
        let out = run(&s);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0022");
        let mode = |n: &str| {
            String::from_utf8(run(&sh!("stat -c %a {}", at(n))).stdout)
                .unwrap()
                .trim()
                .to_string()
        };
        for (n, m, text) in [
            ("plain", "640", "a\n"),
            ("tool", "750", "#!/bin/sh\n"),
            ("new", "600", "b\n"),
            ("kept", "604", "c\n"),
        ] {
            assert_eq!((n, mode(n).as_str()), (n, m));
            assert_eq!(std::fs::read_to_string(at(n)).unwrap(), text);
        }
        let left = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(left, 4, "no temp file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
