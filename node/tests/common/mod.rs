//! Helpers of the multi-process tests: throwaway directories, `ranger` child processes that are
//! killed (by pid) when dropped and whose stdout is read line by line, and a minimal JSON-RPC over
//! HTTP/1.1 client on std's TcpStream, so a test sees exactly the bytes a server sends.

#![allow(dead_code)]
// Test helpers outside #[test] functions: a failing unwrap is a failing test (clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A fresh directory for one test.
pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ranger-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `ranger` process.
pub struct Proc {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    errs: mpsc::Receiver<String>,
}

/// Sends every line `r` gives to a channel, from a thread of its own.
fn lines_of(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ranger"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = lines_of(child.stdout.take().unwrap());
        let errs = lines_of(child.stderr.take().unwrap());
        Self { child, lines, errs }
    }

    /// The first stderr line starting with `prefix` (e.g. `rpc: `), without it; `None` if none
    /// came within `wait`.
    pub fn err_line(&self, prefix: &str, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.errs.recv_timeout(left).ok()?;
            if let Some(rest) = line.strip_prefix(prefix) {
                return Some(rest.to_owned());
            }
        }
    }

    /// The next line on stdout, `None` if none came within `wait`.
    pub fn line(&self, wait: Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }

    /// Stops the process with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The arguments of a `ranger council` on a free port with a small, fast chain in `dir`.
pub fn council_args(dir: &std::path::Path) -> Vec<String> {
    let dir = dir.to_str().unwrap();
    [
        "council",
        "--listen",
        "127.0.0.1:0",
        "--datadir",
        dir,
        "--tps",
        "100",
        "--block-period",
        "50",
        "--accounts",
        "50",
        "--validators",
        "4",
    ]
    .map(String::from)
    .to_vec()
}

/// `ranger council` (`council_args` and `extra`) running; returns it and its address.
pub fn council(dir: &std::path::Path, extra: &[&str]) -> (Proc, String) {
    let mut args = council_args(dir);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = Proc::spawn(&args);
    let addr = p
        .line(Duration::from_secs(60))
        .expect("the council prints its address first");
    (p, addr)
}

/// POSTs `body` to `addr`; returns the status code and the body.
pub fn post(addr: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A server may refuse a large body before reading all of it.
    let _ = s.write_all(body);
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let status_line = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap();
    let mut body = resp[split + 4..].to_vec();
    if status_line
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = unchunk(&body);
    }
    (status, body)
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let len =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if len == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + len]);
        b = &b[eol + 2 + len + 2..];
    }
}

/// GETs `path` from `addr`; returns the body.
pub fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).into_owned();
    text.split_once("\r\n\r\n")
        .map(|x| x.1.to_owned())
        .unwrap_or_default()
}

/// One JSON-RPC call; returns the whole response object.
pub fn call(addr: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (_, resp) = post(addr, body.to_string().as_bytes());
    serde_json::from_slice(&resp).unwrap()
}

/// Waits until the server's head is at least `n`.
pub fn wait_head(addr: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = call(addr, "kaia_blockNumber", json!([]));
        let head = r["result"]
            .as_str()
            .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
            .unwrap_or(0);
        if head >= n {
            return;
        }
        assert!(Instant::now() < deadline, "the head stayed at {head}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
