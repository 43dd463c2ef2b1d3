//! What `verify` asks from where lvsprov runs: HTTP through the VIP and to each real server, and
//! who answers ARP for the VIP. The only I/O of verify besides the hosts' facts.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// HTTP's Host header for an address: an IPv6 one in brackets (RFC 7230).
fn host_header(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// One HTTP/1.0 GET on a new connection (a new connection is what IPVS schedules), body trimmed.
pub async fn get(ip: IpAddr, port: u16, timeout: Duration) -> Result<String, String> {
    let work = async {
        let mut s = tokio::net::TcpStream::connect((ip, port))
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(
            format!(
                "GET / HTTP/1.0\r\nHost: {}\r\nUser-Agent: lvsprov-verify\r\n\r\n",
                host_header(ip)
            )
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

/// MACs that answer ARP for `ip`, asked from here: `arping` when present, else the neighbour
/// table; for an IPv6 address, neighbour solicitations sent from here ([`super::ndp`]).
pub async fn arp_answers(ip: IpAddr) -> Vec<String> {
    let ip_s = ip.to_string();
    let route = output("ip", &["-o", "route", "get", &ip_s]).await;
    let mut macs = BTreeSet::new();
    if let (IpAddr::V6(v6), Some(dev)) = (ip, after(&route, "dev")) {
        let dev = dev.to_string();
        let asked = tokio::task::spawn_blocking(move || {
            super::ndp::answers(v6, &dev, Duration::from_secs(3))
        });
        macs.extend(asked.await.ok().and_then(Result::ok).unwrap_or_default());
    } else if let Some(dev) = after(&route, "dev") {
        let out = output("arping", &["-c", "3", "-w", "4", "-I", dev, &ip_s]).await;
        for line in out.lines() {
            if let Some(mac) = line.split('[').nth(1).and_then(|r| r.split(']').next()) {
                macs.insert(mac.to_lowercase());
            }
        }
    }
    // Nobody answered: the neighbour cache may still know who did. Not when the VIP is routed
    // through a gateway (ECMP): then an entry is left from before, and no host here resolves it.
    if macs.is_empty() && after(&route, "via").is_none() {
        if let Some(m) = after(&output("ip", &["neigh", "show", &ip_s]).await, "lladdr") {
            macs.insert(m.to_lowercase());
        }
    }
    macs.into_iter().collect()
}

/// Opens a keep-alive session's connection. Its local address is the client `ip:port` that
/// IPVS (and its sync to the backup) keys the connection by.
pub async fn open(ip: IpAddr, port: u16) -> Result<tokio::net::TcpStream, String> {
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect((ip, port)),
    )
    .await
    {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!("no connection: {e}")),
        Err(_) => Err("no connection in 10 s".into()),
    }
}

/// One HTTP/1.1 keep-alive session on `s`: GETs `gap` apart until `stop` turns true, then
/// `after` more. Ok when every one was answered 200 on that same connection (what a user
/// mid-session feels). Each answer may take 10 s: packets lost during a failover come back by
/// TCP retransmission, whose back-off reaches seconds, and a browser waits that long too.
pub async fn keep_alive(
    mut s: tokio::net::TcpStream,
    host: IpAddr,
    gap: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
    after: usize,
) -> Result<(), String> {
    let step = Duration::from_secs(10);
    let mut buf: Vec<u8> = Vec::new();
    let (mut i, mut left) = (0, None);
    while left != Some(0) {
        i += 1;
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUser-Agent: lvsprov-verify\r\n\r\n",
            host_header(host)
        );
        if let Err(e) = s.write_all(req.as_bytes()).await {
            return Err(format!("request {i} not sent: {e}"));
        }
        match tokio::time::timeout(step, response(&mut s, &mut buf)).await {
            Ok(Some(200)) => {}
            Ok(Some(code)) => return Err(format!("request {i}: HTTP {code}")),
            Ok(None) => return Err(format!("request {i}: connection closed or reset")),
            Err(_) => return Err(format!("request {i}: no answer in 10 s")),
        }
        left = match left {
            Some(n) => Some(n - 1),
            None if *stop.borrow() => Some(after),
            None => None,
        };
        tokio::time::sleep(gap).await;
    }
    Ok(())
}

/// Reads one HTTP/1.1 response with a Content-Length body off `s`; its status code.
async fn response(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let code = head.split_whitespace().nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                read_more(s, buf).await?;
            }
            buf.drain(..end + 4 + len);
            return Some(code);
        }
        read_more(s, buf).await?;
    }
}

async fn read_more(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match s.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// A loopback server answering every request on a connection, as apache does with keep-alive.
    #[tokio::test]
    async fn a_keep_alive_session_makes_every_request_on_one_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut served = 0;
            let mut chunk = [0u8; 1024];
            while let Ok(n) = s.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    buf.drain(..end + 4);
                    served += 1;
                    let body = "<h1>a</h1>\n";
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nKeep-Alive: timeout=5\r\n\r\n",
                        body.len()
                    );
                    s.write_all(head.as_bytes()).await.unwrap();
                    s.write_all(body.as_bytes()).await.unwrap();
                }
            }
            served
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let s = open(Ipv4Addr::LOCALHOST.into(), port).await.unwrap();
        let session = tokio::spawn(keep_alive(
            s,
            Ipv4Addr::LOCALHOST.into(),
            Duration::from_millis(10),
            stopped,
            5,
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.send(true).unwrap();
        assert_eq!(session.await.unwrap(), Ok(()));
        let served = server.await.unwrap();
        // Some before the stop (200 ms at 10 ms apart), then exactly the five after it (the one
        // that saw the stop counts as the first of them).
        assert!(
            served > 6,
            "all on the one connection, and not only the last five: {served}"
        );
    }
}
