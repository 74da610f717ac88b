//! A callback receiver on 127.0.0.1 for the async tests: records every POST (headers and body)
//! and answers with the statuses it was told to, in order (then 200).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// The status it answered.
    pub answered: u16,
}

pub struct CallbackReceiver {
    pub url: String,
    received: Receiver<Received>,
}

impl CallbackReceiver {
    /// Listens on a free loopback port; answers `statuses` in order, then 200.
    pub fn start(statuses: &[u16]) -> Self {
        Self::start_at("127.0.0.1:0", statuses)
    }

    /// Listens on `address` (a callback URL given before, on a port freed since).
    pub fn start_at(address: impl std::net::ToSocketAddrs, statuses: &[u16]) -> Self {
        let listener = TcpListener::bind(address).unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        let statuses = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<_>>(),
        ));
        let (sender, received) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let mut headers = BTreeMap::new();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                    }
                }
                let length: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.flush();
                let _ = sender.send(Received {
                    path,
                    headers,
                    body,
                    answered: status,
                });
            }
        });
        CallbackReceiver { url, received }
    }

    /// The next request, within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Received> {
        self.received.recv_timeout(timeout).ok()
    }
}
