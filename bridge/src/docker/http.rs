//! Plain HTTP/1.1 to a container's port 8080 (OpenWhisk's `/init` and `/run` protocol of
//! blackbox images, and a function's request forwarded to an OpenFaaS of-watchdog in `http`
//! mode): one connection per request, a bounded answer, and waiting for the port.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What a request produced.
#[derive(Debug)]
pub(crate) enum HttpOutcome {
    Answered {
        status: u16,
        body: String,
    },
    /// The answer exceeded the limit (its declared size when known).
    TooLarge {
        size: usize,
    },
    /// The connection failed or closed before a whole answer: the server died.
    Failed(String),
    TimedOut,
}

/// POSTs `body` as JSON to `http://addr{path}` and reads at most `limit` bytes of the answer.
pub(crate) async fn post_json(
    addr: SocketAddr,
    path: &str,
    body: String,
    limit: usize,
    timeout: Duration,
) -> HttpOutcome {
    match tokio::time::timeout(timeout, exchange(addr, path, body, limit)).await {
        Ok(outcome) => outcome,
        Err(_) => HttpOutcome::TimedOut,
    }
}

async fn exchange(addr: SocketAddr, path: &str, body: String, limit: usize) -> HttpOutcome {
    let stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(error) => return HttpOutcome::Failed(format!("cannot connect to {addr}: {error}")),
    };
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(error) => return HttpOutcome::Failed(format!("HTTP handshake: {error}")),
        };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::post(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)));
    let request = match request {
        Ok(request) => request,
        Err(error) => return HttpOutcome::Failed(format!("building the request: {error}")),
    };
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(error) => return HttpOutcome::Failed(format!("no answer: {error}")),
    };
    let status = response.status().as_u16();
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|size| *size > limit) {
        return HttpOutcome::TooLarge { size };
    }
    match Limited::new(response.into_body(), limit).collect().await {
        Ok(collected) => HttpOutcome::Answered {
            status,
            body: String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        },
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            HttpOutcome::TooLarge { size: limit + 1 }
        }
        Err(error) => HttpOutcome::Failed(format!("reading the answer: {error}")),
    }
}

/// Waits until something accepts connections on `addr`; false after `timeout`.
pub(crate) async fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    while start.elapsed() < timeout {
        if TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    false
}

/// What a forwarded request produced.
#[derive(Debug)]
pub(crate) enum ForwardOutcome {
    Answered {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    TooLarge {
        size: usize,
    },
    Failed(String),
    TimedOut,
}

/// Headers not passed along (hop-by-hop).
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "upgrade"
            | "content-length"
            | "host"
    )
}

/// Sends `method path` with `headers` and `body` to `addr` and reads at most `limit` bytes.
pub(crate) async fn forward(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    limit: usize,
    timeout: Duration,
) -> ForwardOutcome {
    let exchange = async {
        let stream = match TcpStream::connect(addr).await {
            Ok(stream) => stream,
            Err(error) => {
                return ForwardOutcome::Failed(format!("cannot connect to {addr}: {error}"))
            }
        };
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) =
            match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                Ok(pair) => pair,
                Err(error) => return ForwardOutcome::Failed(format!("HTTP handshake: {error}")),
            };
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string());
        for (name, value) in headers.iter().filter(|(name, _)| !hop_by_hop(name)) {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = match request.body(Full::new(Bytes::from(body))) {
            Ok(request) => request,
            Err(error) => return ForwardOutcome::Failed(format!("building the request: {error}")),
        };
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(error) => return ForwardOutcome::Failed(format!("no answer: {error}")),
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| !hop_by_hop(name.as_str()))
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|value| (name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        match Limited::new(response.into_body(), limit).collect().await {
            Ok(collected) => ForwardOutcome::Answered {
                status,
                headers,
                body: collected.to_bytes().to_vec(),
            },
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                ForwardOutcome::TooLarge { size: limit + 1 }
            }
            Err(error) => ForwardOutcome::Failed(format!("reading the answer: {error}")),
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => ForwardOutcome::TimedOut,
    }
}
