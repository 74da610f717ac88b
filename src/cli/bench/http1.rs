//! The load generator's HTTP/1.1 client: a request is built once as bytes and sent with one
//! write on a kept-alive connection; the answer is framed by its `Content-Length` (or chunked
//! encoding, or the connection's end) and only its status is looked at, plus the start of an
//! error's body.
//!
//! The throughput target counts the load generator's CPU ("load generator included"), and a
//! general client spends most of its time per request on what a closed loop of identical
//! requests does not need: parsing the URL, building header maps, buffered readers.
//!
//! Connections are tokio streams: the load generator runs all of them on one thread's event
//! loop (see `load`), as wrk does.

use std::io::ErrorKind;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How much of an error's body the first-error message keeps.
const ERROR_PREVIEW_CHARS: usize = 200;
/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an answer may take (a blocking invoke waits up to 60 s for its result).
const READ_TIMEOUT: Duration = Duration::from_secs(70);

/// One request, ready to send to its server.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// `host:port` to connect to.
    authority: String,
    bytes: Vec<u8>,
}

impl PreparedRequest {
    /// `GET url` (no credentials).
    pub fn get(url: &str) -> Result<Self, String> {
        Self::build("GET", url, &[], None)
    }

    /// `POST url` with a JSON `body` and an `Authorization` header.
    pub fn post(url: &str, authorization: &str, body: &str) -> Result<Self, String> {
        Self::build(
            "POST",
            url,
            &[
                ("Authorization", authorization),
                ("Content-Type", "application/json"),
            ],
            Some(body),
        )
    }

    fn build(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<Self, String> {
        let (authority, path) = split_url(url)?;
        let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            text.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        text.push_str("\r\n");
        if let Some(body) = body {
            text.push_str(body);
        }
        Ok(PreparedRequest {
            authority: authority.to_string(),
            bytes: text.into_bytes(),
        })
    }
}

/// `http://host:port/path?query` split into `host:port` and `/path?query`.
fn split_url(url: &str) -> Result<(&str, &str), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("the load generator speaks plain http:// only, not '{url}' (use an http API host)")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("'{url}' names no host"));
    }
    Ok((authority, path))
}

