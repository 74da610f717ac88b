//! `whirl serve` killed with SIGKILL while non-blocking invocations pour in, then started again
//! on the same data directory: every invocation that was answered 202 has exactly one activation
//! record afterwards (its result if it finished before the kill, a whisk internal error if the
//! kill cut it short), and the restarted server runs new invocations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use serde_json::{json, Value};
use server::Server;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sleeps a little so that some runs are in flight when the server is killed.
const SLOW: &str =
    "import time\ndef main(args):\n    time.sleep(0.03)\n    return {'n': args.get('n')}\n";

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
}

fn basic(auth: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(auth)
    )
}

/// Every record of the namespace, as activation id → how many records carry it.
fn records(apihost: &str, auth: &str) -> BTreeMap<String, Vec<Value>> {
    let agent = agent();
    let mut all: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut skip = 0;
    loop {
        let page: Vec<Value> = agent
            .get(&format!(
                "{apihost}/api/v1/namespaces/_/activations?limit=200&skip={skip}&docs=true"
            ))
            .set("Authorization", &basic(auth))
            .call()
            .unwrap()
            .into_string()
            .map(|body| serde_json::from_str(&body).unwrap())
            .unwrap();
        let n = page.len();
        for record in page {
            let id = record["activationId"].as_str().unwrap().to_owned();
            all.entry(id).or_default().push(record);
        }
        if n < 200 {
            return all;
        }
        skip += n;
    }
}

#[test]
fn every_invocation_answered_202_has_one_record_after_a_kill_and_a_restart() {
    // OpenWhisk's default throttles (60 invocations a minute) would refuse most of the load.
    let mut server = Server::start_with(&[
        "--invocations-per-minute",
        "1000000",
        "--concurrent-invocations",
        "100000",
    ]);
    let slow = server.file("slow.py", SLOW);
    server.ok(&["action", "create", "slow", slow.to_str().unwrap()]);

    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|thread| {
            let (apihost, auth) = (server.apihost.clone(), server.auth.clone());
            let (accepted, stop) = (accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let sent = agent
                        .post(&format!(
                            "{apihost}/api/v1/namespaces/_/actions/slow?blocking=false"
                        ))
                        .set("Authorization", &basic(&auth))
                        .set("Content-Type", "application/json")
                        .send_string(&json!({"n": thread * 100_000 + n}).to_string());
                    n += 1;
                    match sent {
                        Ok(response) => {
                            assert_eq!(response.status(), 202);
                            let body: Value =
                                serde_json::from_str(&response.into_string().unwrap()).unwrap();
                            let id = body["activationId"].as_str().unwrap().to_owned();
                            accepted.lock().unwrap().push(id);
                        }
                        Err(ureq::Error::Status(status, response)) => panic!(
                            "invocation refused: {status} {}",
                            response.into_string().unwrap_or_default()
                        ),
                        // The server is gone: nothing was acknowledged for this one.
                        Err(ureq::Error::Transport(_)) => return,
                    }
                }
            })
        })
        .collect();

    // Kill it once enough invocations were acknowledged that some are still queued or running.
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < 150 {
        assert!(Instant::now() < deadline, "too few invocations accepted");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill_and_restart();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.join().unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();

    // Records are written as the restarted server ends what the killed one left.
    let deadline = Instant::now() + Duration::from_secs(30);
    let all = loop {
        let all = records(&server.apihost, &server.auth);
        if accepted.iter().all(|id| all.contains_key(id)) {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged invocations have no record",
            accepted.iter().filter(|id| !all.contains_key(*id)).count(),
            accepted.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut lost = 0;
    for id in &accepted {
        let records = &all[id];
        assert_eq!(records.len(), 1, "{id} has {} records", records.len());
        let response = &records[0]["response"];
        match response["status"].as_str().unwrap() {
            "success" => {}
            "whisk internal error" => {
                assert_eq!(
                    response["result"]["error"],
                    "Whirl restarted before the activation finished."
                );
                lost += 1;
            }
            other => panic!("{id} ended as {other}: {response}"),
        }
    }
    eprintln!(
        "{} acknowledged, {lost} cut short by the kill",
        accepted.len()
    );
    // The kill came with work queued behind four slow runs, so some were cut short.
    assert!(lost > 0, "no invocation was in flight at the kill");
    assert!(lost < accepted.len(), "nothing ran before the kill");

    // And the restarted server works.
    assert_eq!(
        server.ok(&["action", "invoke", "slow", "-p", "n", "7", "-r"]),
        "{\n  \"n\": 7\n}\n"
    );
}
