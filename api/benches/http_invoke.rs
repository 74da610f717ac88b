//! Warm blocking invocations over HTTP against the same platform driven directly through its
//! controller actor, in one process and one run, so the API's own cost shows as the difference:
//!
//! - "HTTP floor": `GET /api/v1` (the HTTP stack alone);
//! - "actors, durable": `Invoke` to the controller, until the activation record is durable (what a
//!   blocking HTTP call waits for, without HTTP, authentication, lookup or JSON);
//! - "HTTP invoke": `POST .../actions/noop?blocking=true&result=true` with Basic auth.
//!
//! Each at concurrency 1 and 8 (one keep-alive connection per client thread).
//! Run: `cargo bench -p api --bench http_invoke` (WHIRL_BENCH_SECONDS per phase, default 4;
//! WHIRL_BENCH_HTTP_WORKERS, default `whirl serve`'s: 0, HTTP on the platform thread).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actors::controller_actor::InvokeBlocking;
use actors::core::controller::ControllerConfig;
use actors::core::throttle::ThrottleConfig;
use api::{ApiState, Platform, PlatformOptions};
use base64::Engine;
use bridge::bus::ActivationMessage;
use std::net::SocketAddr;

use store::{ActivationId, ChangedBy, JsonText};

mod common;

use common::run;

fn main() {
    let seconds: f64 = std::env::var("WHIRL_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    let http_workers: usize = std::env::var("WHIRL_BENCH_HTTP_WORKERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(PlatformOptions::default().http_workers);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        actix_rt::System::new().block_on(async move {
            let options = PlatformOptions {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                handle_signals: false,
                http_workers,
                stem_cells: Vec::new(),
                user_memory_mb: 8192,
                controller: ControllerConfig {
                    throttles: ThrottleConfig {
                        invocations_per_minute: u32::MAX,
                        concurrent_invocations: 10_000,
                        fires_per_minute: u32::MAX,
                    },
                    ..ControllerConfig::default()
                },
                ..PlatformOptions::default()
            };
            let platform = Platform::start(&data_dir, options).await.unwrap();
            let guest = platform.guest().unwrap().credentials.clone();
            ready_tx
                .send((platform.url(), guest, platform.state().clone()))
                .unwrap();
            let _ = stop_rx.await;
            platform.handle().stop(false).await;
            let _ = platform.wait().await;
        });
    });
    let (url, guest, state): (String, String, ApiState) = ready_rx.recv().unwrap();
    let authorization = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(&guest)
    );
    let agent = ureq::AgentBuilder::new().build();
    agent
        .put(&format!("{url}/api/v1/namespaces/_/actions/noop"))
        .set("Authorization", &authorization)
        .send_string(r#"{"exec":{"kind":"python:3","code":"def main(a):\n    return {'greeting': 'hi ' + a.get('name', '')}"},"limits":{"memory":128}}"#)
        .unwrap();
    let action = state
        .store
        .projections()
        .action("guest", "noop")
        .unwrap()
        .unwrap();

    println!(
        "{:<34} {:>8} {:>9} {:>8} {:>8} {:>8}",
        "phase", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms"
    );
    let mut phases = Vec::new();
    for threads in [1usize, 8] {
        let floor = run("HTTP floor (GET /api/v1)", threads, seconds, || {
            let agent = ureq::AgentBuilder::new().build();
            let url = format!("{url}/api/v1");
            move || {
                agent.get(&url).call().unwrap().into_string().unwrap();
            }
        });
        floor.print();
        let actors = run("actors, until durable", threads, seconds, || {
            let controller = state.controller.clone();
            let action = action.clone();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            move || {
                let message = ActivationMessage {
                    activation_id: ActivationId::generate(),
                    transaction_id: "bench".into(),
                    invoker: String::new(),
                    action: action.clone(),
                    params: JsonText::parse(r#"{"name":"bench"}"#).unwrap(),
                    subject: "guest".into(),
                    by: ChangedBy::System,
                    api_key: None,
                    blocking: true,
                    cause: None,
                    accepted_at_ms: 0,
                    caused_by: None,
                };
                runtime.block_on(async {
                    let accepted = controller
                        .send(InvokeBlocking { message })
                        .await
                        .unwrap()
                        .unwrap();
                    accepted.result.await.unwrap();
                });
            }
        });
        actors.print();
        let http = run("HTTP invoke (blocking, result)", threads, seconds, || {
            let agent = ureq::AgentBuilder::new().build();
            let url = format!("{url}/api/v1/namespaces/_/actions/noop?blocking=true&result=true");
            let authorization = authorization.clone();
            move || {
                let body = agent
                    .post(&url)
                    .set("Authorization", &authorization)
                    .set("Content-Type", "application/json")
                    .send_string(r#"{"name":"bench"}"#)
                    .unwrap()
                    .into_string()
                    .unwrap();
                assert!(body.contains("hi bench"), "{body}");
            }
        });
        http.print();
        phases.push((actors, http));
    }
    println!();
    for (actors, http) in &phases {
        println!(
            "{}: the API adds {:.3} ms at p50, {:.3} ms at p99; throughput {:.2} x the actors",
            http.name,
            http.at(0.5) - actors.at(0.5),
            http.at(0.99) - actors.at(0.99),
            (http.requests as f64 / http.seconds) / (actors.requests as f64 / actors.seconds)
        );
    }
    drop(state);
    let _ = stop_tx.send(());
    server.join().unwrap();
}
