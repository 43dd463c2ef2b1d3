//! Faults a host can throw at a run, against the container lab's real hosts: a full disk, a
//! package that cannot be installed, a host that answers with garbage or never stops talking.
//! Each time: that host fails naming the cause, nothing else on it changes, the other host goes on.

mod common;

use common::{host, lab, repo, Lab};
use std::time::Instant;

/// The container lab's inventory with web01's page replaced (so `up` has a file to write).
fn with_page(lab: &Lab, page: &str) -> String {
    let text = std::fs::read_to_string(repo().join(common::CONTAINER_INVENTORY))
        .unwrap()
        .replace("<h1>this is kg web</h1>", page);
    lab.put("client", "/tmp/faults.json", &text);
    "/tmp/faults.json".into()
}

#[test]
fn a_full_disk_fails_the_host_naming_the_file_and_the_old_file_stays() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    let old = lab.sh("web01", "cat /var/www/html/index.html");
    // /var/www/html on a tiny file system of its own, filled to the last byte.
    lab.sh(
        "web01",
        "cp /var/www/html/index.html /tmp/page && mount -t tmpfs -o size=16k tmpfs /var/www/html \
         && cp /tmp/page /var/www/html/index.html && (dd if=/dev/zero of=/var/www/html/fill bs=1k 2>/dev/null; true)",
    );
    let inv = with_page(lab, &format!("<h1>a new page {}</h1>", "x".repeat(2000)));
    let (code, r) = lab.json(&["up", &inv, "--limit", "real_servers"]);
    let left = lab.sh("web01", "ls -A /var/www/html | tr '\\n' ' '");
    let now = lab.sh("web01", "cat /var/www/html/index.html");
    lab.sh("web01", "umount /var/www/html");
    assert_eq!(code, 1, "{r}");
    let w1 = host(&r, "web01");
    assert_eq!(w1["error_kind"], "step", "{w1}");
    let err = w1["error"].as_str().unwrap();
    assert!(
        err.contains("(file /var/www/html/index.html) failed")
            && err.contains(
                "cannot write /var/www/html/index.html (is its file system full or read-only?)"
            ),
        "{err}"
    );
    assert_eq!(now, old, "the old page stays, whole");
    assert_eq!(
        left.trim(),
        "fill index.html",
        "no temp file left behind: {left}"
    );
    assert_eq!(
        host(&r, "web02")["status"],
        "unchanged",
        "the other host went on"
    );
    // The disk has room again: the next up finishes the job.
    let (code, r) = lab.json(&["up", &inv, "--limit", "web01"]);
    assert_eq!(code, 0, "{r}");
    assert!(lab
        .sh("web01", "cat /var/www/html/index.html")
        .starts_with("<h1>a new page x"));
    lab.converged();
}

#[test]
fn a_package_that_cannot_be_installed_fails_its_host_naming_it() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    // The real playbooks, except that web01 wants a package no repository has.
    let pb = std::fs::read_to_string(repo().join("playbooks/real_server.json.j2")).unwrap();
    let wanted = r#"{"package": {"names": [{{ web_server|tojson }}]}}"#;
    assert!(pb.contains(wanted));
    let pb = pb.replace(
        wanted,
        r#"{"package": {"names": [{{ web_server|tojson }}{% if host.name == "web01" %}, "lvsprov-no-such-package"{% endif %}]}}"#,
    );
    lab.sh(
        "client",
        "rm -rf /tmp/pb-pkg && cp -r /src/playbooks /tmp/pb-pkg",
    );
    lab.put("client", "/tmp/pb-pkg/real_server.json.j2", &pb);
    let before = lab.sh(
        "web01",
        "sysctl -n net.ipv4.conf.all.arp_ignore; ls /var/lib/lvsprov | wc -l",
    );
    let (code, r) = lab.json(&[
        "up",
        "--limit",
        "real_servers",
        "--playbooks",
        "/tmp/pb-pkg",
    ]);
    assert_eq!(code, 1, "{r}");
    let w1 = host(&r, "web01");
    let err = w1["error"].as_str().unwrap();
    assert!(
        err.contains("package")
            && err.contains("lvsprov-no-such-package")
            && err.contains("Unable to locate package"),
        "{err}"
    );
    assert_eq!(
        lab.sh(
            "web01",
            "sysctl -n net.ipv4.conf.all.arp_ignore; ls /var/lib/lvsprov | wc -l"
        ),
        before,
        "nothing else changed"
    );
    assert_eq!(host(&r, "web02")["status"], "unchanged");
}

