//! A broken `--playbooks` folder is found before any SSH: exit 3, the template named. The
//! inventory uses loopback addresses with nothing listening, so even a bug that connected would
//! stay on the machine (the lab test proves no sshd saw a login).

use std::process::Command;

const INV: &str = r#"{
  "network": "127.10.0.0/24",
  "directors": [ { "name": "lvs01", "address": "127.10.0.11" } ],
  "real_servers": [ { "name": "web01", "address": "127.10.0.201", "page": "<h1>a</h1>" } ],
  "services": [ { "vip": "127.10.0.10", "port": 80, "real_servers": [ { "name": "web01" } ] } ]
}"#;

fn run(cmd: &str, template: &str, text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!(
        "lvsprov-pb-{}-{cmd}-{}",
        std::process::id(),
        template.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(template), text).unwrap();
    let inv = dir.join("inv.json");
    std::fs::write(&inv, INV).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lvsprov"))
        .args([
            cmd,
            inv.to_str().unwrap(),
            "--playbooks",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let code = out.status.code().unwrap();
    if code == 3 {
        assert!(
            out.stdout.is_empty(),
            "no report: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_broken_template_exits_3_naming_it_before_any_connection() {
    for cmd in ["up", "check", "down", "verify"] {
        let (code, err) = run(cmd, "keepalived.conf.j2", "{% if %}");
        // No keepalived in this inventory: the director's playbook does not use that template.
        assert_ne!(code, 3, "{cmd}: an unused template is not an error: {err}");
        let (code, err) = run(cmd, "index.html.j2", "{{ host.page ");
        assert_eq!(code, 3, "{cmd}: {err}");
        assert!(
            err.contains("template index.html.j2") && err.contains("nothing was contacted"),
            "{cmd}: {err}"
        );
        let (code, err) = run(
            cmd,
            "real_server.json.j2",
            "[ {\"hostname\": {\"nmae\": \"x\"}} ]",
        );
        assert_eq!(code, 3, "{cmd}: {err}");
        assert!(
            err.contains("playbook real_server.json.j2, step 1") && err.contains("nmae"),
            "{cmd}: {err}"
        );
    }
}
