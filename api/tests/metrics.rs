//! `/metrics` against a real platform: the exposition parses (every sample belongs to a family
//! with a `# TYPE`, histograms are cumulative and end in `+Inf` = `_count`), and invoking
//! actions moves the gateway counters and histograms, cold and warm starts, the pool, the
//! controller and the log writer by exactly what was done; over a real nats-server, the bus's
//! messages and round trips are reported too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::nats::NatsServer;
use common::{python, test_options, Client, TestServer};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One parsed exposition: samples by name and labels, families by name with their type.
#[derive(Debug)]
struct Exposition {
    samples: BTreeMap<(String, BTreeMap<String, String>), f64>,
    types: BTreeMap<String, String>,
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return labels;
        }
        assert_eq!(chars.next(), Some('"'), "label {name} in {text}");
        let mut value = String::new();
        loop {
            match chars.next().expect("unterminated label value") {
                '\\' => match chars.next().unwrap() {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(name, value);
        match chars.next() {
            Some(',') => {}
            None => return labels,
            Some(other) => panic!("unexpected {other:?} in labels {text}"),
        }
    }
}

fn parse(text: &str) -> Exposition {
    let mut samples = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{name} typed twice"
            );
            continue;
        }
        if line.starts_with("# HELP ") || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, parse_labels(labels.strip_suffix('}').unwrap())),
            None => (series, BTreeMap::new()),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name {name}"
        );
        assert!(
            samples.insert((name.to_owned(), labels), value).is_none(),
            "duplicate sample {line}"
        );
    }
    let exposition = Exposition { samples, types };
    exposition.check_families();
    exposition
}

impl Exposition {
    /// Every sample belongs to a typed family; every histogram series is cumulative and its
    /// `+Inf` bucket equals its `_count`.
    fn check_families(&self) {
        for (name, labels) in self.samples.keys() {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix).filter(|base| {
                        self.types.get(*base).map(String::as_str) == Some("histogram")
                    })
                })
                .unwrap_or(name);
            assert!(self.types.contains_key(family), "{name} has no # TYPE");
            if name.ends_with("_bucket") {
                assert!(labels.contains_key("le"), "{name} {labels:?} has no le");
            }
        }
        for (family, kind) in &self.types {
            if kind != "histogram" {
                continue;
            }
            for ((name, labels), count) in &self.samples {
                if name != &format!("{family}_count") {
                    continue;
                }
                let buckets = self.buckets(family, labels);
                assert!(!buckets.is_empty(), "{family} {labels:?} has no buckets");
                assert!(
                    buckets
                        .windows(2)
                        .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                    "{family} {labels:?} not cumulative: {buckets:?}"
                );
                let (last_bound, last_count) = *buckets.last().unwrap();
                assert!(last_bound.is_infinite(), "{family} ends at {last_bound}");
                assert_eq!(last_count, *count, "{family} {labels:?}: +Inf != _count");
            }
        }
    }

    /// The buckets of one histogram series, in bound order (`+Inf` last).
    fn buckets(&self, family: &str, labels: &BTreeMap<String, String>) -> Vec<(f64, f64)> {
        let mut buckets: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|((name, bucket_labels), _)| {
                name == &format!("{family}_bucket") && {
                    let mut without_le = (*bucket_labels).clone();
                    without_le.remove("le");
                    &without_le == labels
                }
            })
            .map(|((_, bucket_labels), count)| {
                let le = &bucket_labels["le"];
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (bound, *count)
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets
    }

    /// A sample's value (0 when the series is absent).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .get(&(name.to_owned(), labels))
            .copied()
            .unwrap_or(0.0)
    }

    fn has(&self, name: &str) -> bool {
        self.samples.keys().any(|(sample, _)| sample == name)
    }
}

fn scrape(client: &Client) -> Exposition {
    let reply = client.get("/metrics");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    parse(&reply.text)
}