/// A kept-alive connection to one server, opened on first use and again after the server
/// closed it.
#[derive(Debug, Default)]
pub struct Connection {
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Connection {
    pub fn new() -> Self {
        Connection {
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends `request` and reads its answer to the end: `Ok` for a 2xx status, otherwise the
    /// status and the start of the body. A connection the server had already closed is
    /// reopened once.
    pub async fn exchange(&mut self, request: &PreparedRequest) -> Result<(), String> {
        let reused = self.stream.is_some();
        let outcome = match self.try_exchange(request).await {
            Err(Failure::Stale) if reused => self.try_exchange(request).await,
            outcome => outcome,
        };
        outcome.map_err(Failure::into_message)
    }

    async fn try_exchange(&mut self, request: &PreparedRequest) -> Result<(), Failure> {
        if self.stream.is_none() {
            self.stream = Some(connect(&request.authority).await?);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(Failure::Other("no connection".into()));
        };
        if let Err(err) = stream.write_all(&request.bytes).await {
            self.stream = None;
            return Err(match err.kind() {
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => Failure::Stale,
                _ => Failure::Other(format!("sending the request: {err}")),
            });
        }
        self.buf.clear();
        let outcome = tokio::time::timeout(READ_TIMEOUT, read_answer(stream, &mut self.buf))
            .await
            .unwrap_or_else(|_| Err(Failure::Other("no answer within 70 s".into())));
        match outcome {
            Ok(answer) => {
                if answer.close {
                    self.stream = None;
                }
                if (200..300).contains(&answer.status) {
                    Ok(())
                } else {
                    let body = &self.buf[answer.body_start..];
                    let text = String::from_utf8_lossy(body);
                    let preview: String = text.chars().take(ERROR_PREVIEW_CHARS).collect();
                    Err(Failure::Other(format!("HTTP {}: {preview}", answer.status)))
                }
            }
            Err(failure) => {
                self.stream = None;
                Err(failure)
            }
        }
    }
}

async fn connect(authority: &str) -> Result<TcpStream, Failure> {
    let failed = |err: std::io::Error| Failure::Other(format!("connecting to {authority}: {err}"));
    let addrs = tokio::net::lookup_host(authority).await.map_err(failed)?;
    let mut last = None;
    for addr in addrs {
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .unwrap_or_else(|_| Err(std::io::Error::new(ErrorKind::TimedOut, "timed out")));
        match connected {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(failed)?;
                return Ok(stream);
            }
            Err(err) => last = Some(err),
        }
    }
    Err(failed(last.unwrap_or_else(|| {
        std::io::Error::new(ErrorKind::NotFound, "no address")
    })))
}

/// Why an exchange failed.
#[derive(Debug)]
enum Failure {
    /// The connection ended before any byte of the answer: the server had closed it.
    Stale,
    Other(String),
}

impl Failure {
    fn into_message(self) -> String {
        match self {
            Failure::Stale => "the server closed the connection".into(),
            Failure::Other(message) => message,
        }
    }
}

/// What the head of an answer said.
struct Answer {
    status: u16,
    /// Where the body starts in the buffer (after the head; chunked bodies are decoded in place).
    body_start: usize,
    /// The server will close the connection after this answer.
    close: bool,
}

/// How the body is framed.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads one whole answer into `buf`.
async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Answer, Failure> {
    let head_end = loop {
        if let Some(at) = find(buf, b"\r\n\r\n") {
            break at + 4;
        }
        if fill(stream, buf).await? == 0 {
            return Err(if buf.is_empty() {
                Failure::Stale
            } else {
                Failure::Other("the answer ended inside its head".into())
            });
        }
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| Failure::Other("the answer's head is not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| Failure::Other(format!("not an HTTP status line: '{status_line}'")))?;
    let mut framing = Framing::UntilClose;
    let mut close = status_line.starts_with("HTTP/1.0");
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse()
                .map_err(|_| Failure::Other(format!("bad Content-Length '{value}'")))?;
            framing = Framing::Length(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            framing = Framing::Chunked;
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    if status == 204 || status == 304 || (100..200).contains(&status) {
        framing = Framing::Length(0);
    }
    match framing {
        Framing::Length(length) => {
            while buf.len() < head_end + length {
                if fill(stream, buf).await? == 0 {
                    return Err(Failure::Other("the answer ended inside its body".into()));
                }
            }
        }
        Framing::Chunked => read_chunked(stream, buf, head_end).await?,
        Framing::UntilClose => {
            while fill(stream, buf).await? != 0 {}
            close = true;
        }
    }
    Ok(Answer {
        status,
        body_start: head_end,
        close,
    })
}

/// Reads a chunked body that starts at `body_start` and leaves it decoded there.
async fn read_chunked(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    body_start: usize,
) -> Result<(), Failure> {
    let mut body = Vec::new();
    let mut at = body_start;
    loop {
        let line_end = loop {
            if let Some(end) = find(&buf[at..], b"\r\n") {
                break at + end;
            }
            if fill(stream, buf).await? == 0 {
                return Err(Failure::Other(
                    "the answer ended inside a chunk size".into(),
                ));
            }
        };
        let size_text = std::str::from_utf8(&buf[at..line_end]).unwrap_or_default();
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| Failure::Other(format!("bad chunk size '{size_text}'")))?;
        let data_start = line_end + 2;
        // The chunk, then its CRLF (for the last chunk: the CRLF that ends the trailers).
        while buf.len() < data_start + size + 2 {
            if fill(stream, buf).await? == 0 {
                return Err(Failure::Other("the answer ended inside a chunk".into()));
            }
        }
        if size == 0 {
            break;
        }
        body.extend_from_slice(&buf[data_start..data_start + size]);
        at = data_start + size + 2;
    }
    buf.truncate(body_start);
    buf.extend_from_slice(&body);
    Ok(())
}

/// Reads what the socket has into the end of `buf`; 0 at the end of the stream.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, Failure> {
    let empty = buf.is_empty();
    buf.reserve(16 * 1024);
    loop {
        match stream.read_buf(buf).await {
            Ok(read) => return Ok(read),
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) if err.kind() == ErrorKind::ConnectionReset && empty => return Ok(0),
            Err(err) => return Err(Failure::Other(format!("reading the answer: {err}"))),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::test_http::read_request;
    use std::io::{BufReader, Write};
    use std::net::TcpListener;

    /// The event loop a test's connection lives on (a tokio stream stays with its runtime).
    fn event_loop() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A server that reads one request per answer in `answers` on a single connection (then
    /// closes it) and hands back the requests it read.
    fn serve(answers: Vec<&'static str>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut requests = Vec::new();
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            for answer in answers {
                let request = read_request(&mut reader).unwrap();
                requests.push(format!("{}\r\n{}", request.head, request.body));
                writer.write_all(answer.as_bytes()).unwrap();
            }
            requests
        });
        (base, handle)
    }

    #[test]
    fn a_post_is_one_complete_request_and_its_answer_is_read_to_the_end() {
        let (base, server) = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"ok\":true}",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        ]);
        let request =
            PreparedRequest::post(&format!("{base}/api/v1/x?blocking=true"), "Basic abc", "{}")
                .unwrap();
        let mut connection = Connection::new();
        let runtime = event_loop();
        runtime.block_on(connection.exchange(&request)).unwrap();
        runtime.block_on(connection.exchange(&request)).unwrap();
        let requests = server.join().unwrap();
        assert_eq!(requests.len(), 2, "both on one kept-alive connection");
        let authority = base.trim_start_matches("http://");
        assert_eq!(
            requests[0],
            format!(
                "POST /api/v1/x?blocking=true HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic abc\r\n\
                 Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
            )
        );
    }

    #[test]
    fn chunked_answers_are_read_whole_and_errors_keep_their_body() {
        let (base, server) = serve(vec![
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
            "HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"error\r\n3\r\n\":1\r\n1\r\n}\r\n0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ]);
        let request = PreparedRequest::get(&format!("{base}/api/v1")).unwrap();
        let mut connection = Connection::new();
        let runtime = event_loop();
        runtime.block_on(connection.exchange(&request)).unwrap();
        let error = runtime.block_on(connection.exchange(&request)).unwrap_err();
        assert_eq!(error, "HTTP 429: {\"error\":1}");
        runtime.block_on(connection.exchange(&request)).unwrap();
        assert_eq!(server.join().unwrap().len(), 3);
    }

    #[test]
    fn a_connection_the_server_closed_is_opened_again() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            ] {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                read_request(&mut reader).unwrap();
                (&stream).write_all(answer.as_bytes()).unwrap();
            }
        });
        let request = PreparedRequest::get(&format!("{base}/")).unwrap();
        let mut connection = Connection::new();
        let runtime = event_loop();
        runtime.block_on(connection.exchange(&request)).unwrap();
        runtime.block_on(connection.exchange(&request)).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn a_server_that_hangs_up_mid_answer_is_an_error_not_a_success() {
        let (base, server) = serve(vec!["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"]);
        let request = PreparedRequest::get(&format!("{base}/")).unwrap();
        let mut connection = Connection::new();
        let runtime = event_loop();
        let error = runtime.block_on(connection.exchange(&request)).unwrap_err();
        assert!(error.contains("inside its body"), "{error}");
        server.join().unwrap();
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_taken() {
        assert!(PreparedRequest::get("https://h/x")
            .unwrap_err()
            .contains("http:// only"));
        assert!(PreparedRequest::get("http:///x").is_err());
        let request = PreparedRequest::get("http://127.0.0.1:1").unwrap();
        assert_eq!(request.authority, "127.0.0.1:1");
        assert!(String::from_utf8(request.bytes)
            .unwrap()
            .starts_with("GET / HTTP/1.1\r\n"));
    }
}
