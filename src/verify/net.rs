//! What `verify` asks from where lvsprov runs: HTTP through the VIP and to each real server, and
//! who answers ARP for the VIP. The only I/O of verify besides the hosts' facts.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.0 GET on a new connection (a new connection is what IPVS schedules), body trimmed.
pub async fn get(ip: Ipv4Addr, port: u16, timeout: Duration) -> Result<String, String> {
    let work = async {
        let mut s = tokio::net::TcpStream::connect((ip, port))
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(
            format!("GET / HTTP/1.0\r\nHost: {ip}\r\nUser-Agent: lvsprov-verify\r\n\r\n")
                .as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
        if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1).is_none_or(|c| c != "200")
        {
            return Err(head.lines().next().unwrap_or("").to_string());
        }
        Ok(body.trim().to_string())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| "timed out".to_string())?
}

async fn output(cmd: &str, args: &[&str]) -> String {
    tokio::process::Command::new(cmd)
        .args(args)
        .output()
        .await
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// The word after `key` in whitespace-split text.
fn after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut w = text.split_whitespace();
    w.by_ref().find(|x| *x == key)?;
    w.next()
}

/// MACs that answer ARP for `ip`, asked from here: `arping` when present, else the neighbour table.
pub async fn arp_answers(ip: Ipv4Addr) -> Vec<String> {
    let ip_s = ip.to_string();
    let route = output("ip", &["-o", "route", "get", &ip_s]).await;
    let mut macs = BTreeSet::new();
    if let Some(dev) = after(&route, "dev") {
        let out = output("arping", &["-c", "3", "-w", "4", "-I", dev, &ip_s]).await;
        for line in out.lines() {
            if let Some(mac) = line.split('[').nth(1).and_then(|r| r.split(']').next()) {
                macs.insert(mac.to_lowercase());
            }
        }
    }
    if macs.is_empty() {
        if let Some(m) = after(&output("ip", &["neigh", "show", &ip_s]).await, "lladdr") {
            macs.insert(m.to_lowercase());
        }
    }
    macs.into_iter().collect()
}