/// Scrapes until `ready` holds (the per-function metrics follow the log a moment behind).
fn scrape_until(client: &Client, ready: impl Fn(&Exposition) -> bool) -> Exposition {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let exposition = scrape(client);
        if ready(&exposition) {
            return exposition;
        }
        assert!(
            Instant::now() < deadline,
            "metrics did not move: {exposition:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn invocations_move_the_gateway_pool_controller_and_log_metrics() {
    let server = TestServer::start();
    let guest = server.guest();
    let anonymous = server.anonymous();
    let put = guest.put(
        "/api/v1/namespaces/_/actions/hello",
        &python("import time\ndef main(a):\n    time.sleep(0.03)\n    return {'ok': True}"),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let put = guest.put(
        "/api/v1/namespaces/_/actions/fails",
        &python("def main(a):\n    return {'error': 'no'}"),
    );
    assert_eq!(put.status, 200, "{}", put.text);

    // Loopback peers need no credentials.
    let before = scrape(&anonymous);
    assert_eq!(
        before.value(
            "gateway_function_invocation_total",
            &[("function_name", "hello.guest"), ("code", "200")]
        ),
        0.0
    );
    assert_eq!(before.types["gateway_functions_seconds"], "histogram");
    assert_eq!(before.types["gateway_function_invocation_total"], "counter");
    assert_eq!(before.types["gateway_service_count"], "gauge");
    assert!(
        !before.has("whirl_nats_round_trip_seconds_count"),
        "no NATS here"
    );
    let appends_before = before.value("whirl_log_appends_total", &[]);
    let append_latencies_before = before.value("whirl_log_append_seconds_count", &[]);
    let accepted_before = before.value(
        "whirl_controller_invocations_total",
        &[("outcome", "accepted")],
    );

    for _ in 0..3 {
        let reply = guest.post(
            "/api/v1/namespaces/_/actions/hello?blocking=true",
            &json!({}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/fails?blocking=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502, "{}", reply.text);

    let hello = [("function_name", "hello.guest"), ("code", "200")];
    let fails = [("function_name", "fails.guest"), ("code", "500")];
    let after = scrape_until(&anonymous, |m| {
        m.value("gateway_function_invocation_total", &hello) == 3.0
            && m.value("gateway_function_invocation_total", &fails) == 1.0
    });

    // The process collector's usual families.
    assert_eq!(after.types["process_cpu_seconds_total"], "counter");
    assert_eq!(after.types["process_resident_memory_bytes"], "gauge");
    let cpu_before = before.value("process_cpu_seconds_total", &[]);
    let cpu_after = after.value("process_cpu_seconds_total", &[]);
    assert!(
        cpu_after > 0.0 && cpu_after >= cpu_before,
        "CPU seconds {cpu_before} then {cpu_after}"
    );
    assert!(after.value("process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert!(
        after.value("process_virtual_memory_bytes", &[])
            >= after.value("process_resident_memory_bytes", &[])
    );
    assert!(after.value("process_threads", &[]) >= 2.0);
    let open_fds = after.value("process_open_fds", &[]);
    assert!(open_fds >= 3.0 && open_fds <= after.value("process_max_fds", &[]));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = after.value("process_start_time_seconds", &[]);
    assert!(
        (now - 86_400.0..=now + 1.0).contains(&started),
        "started at {started}, now {now}"
    );

    // OpenFaaS's gateway metrics.
    assert_eq!(
        after.value(
            "gateway_function_invocation_started",
            &[("function_name", "hello.guest")]
        ),
        3.0
    );
    assert_eq!(
        after.value(
            "gateway_function_invocation_started",
            &[("function_name", "fails.guest")]
        ),
        1.0
    );
    assert_eq!(after.value("gateway_functions_seconds_count", &hello), 3.0);
    let seconds = after.value("gateway_functions_seconds_sum", &hello);
    assert!(
        (0.09..30.0).contains(&seconds),
        "3 runs of >= 30 ms took {seconds} s"
    );
    let buckets = after.buckets(
        "gateway_functions_seconds",
        &hello
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    assert_eq!(
        buckets.first().unwrap(),
        &(0.005, 0.0),
        "every run took over 5 ms"
    );
    assert_eq!(after.value("gateway_functions_seconds_count", &fails), 1.0);
    assert_eq!(
        after.value("gateway_service_count", &[("function_name", "hello.guest")]),
        1.0,
        "one container serves the three sequential calls"
    );

    // Cold and warm starts: the first call initialized the container.
    let starts = |name, start| {
        after.value(
            "whirl_function_starts_total",
            &[("function_name", name), ("start", start)],
        )
    };
    assert_eq!(
        (starts("hello.guest", "cold"), starts("hello.guest", "warm")),
        (1.0, 2.0)
    );
    assert_eq!(starts("fails.guest", "cold"), 1.0);
    assert_eq!(
        after.value(
            "whirl_function_init_seconds_count",
            &[("function_name", "hello.guest")]
        ),
        1.0
    );
    assert_eq!(
        after.value("whirl_activations_total", &[("status", "success")]),
        3.0
    );
    assert_eq!(
        after.value(
            "whirl_activations_total",
            &[("status", "application error")]
        ),
        1.0
    );

    // The pool, the controller, the log.
    let containers: f64 = ["starting", "prewarmed", "running", "ready", "paused"]
        .iter()
        .map(|state| after.value("whirl_pool_containers", &[("state", state)]))
        .sum();
    assert!(
        containers >= 2.0,
        "hello's and fails' containers: {containers}"
    );
    assert_eq!(
        after.value("whirl_pool_containers", &[("state", "running")]),
        0.0
    );
    assert_eq!(after.value("whirl_pool_queue_depth", &[]), 0.0);
    assert!(after.value("whirl_pool_events_total", &[("event", "cold_start")]) >= 2.0);
    assert!(after.value("whirl_pool_events_total", &[("event", "warm_start")]) >= 2.0);
    assert_eq!(
        after.value(
            "whirl_controller_invocations_total",
            &[("outcome", "accepted")]
        ) - accepted_before,
        4.0
    );
    // Each blocking invocation appends its record (its acceptance goes with it): at least 4 more
    // durable appends.
    assert!(after.value("whirl_log_appends_total", &[]) - appends_before >= 4.0);
    assert!(after.value("whirl_log_append_seconds_count", &[]) - append_latencies_before >= 4.0);
    assert!(after.value("whirl_log_flush_seconds_count", &[]) >= 1.0);
    assert!(after.value("whirl_log_head_seq", &[]) >= after.value("whirl_log_records_total", &[]));

    // The OpenAPI document describes the route and its security.
    let docs = anonymous.get("/api/v1/api-docs");
    assert_eq!(
        docs.json["paths"]["/metrics"]["get"]["security"],
        json!([{}, {"metricsToken": []}])
    );
}

#[test]
fn over_nats_the_bus_messages_and_round_trips_are_reported() {
    let nats = NatsServer::start();
    let server = TestServer::start_with(api::PlatformOptions {
        nats: Some(nats.url.clone()),
        ..test_options()
    });
    let guest = server.guest();
    let put = guest.put(
        "/api/v1/namespaces/_/actions/echo",
        &python("def main(a):\n    return a"),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/echo?blocking=true",
        &json!({"x": 1}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);

    let metrics = scrape_until(&server.anonymous(), |m| {
        m.value("whirl_nats_round_trip_seconds_count", &[]) >= 1.0
            && m.value(
                "gateway_function_invocation_total",
                &[("function_name", "echo.guest"), ("code", "200")],
            ) == 1.0
    });
    // The controller and the invoker share this process's connection: the activation went out
    // and came back in, and so did its completion.
    for kind in ["activation", "completion"] {
        assert!(
            metrics.value("whirl_nats_messages_published_total", &[("kind", kind)]) >= 1.0,
            "{kind}"
        );
        assert!(
            metrics.value("whirl_nats_messages_received_total", &[("kind", kind)]) >= 1.0,
            "{kind}"
        );
    }
    assert!(metrics.value("whirl_nats_messages_published_total", &[("kind", "ping")]) >= 1.0);
    assert_eq!(metrics.value("whirl_nats_decode_failures_total", &[]), 0.0);
    assert_eq!(metrics.value("whirl_nats_probe_failures_total", &[]), 0.0);
    let round_trips = metrics.value("whirl_nats_round_trip_seconds_sum", &[]);
    assert!(
        round_trips < 1.0,
        "loopback round trips took {round_trips} s"
    );
}

#[test]
fn peers_off_loopback_need_the_metrics_token() {
    use actix_web::test::{call_service, init_service, read_body, TestRequest};
    let dir = tempfile::tempdir().unwrap();
    actix_rt::System::new().block_on(async move {
        let mut options = test_options();
        options.api.metrics_token = Some(api::metrics::MetricsToken::new("s3cret"));
        let platform = api::Platform::start(&dir.path().join("data"), options)
            .await
            .unwrap();
        let with_token = platform.state().clone();
        let mut without_token = with_token.clone();
        without_token.config = std::sync::Arc::new(api::ApiConfig {
            metrics_token: None,
            ..(*with_token.config).clone()
        });
        // The same app `whirl serve` runs, called in-process with the peer a request would have.
        let app = init_service(api::app(with_token)).await;
        let closed = init_service(api::app(without_token)).await;
        let remote: std::net::SocketAddr = "10.1.2.3:40000".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let ask = |peer, authorization: Option<&str>| {
            let mut request = TestRequest::get().uri("/metrics").peer_addr(peer);
            if let Some(value) = authorization {
                request = request.insert_header(("Authorization", value.to_owned()));
            }
            request.to_request()
        };

        assert_eq!(call_service(&app, ask(remote, None)).await.status(), 401);
        assert_eq!(
            call_service(&app, ask(remote, Some("Bearer wrong")))
                .await
                .status(),
            401
        );
        let admitted = call_service(&app, ask(remote, Some("Bearer s3cret"))).await;
        assert_eq!(admitted.status(), 200);
        let text = String::from_utf8(read_body(admitted).await.to_vec()).unwrap();
        assert_eq!(
            parse(&text).types["gateway_function_invocation_total"],
            "counter"
        );
        assert_eq!(call_service(&app, ask(local, None)).await.status(), 200);

        // Without a configured token, only loopback peers are served.
        assert_eq!(
            call_service(&closed, ask(remote, Some("Bearer s3cret")))
                .await
                .status(),
            403
        );
        assert_eq!(call_service(&closed, ask(local, None)).await.status(), 200);

        platform.handle().stop(false).await;
        platform.wait().await.unwrap();
    });
}
