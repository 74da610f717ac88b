//! The HTTP load generator: `concurrency` keep-alive connections (`http1::Connection`), each
//! sending the same request shape in a closed loop, all on one thread's event loop (as wrk runs
//! its connections): the thread sleeps only when every connection waits for its answer, where a
//! thread per connection woke once per answer. A warm-up, then a measured window that ends after
//! a duration or a total count, with the CPU meter read at both its ends.

use super::cpu::CpuMeter;
use super::http1::{Connection, PreparedRequest};
use super::stats::PhaseStats;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// What each request is.
#[derive(Debug, Clone)]
pub enum Request {
    /// `GET url` (no auth).
    Get { url: String },
    /// `POST url` with a JSON body and Basic auth; `urls` are taken round-robin.
    Post {
        urls: Vec<String>,
        authorization: String,
        body: String,
    },
}

/// When the measured window ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    Count(u64),
}

/// Runs one phase: warm-up for `warmup`, then measure until `stop`, reading `meter` when the
/// window opens and when it closes.
pub fn run(
    request: &Request,
    concurrency: usize,
    warmup: Duration,
    stop: Stop,
    meter: &CpuMeter,
) -> PhaseStats {
    let concurrency = concurrency.max(1);
    let barrier = Arc::new(Barrier::new(2));
    let generator = {
        let request = request.clone();
        let barrier = barrier.clone();
        std::thread::spawn(move || generate(&request, concurrency, &barrier, warmup, stop))
    };
    barrier.wait();
    let started = Instant::now();
    std::thread::sleep(warmup);
    let opened = meter.read();
    let closed = match stop {
        Stop::After(duration) => Some(meter.read_after(duration)),
        Stop::Count(_) => None,
    };
    let parts = generator
        .join()
        .unwrap_or_else(|_| vec![failed("the load generator's thread panicked".into())]);
    let cpu = opened.until(&closed.unwrap_or_else(|| meter.read()));
    // Timed: every connection measured exactly that window. Counted: from the end of the
    // warm-up until the last connection finished.
    let window = match stop {
        Stop::After(duration) => duration,
        Stop::Count(_) => started.elapsed().saturating_sub(warmup),
    }
    .max(Duration::from_millis(1));
    PhaseStats::merge(parts, window, cpu)
}

/// Stats holding only an error.
fn failed(error: String) -> PhaseStats {
    PhaseStats {
        errors: 1,
        first_error: Some(error),
        ..PhaseStats::default()
    }
}

/// The event loop of the phase: one task per connection; their stats.
fn generate(
    request: &Request,
    concurrency: usize,
    barrier: &Barrier,
    warmup: Duration,
    stop: Stop,
) -> Vec<PhaseStats> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let prepared = prepare(request);
    barrier.wait();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => return vec![failed(format!("cannot start the event loop: {error}"))],
    };
    let prepared = match prepared {
        Ok(prepared) => Rc::new(prepared),
        Err(error) => return vec![failed(error)],
    };
    let issued = Rc::new(Cell::new(0u64));
    let measure_from = Instant::now() + warmup;
    tokio::task::LocalSet::new().block_on(&runtime, async {
        let connections: Vec<_> = (0..concurrency)
            .map(|worker| {
                tokio::task::spawn_local(work(
                    Rc::clone(&prepared),
                    worker,
                    concurrency,
                    Rc::clone(&issued),
                    measure_from,
                    stop,
                ))
            })
            .collect();
        let mut parts = Vec::with_capacity(concurrency);
        for connection in connections {
            parts.push(
                connection
                    .await
                    .unwrap_or_else(|error| failed(format!("a connection's task failed: {error}"))),
            );
        }
        parts
    })
}

/// One connection's closed loop.
async fn work(
    prepared: Rc<Vec<PreparedRequest>>,
    worker: usize,
    concurrency: usize,
    issued: Rc<Cell<u64>>,
    measure_from: Instant,
    stop: Stop,
) -> PhaseStats {
    let mut stats = PhaseStats::default();
    let mut connection = Connection::new();
    let mut turn = worker;
    loop {
        let now = Instant::now();
        let measuring = now >= measure_from;
        if measuring {
            match stop {
                Stop::After(duration) if now >= measure_from + duration => break,
                Stop::Count(count) => {
                    let sent = issued.get();
                    if sent >= count {
                        break;
                    }
                    issued.set(sent + 1);
                }
                _ => {}
            }
        }
        let sent = Instant::now();
        let outcome = connection.exchange(&prepared[turn % prepared.len()]).await;
        let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        turn += concurrency;
        if !measuring {
            continue;
        }
        match outcome {
            Ok(()) => stats.micros.push(micros),
            Err(error) => {
                stats.errors += 1;
                if stats.first_error.is_none() {
                    stats.first_error = Some(error);
                }
            }
        }
    }
    stats
}

/// The requests a worker sends, built once: `Post`'s URLs are taken round-robin.
fn prepare(request: &Request) -> Result<Vec<PreparedRequest>, String> {
    match request {
        Request::Get { url } => Ok(vec![PreparedRequest::get(url)?]),
        Request::Post {
            urls,
            authorization,
            body,
        } => {
            if urls.is_empty() {
                return Err("no URL to send requests to".into());
            }
            urls.iter()
                .map(|url| PreparedRequest::post(url, authorization, body))
                .collect()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::test_http::read_request;
    use std::io::{BufReader, Write};
    use std::net::TcpListener;

    /// A keep-alive server answering every request with 200 `{}`, or 429 for paths holding "busy".
    fn server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let stream = stream.unwrap();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    while let Some(request) = read_request(&mut reader) {
                        let first = request.head.lines().next().unwrap_or_default();
                        let status = if first.contains("busy") {
                            "429 Too Many Requests"
                        } else {
                            "200 OK"
                        };
                        let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\n\r\n{{}}");
                        if writer.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        base
    }

    #[test]
    fn a_count_bounded_phase_sends_exactly_that_many_measured_requests() {
        let base = server();
        let request = Request::Post {
            urls: vec![format!("{base}/a"), format!("{base}/b")],
            authorization: "Basic x".into(),
            body: "{}".into(),
        };
        let stats = run(
            &request,
            3,
            Duration::ZERO,
            Stop::Count(90),
            &CpuMeter::none(),
        );
        assert_eq!(stats.micros.len(), 90);
        assert_eq!(stats.errors, 0);
        assert!(stats.summary().per_second > 0.0);
    }

    #[test]
    fn failures_are_counted_and_the_first_is_kept() {
        let base = server();
        let request = Request::Get {
            url: format!("{base}/busy"),
        };
        let stats = run(
            &request,
            2,
            Duration::ZERO,
            Stop::Count(10),
            &CpuMeter::none(),
        );
        assert_eq!(stats.errors, 10);
        assert!(stats.micros.is_empty());
        assert!(stats.first_error.unwrap().starts_with("HTTP 429"));
    }

    #[test]
    fn a_timed_phase_ends_after_its_window() {
        let base = server();
        let request = Request::Get {
            url: format!("{base}/api/v1"),
        };
        let started = Instant::now();
        let stats = run(
            &request,
            2,
            Duration::from_millis(50),
            Stop::After(Duration::from_millis(200)),
            &CpuMeter::none(),
        );
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!stats.micros.is_empty());
        assert_eq!(stats.window, Duration::from_millis(200));
    }
}
