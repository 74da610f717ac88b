//! Test support for the CLI's HTTP clients (`client.rs`, `bench/http1.rs`, `bench/load.rs`):
//! reading one HTTP/1.1 request off a loopback connection that a test serves canned answers on.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;

/// One request as it came over the wire.
pub struct ReadRequest {
    /// The request line and the headers, each with its CRLF, without the blank line.
    pub head: String,
    pub body: String,
}

/// Reads the next request (its body by `Content-Length`); `None` once the client hung up.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<ReadRequest> {
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        head.push_str(&line);
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(ReadRequest {
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
