//! Reading a hand-written keepalived.conf: the VRRP instance and the virtual servers, in the
//! keywords keepalived 1.2 to 2.3 accept (`lb_algo`/`lvs_sched`, `lb_kind`/`lvs_method`,
//! `nb_get_retry`/`retry`). Only what an inventory can hold is kept; anything else is named by
//! the caller as not imported.

/// A statement: its words, and its block when it opens one (`vrrp_instance VI_1 { ... }`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub words: Vec<String>,
    pub block: Option<Vec<Node>>,
}

impl Node {
    pub(super) fn key(&self) -> &str {
        self.words.first().map(String::as_str).unwrap_or("")
    }

    pub(super) fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    pub(super) fn children(&self) -> &[Node] {
        self.block.as_deref().unwrap_or_default()
    }

    /// The first argument of the first child statement named any of `keys`.
    pub(super) fn value(&self, keys: &[&str]) -> Option<&str> {
        self.children()
            .iter()
            .find(|c| keys.contains(&c.key()))
            .and_then(|c| c.arg(1))
    }

    pub(super) fn number<T: std::str::FromStr>(&self, keys: &[&str]) -> Option<T> {
        self.value(keys).and_then(|v| v.parse().ok())
    }
}

/// Statements end at a line's end, `{` opens a block (for the statement before it, on its line
/// or the line above) and `}` closes one; `#` and `!` start a comment. Unbalanced braces never panic: a stray `}` is ignored, an open block ends with the
/// file.
pub fn parse(text: &str) -> Vec<Node> {
    let mut stack: Vec<Node> = vec![Node {
        words: vec![],
        block: Some(vec![]),
    }];
    fn push(stack: &mut [Node], node: Node) {
        if let Some(top) = stack.last_mut() {
            top.block.get_or_insert_with(Vec::new).push(node);
        }
    }
    for line in text.lines() {
        let line = line.split(['#', '!']).next().unwrap_or("");
        let spaced = line.replace('{', " { ").replace('}', " } ");
        let mut words: Vec<String> = Vec::new();
        for w in spaced.split_whitespace() {
            match w {
                "{" => {
                    let mut head = std::mem::take(&mut words);
                    // `virtual_server VIP PORT` with its `{` on the next line.
                    if head.is_empty() {
                        if let Some(kids) = stack.last_mut().and_then(|t| t.block.as_mut()) {
                            if kids.last().is_some_and(|k| k.block.is_none()) {
                                head = kids.pop().map(|k| k.words).unwrap_or_default();
                            }
                        }
                    }
                    stack.push(Node {
                        words: head,
                        block: Some(vec![]),
                    });
                }
                "}" => {
                    if !words.is_empty() {
                        let n = Node {
                            words: std::mem::take(&mut words),
                            block: None,
                        };
                        push(&mut stack, n);
                    }
                    if stack.len() > 1 {
                        let done = stack.pop().expect("more than one");
                        push(&mut stack, done);
                    }
                }
                w => words.push(w.to_string()),
            }
        }
        if !words.is_empty() {
            push(&mut stack, Node { words, block: None });
        }
    }
    while stack.len() > 1 {
        let done = stack.pop().expect("more than one");
        push(&mut stack, done);
    }
    stack.pop().and_then(|n| n.block).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vrrp {
    pub name: String,
    pub interface: Option<String>,
    pub virtual_router_id: Option<u16>,
    pub priority: Option<u16>,
    /// Seconds, as written (`1`, `0.2`).
    pub advert_int: Option<serde_json::Number>,
    pub auth_pass: Option<String>,
    /// Adverts go to `unicast_peer`s, not to the multicast group.
    pub unicast: bool,
    /// `192.168.100.10/32 dev eth0 label eth0:0` → the address; those of
    /// `virtual_ipaddress_excluded` (IPv6 VIPs beside IPv4 adverts) too.
    pub vips: Vec<String>,
    pub hooks: super::hooks::InstanceHooks,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Check {
    /// `TCP_CHECK`, `HTTP_GET`, `SSL_GET`, `MISC_CHECK`, ...
    pub kind: String,
    pub connect_timeout: Option<u32>,
    pub retry: Option<u32>,
    /// HTTP_GET's `url { path status_code }` (the first url) and `virtualhost`.
    pub path: Option<String>,
    pub status: Option<u16>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// DNS_CHECK's `name` and `type`.
    pub name: Option<String>,
    pub query_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RealServer {
    pub ip: String,
    pub port: Option<u16>,
    pub weight: Option<u32>,
    pub check: Option<Check>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct VirtualServer {
    /// `192.168.100.10 80`, or `fwmark 1` / `group NAME` (not importable).
    pub head: Vec<String>,
    pub scheduler: Option<String>,
    pub method: Option<String>,
    pub protocol: Option<String>,
    pub persistence_timeout: Option<u32>,
    pub delay_loop: Option<u32>,
    pub real_servers: Vec<RealServer>,
    /// `sorry_server IP PORT`: its address.
    pub sorry_server: Option<String>,
    pub quorum: Option<u32>,
    /// `inhibit_on_failure` on the virtual server or on any of its real servers.
    pub inhibit_on_failure: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Keepalived {
    pub vrrp: Vec<Vrrp>,
    pub virtual_servers: Vec<VirtualServer>,
    /// `lvs_sync_daemon IFACE INSTANCE [id N]` (or the older `lvs_sync_daemon_interface`).
    pub sync_interface: Option<String>,
    pub sync_id: Option<u16>,
    pub scripts: Vec<super::hooks::Script>,
}

pub fn read(text: &str) -> Keepalived {
    let mut k = Keepalived::default();
    for node in parse(text) {
        match node.key() {
            "global_defs" => {
                for c in node.children() {
                    if c.key() == "lvs_sync_daemon" {
                        k.sync_interface = c.arg(1).map(str::to_string);
                        k.sync_id = c
                            .words
                            .iter()
                            .position(|w| w == "id")
                            .and_then(|i| c.arg(i + 1))
                            .and_then(|v| v.parse().ok());
                    }
                }
            }
            "vrrp_instance" => {
                if let Some(i) = node.value(&["lvs_sync_daemon_interface"]) {
                    k.sync_interface.get_or_insert_with(|| i.to_string());
                }
                k.vrrp.push(Vrrp {
                    name: node.arg(1).unwrap_or_default().to_string(),
                    interface: node.value(&["interface"]).map(str::to_string),
                    virtual_router_id: node.number(&["virtual_router_id"]),
                    priority: node.number(&["priority"]),
                    advert_int: node
                        .value(&["advert_int"])
                        .and_then(|v| v.parse::<serde_json::Number>().ok()),
                    auth_pass: node
                        .children()
                        .iter()
                        .find(|c| c.key() == "authentication")
                        .and_then(|a| a.value(&["auth_pass"]))
                        .map(str::to_string),
                    unicast: node.children().iter().any(|c| c.key() == "unicast_peer"),
                    vips: node
                        .children()
                        .iter()
                        .filter(|c| {
                            c.key() == "virtual_ipaddress"
                                || c.key() == "virtual_ipaddress_excluded"
                        })
                        .flat_map(|b| b.children().iter().filter_map(|a| a.arg(0)))
                        .map(|a| a.split('/').next().unwrap_or(a).to_string())
                        .collect(),
                    hooks: super::hooks::instance(&node),
                });
            }
            "vrrp_script" => k.scripts.push(super::hooks::script(&node)),
            "virtual_server" => k.virtual_servers.push(VirtualServer {
                head: node.words[1..].to_vec(),
                scheduler: node.value(&["lvs_sched", "lb_algo"]).map(str::to_string),
                method: node.value(&["lvs_method", "lb_kind"]).map(str::to_string),
                protocol: node.value(&["protocol"]).map(str::to_string),
                persistence_timeout: node.number(&["persistence_timeout"]),
                delay_loop: node.number(&["delay_loop"]),
                real_servers: node
                    .children()
                    .iter()
                    .filter(|c| c.key() == "real_server")
                    .map(real_server)
                    .collect(),
                sorry_server: node
                    .children()
                    .iter()
                    .find(|c| c.key() == "sorry_server")
                    .and_then(|c| c.arg(1))
                    .map(str::to_string),
                quorum: node.number(&["quorum"]),
                inhibit_on_failure: node.children().iter().any(|c| {
                    c.key() == "inhibit_on_failure"
                        || c.key() == "real_server"
                            && c.children().iter().any(|r| r.key() == "inhibit_on_failure")
                }),
            }),
            _ => {}
        }
    }
    k
}

/// `real_server IP PORT { weight N; TCP_CHECK|HTTP_GET|... { ... } }`.
fn real_server(r: &Node) -> RealServer {
    RealServer {
        ip: r.arg(1).unwrap_or_default().to_string(),
        port: r.arg(2).and_then(|p| p.parse().ok()),
        weight: r.number(&["weight"]),
        check: r
            .children()
            .iter()
            .find(|c| c.key().ends_with("_CHECK") || c.key().ends_with("_GET"))
            .map(check),
    }
}

fn check(c: &Node) -> Check {
    // `url { path / status_code 200 }` is often one line: a keyword's value is the word after
    // it, wherever it stands.
    let url = c.children().iter().find(|u| u.key() == "url");
    let after = |key: &str| {
        url?.children().iter().find_map(|s| {
            s.words
                .windows(2)
                .find(|w| w[0] == key)
                .map(|w| w[1].clone())
        })
    };
    Check {
        kind: c.key().to_string(),
        connect_timeout: c.number(&["connect_timeout"]),
        retry: c.number(&["retry", "nb_get_retry"]),
        path: after("path"),
        status: after("status_code").and_then(|s| s.parse().ok()),
        host: c.value(&["virtualhost"]).map(str::to_string),
        port: c.number(&["connect_port"]),
        name: c.value(&["name"]).map(str::to_string),
        query_type: c.value(&["type"]).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keepalived 1.3-era config as people write it: old keywords, comments, braces on
    /// their own lines and at line ends.
    const OLD: &str = "! Configuration File for keepalived
global_defs {
   router_id LVS_DEVEL
}
vrrp_instance VI_1 {
    state MASTER
    interface ens33
    virtual_router_id 10
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass abc123   # the shared secret
    }
    virtual_ipaddress {
        192.168.100.10
    }
}
virtual_server 192.168.100.10 80
{
    delay_loop 6
    lb_algo wrr
    lb_kind DR
    persistence_timeout 50
    protocol TCP
    real_server 192.168.100.201 80 {
        weight 3
        HTTP_GET {
            url { path / status_code 200 }
            connect_timeout 3
            nb_get_retry 2
            delay_before_retry 3
        }
    }
    real_server 192.168.100.202 80 {
        weight 1
        TCP_CHECK { connect_timeout 4 }
    }
}
";

    #[test]
    fn reads_vrrp_and_virtual_servers_in_old_and_new_keywords() {
        let k = read(OLD);
        let v = &k.vrrp[0];
        assert_eq!(
            (v.virtual_router_id, v.priority, v.advert_int.clone()),
            (Some(10), Some(100), Some(1.into()))
        );
        assert_eq!(v.auth_pass.as_deref(), Some("abc123"));
        assert_eq!(v.vips, ["192.168.100.10"]);
        let vs = &k.virtual_servers[0];
        assert_eq!(vs.head, ["192.168.100.10", "80"]);
        assert_eq!(
            (
                vs.scheduler.as_deref(),
                vs.method.as_deref(),
                vs.persistence_timeout
            ),
            (Some("wrr"), Some("DR"), Some(50))
        );
        let r = &vs.real_servers;
        assert_eq!((r[0].weight, r[1].weight), (Some(3), Some(1)));
        let c = r[0].check.as_ref().unwrap();
        assert_eq!((c.kind.as_str(), c.retry), ("HTTP_GET", Some(2)));
        assert_eq!(r[1].check.as_ref().unwrap().connect_timeout, Some(4));
    }

    #[test]
    fn an_http_check_reads_its_url_host_and_port() {
        let text = OLD.replace(
            "url { path / status_code 200 }",
            "url { path /health.html status_code 204 }\n            virtualhost www.example.com\n            connect_port 8080",
        );
        let c = read(&text).virtual_servers[0].real_servers[0]
            .check
            .clone()
            .unwrap();
        assert_eq!(
            (c.path.as_deref(), c.status, c.host.as_deref(), c.port),
            (
                Some("/health.html"),
                Some(204),
                Some("www.example.com"),
                Some(8080)
            )
        );
    }

    #[test]
    fn the_config_lvsprov_writes_reads_back() {
        // lvsprov's sync runs apart from keepalived (import reads it from the daemons).
        let text = include_str!("../../tests/golden/keepalived.conf");
        let k = read(text);
        assert_eq!(k.sync_interface, None);
        assert_eq!(k.vrrp[0].vips, ["192.168.100.10"]);
        assert_eq!(k.virtual_servers[0].real_servers.len(), 2);
    }

    #[test]
    fn reads_the_fallbacks() {
        let k = read(
            "virtual_server 192.168.100.10 80 {\n    quorum 2\n    sorry_server 192.168.100.203 80\n    real_server 192.168.100.201 80 {\n        weight 2\n        inhibit_on_failure\n    }\n}\n",
        );
        let vs = &k.virtual_servers[0];
        assert_eq!(
            (vs.sorry_server.as_deref(), vs.quorum, vs.inhibit_on_failure),
            (Some("192.168.100.203"), Some(2), true)
        );
        let plain = read(include_str!("../../tests/golden/keepalived.conf"));
        let vs = &plain.virtual_servers[0];
        assert_eq!(
            (&vs.sorry_server, vs.quorum, vs.inhibit_on_failure),
            (&None, None, false)
        );
    }

    #[test]
    fn broken_braces_never_panic() {
        for text in ["}}}", "{{{", "a { b } } c {", "virtual_server {", ""] {
            let _ = read(text);
        }
    }
}