#[test]
fn a_host_that_answers_with_garbage_or_without_end_fails_alone() {
    let Some((_g, lab)) = lab() else { return };
    lab.converged();
    // web02 is reached as `deploy`: its login shell is what answers. First random bytes, then an
    // endless stream of them.
    for (shell, want) in [
        ("head -c 200000 /dev/urandom", "facts"),
        ("cat /dev/urandom", "more than 64 MiB"),
    ] {
        lab.sh(
            "web02",
            &format!("printf '#!/bin/sh\\n{shell}\\n' >/usr/local/bin/garbage && chmod 755 /usr/local/bin/garbage && usermod -s /usr/local/bin/garbage deploy"),
        );
        let t0 = Instant::now();
        let (code, r) = lab.json(&["check", "--limit", "real_servers", "--timeout", "60"]);
        let took = t0.elapsed();
        lab.sh("web02", "usermod -s /bin/bash deploy");
        assert_eq!(code, 1, "{r}");
        let w2 = host(&r, "web02");
        let err = w2["error"].as_str().unwrap();
        assert!(err.contains(want), "{shell}: {err}");
        assert!(
            err.len() < 2000,
            "the error is said, not the bytes: {} bytes",
            err.len()
        );
        assert_eq!(
            host(&r, "web01")["status"],
            "unchanged",
            "{shell}: web01 planned as usual"
        );
        eprintln!(
            "{shell}: web02 failed ({}) after {} ms",
            w2["error_kind"],
            took.as_millis()
        );
    }
}

/// `lvsprov ARGS` in the client with one more environment variable.
fn lvsprov_with(env: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let out = std::process::Command::new("docker")
        .args([
            "exec",
            "-e",
            "NO_COLOR=1",
            "-e",
            env,
            "-w",
            "/src",
            "lvsprov-client",
            "lvsprov",
        ])
        .args(args)
        .args([common::CONTAINER_INVENTORY, "--output", "json"])
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

/// The host's shell killed (SIGKILL, as when a session dies) after every step of web01's plan in
/// turn: each time the page is the old or the new one, never part of one; the next `up` converges,
/// the one after finds nothing to change, and `down` still finds what it must put back.
#[test]
fn an_apply_killed_after_any_step_is_finished_by_the_next_up() {
    let Some((_g, lab)) = lab() else { return };
    lab.install_binary();
    lab.converged();
    let (code, r) = lab.json(&["down", "--limit", "web01"]);
    assert_eq!(code, 0, "{r}");
    let before_page = lab.sh("web01", "cat /var/www/html/index.html");
    let before_sysctl = lab.sysctl("web01", "net.ipv4.conf.all.arp_ignore");
    let (code, plan) = lab.json(&["check", "--limit", "web01"]);
    assert_eq!(code, 2, "{plan}");
    let steps = plan["summary"]["changes"].as_u64().unwrap() as usize;
    assert!(steps >= 8, "{plan}");
    for k in 1..=steps {
        let (code, r) = lvsprov_with(
            &format!("LVSPROV_FAULT_KILL_AFTER_STEP={k}"),
            &["up", "--limit", "web01"],
        );
        assert_eq!(code, 1, "killed after step {k}: {r}");
        let page = lab.sh("web01", "cat /var/www/html/index.html");
        assert!(
            page == before_page || page == "<h1>this is kg web</h1>",
            "after step {k} the page is neither old nor new: {page:?}"
        );
        assert_eq!(
            lab.sh("web01", "ls -A /var/www/html | grep -c lvsprov || true"),
            "0",
            "no temp file after step {k}"
        );
        let (code, r) = lab.json(&["up", "--limit", "web01"]);
        assert_eq!(code, 0, "the up after a kill at step {k}: {r}");
        let (code, r) = lab.json(&["check", "--limit", "web01"]);
        assert_eq!(
            (code, r["summary"]["changes"].as_u64()),
            (0, Some(0)),
            "converged after a kill at step {k}: {r}"
        );
        let (code, r) = lab.json(&["down", "--limit", "web01"]);
        assert_eq!(code, 0, "down after a kill at step {k}: {r}");
        assert_eq!(
            lab.sysctl("web01", "net.ipv4.conf.all.arp_ignore"),
            before_sysctl,
            "down restored the sysctls recorded before a kill at step {k}"
        );
        assert_eq!(lab.sh("web01", "cat /var/www/html/index.html"), before_page);
    }
    eprintln!(
        "web01: killed after each of {} steps, each finished by the next up",
        steps - 1
    );
    lab.converged();
}
