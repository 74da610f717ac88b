//! The OpenFaaS gateway routes against a real platform on the process backend: deploy, list,
//! read, update and delete functions with a namespace key (and the requests `faas-cli` makes),
//! `/function/{name}` with binary bodies, the watchdog's `Http_*` variables, `Content-Type`,
//! `max_inflight` (429) and `exec_timeout` (408), namespaces, and a function visible through both
//! APIs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, TestServer};
use serde_json::json;

fn deploy(client: &Client, body: serde_json::Value) {
    let reply = client.post("/system/functions", &body);
    assert!(
        matches!(reply.status, 200 | 202),
        "deploy {body}: {} {}",
        reply.status,
        reply.text
    );
}

#[test]
fn functions_deploy_list_update_delete_and_answer_binary_bodies() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();

    // /system/* needs a key: 401 with OpenFaaS's realm.
    let refused = web.get("/system/functions");
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("www-authenticate"),
        Some("Basic realm=\"Restricted\"")
    );

    // faas-cli deploys with PUT first, then POST on 404.
    let put = guest.request(
        "PUT",
        "/system/functions",
        Some(&json!({"service": "echo", "image": "", "envProcess": "cat"})),
    );
    assert_eq!(put.status, 404, "{}", put.text);
    deploy(
        &guest,
        json!({"service": "echo", "image": "functions/alpine:latest", "envProcess": "cat",
               "labels": {"com.openfaas.scale.min": "1"}, "envVars": {"write_debug": "true"}}),
    );

    // A binary round trip: every byte value, through stdin and stdout.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let reply = web.raw(
        "POST",
        "/function/echo",
        Some(&bytes),
        &[("Content-Type", "image/png")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.bytes, bytes);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    assert!(reply.header("x-call-id").is_some_and(|id| id.len() == 36));
    assert!(reply
        .header("x-start-time")
        .is_some_and(|ns| ns.parse::<u128>().unwrap() > 1_600_000_000_000_000_000));
    assert!(reply
        .header("x-duration-seconds")
        .is_some_and(|s| s.parse::<f64>().unwrap() > 0.0));
    // A client's own call id is kept.
    let reply = web.raw("GET", "/function/echo", None, &[("X-Call-Id", "my-call-1")]);
    assert_eq!(reply.header("x-call-id"), Some("my-call-1"));

    // Listed with its settings, and readable as one.
    let list = guest.get("/system/functions");
    assert_eq!(list.status, 200, "{}", list.text);
    let echo = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "echo")
        .unwrap()
        .clone();
    assert_eq!(echo["envProcess"], "cat");
    assert_eq!(echo["image"], "functions/alpine:latest");
    assert_eq!(echo["labels"]["com.openfaas.scale.min"], "1");
    assert_eq!(echo["envVars"]["write_debug"], "true");
    assert_eq!(echo["namespace"], "guest");
    let one = guest.get("/system/function/echo");
    assert_eq!(one.status, 200);
    assert_eq!(one.json["invocationCount"], 2.0);
    assert!(one.json["replicas"].as_u64().unwrap() >= 1, "{}", one.text);
    assert_eq!(guest.get("/system/function/nothing").status, 404);

    // The same function is an OpenWhisk action, invocable there too.
    let action = guest.get("/api/v1/namespaces/_/actions/echo");
    assert_eq!(action.status, 200);
    assert_eq!(action.json["exec"]["kind"], "exec");

    // Update (PUT) changes the command.
    let put = guest.request(
        "PUT",
        "/system/functions",
        Some(&json!({"service": "echo", "image": "", "envProcess": "wc -c"})),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let reply = web.raw("POST", "/function/echo", Some(b"12345"), &[]);
    assert_eq!(reply.text.trim(), "5");

    // Delete: 202, then 404 everywhere.
    let deleted = guest.request(
        "DELETE",
        "/system/functions",
        Some(&json!({"functionName": "echo"})),
    );
    assert_eq!(deleted.status, 202, "{}", deleted.text);
    assert_eq!(web.get("/function/echo").status, 404);
    let again = guest.request(
        "DELETE",
        "/system/functions",
        Some(&json!({"functionName": "echo"})),
    );
    assert_eq!(again.status, 404);
}

#[test]
fn the_watchdog_variables_status_codes_and_namespaces() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();
    deploy(&guest, json!({"service": "env", "envProcess": "env"}));
    let reply = web.raw(
        "PUT",
        "/function/env/some/path?a=1&b=two",
        Some(b"xyz"),
        &[("X-Served-By", "test"), ("Content-Type", "text/plain")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    for expected in [
        "Http_Method=PUT",
        "Http_Path=/some/path",
        "Http_Query=a=1&b=two",
        "Http_X_Served_By=test",
        "Http_Content_Length=3",
        &format!("Http_X_Call_Id={}", reply.header("x-call-id").unwrap()),
    ] {
        assert!(
            reply.text.lines().any(|line| line == expected),
            "missing {expected} in\n{}",
            reply.text
        );
    }
    assert!(!reply.text.contains("Http_Authorization"));

    // A non-zero exit: 500 with the output.
    deploy(
        &guest,
        json!({"service": "fails", "envProcess": "ls /no/such/dir"}),
    );
    let failed = web.get("/function/fails");
    assert_eq!(failed.status, 500, "{}", failed.text);
    assert!(failed.text.contains("/no/such/dir"), "{}", failed.text);

    // exec_timeout: 408 "Killed process.".
    deploy(
        &guest,
        json!({"service": "slow", "envProcess": "sleep 5", "envVars": {"exec_timeout": "300ms"}}),
    );
    let started = std::time::Instant::now();
    let killed = web.get("/function/slow");
    assert_eq!(killed.status, 408, "{}", killed.text);
    assert_eq!(killed.text.trim(), "Killed process.");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    // max_inflight: one runs, the second concurrent call is refused with 429.
    deploy(
        &guest,
        json!({"service": "one", "envProcess": "sleep 1", "envVars": {"max_inflight": "1"}}),
    );
    let url = server.url.clone();
    let first = std::thread::spawn(move || Client::new(&url, None).get("/function/one").status);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = web.get("/function/one");
    assert_eq!(second.status, 429, "{}", second.text);
    assert!(second.text.contains("Concurrent request limit exceeded"));
    assert_eq!(first.join().unwrap(), 200);

    // Another namespace: its own key deploys there; `name.namespace` calls it.
    let dev = server.namespace("dev", json!({}));
    deploy(
        &dev,
        json!({"service": "who", "envProcess": "printenv __OW_NAMESPACE"}),
    );
    let reply = web.get("/function/who.dev");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text.trim(), "dev");
    assert_eq!(web.get("/function/who").status, 404, "not in guest");
    // A key cannot deploy into another namespace.
    let refused = dev.post(
        "/system/functions",
        &json!({"service": "x", "envProcess": "cat", "namespace": "guest"}),
    );
    assert_eq!(refused.status, 403);

    // An action made through the OpenWhisk API is a function too (JSON in, JSON out).
    let put = guest.put(
        "/api/v1/namespaces/_/actions/hello",
        &json!({"exec": {"kind": "python:3", "code": "def main(a):\n    return {'hi': a.get('name'), 'm': a['__ow_method']}"}}),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    let reply = web.raw(
        "POST",
        "/function/hello",
        Some(br#"{"name":"faas"}"#),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json, json!({"hi": "faas", "m": "post"}));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let listed = guest.get("/system/functions");
    assert!(listed
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "hello" && f["image"] == "whirl/python:3"));

    // Every answer of the invocation routes is counted for /metrics, refusals included.
    let metrics = web.get("/metrics").text;
    for expected in [
        r#"whirl_gateway_requests_total{function_name="slow.guest",code="408"} 1"#,
        r#"whirl_gateway_requests_total{function_name="one.guest",code="429"} 1"#,
        r#"whirl_gateway_requests_total{function_name="who.dev",code="200"} 1"#,
    ] {
        assert!(
            metrics.contains(expected),
            "missing {expected} in\n{metrics}"
        );
    }

    // faas-cli namespace list: the key's own.
    assert_eq!(dev.get("/system/namespaces").json, json!(["dev"]));

    // `?namespace=` names the key's own namespace or is refused; given twice, it is a 400.
    assert_eq!(dev.get("/system/functions?namespace=dev").status, 200);
    assert_eq!(dev.get("/system/functions?namespace=guest").status, 403);
    let twice = dev.get("/system/functions?namespace=dev&namespace=guest");
    assert_eq!(twice.status, 400, "{}", twice.text);
    assert!(
        twice.text.contains("given more than once"),
        "{}",
        twice.text
    );

    // /system/info names the provider.
    let info = guest.get("/system/info");
    assert_eq!(info.json["provider"]["provider"], "whirl");
    assert_eq!(info.json["provider"]["orchestration"], "process");
}

mod callback_receiver;

use callback_receiver::CallbackReceiver;
use std::time::Duration;

#[test]
fn async_calls_are_accepted_durably_and_their_answer_reaches_the_callback() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();
    deploy(&guest, json!({"service": "echo", "envProcess": "cat"}));
    let receiver = CallbackReceiver::start(&[]);
    let bytes: Vec<u8> = (0..=255u8).rev().cycle().take(5_000).collect();
    let reply = web.raw(
        "POST",
        "/async-function/echo",
        Some(&bytes),
        &[
            ("X-Callback-Url", &receiver.url),
            ("Content-Type", "application/octet-stream"),
            ("X-Call-Id", "call-async-1"),
        ],
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.header("x-call-id"), Some("call-async-1"));
    assert!(reply.bytes.is_empty());
    let got = receiver.next(Duration::from_secs(20)).expect("no callback");
    assert_eq!(got.path, "/callback");
    assert_eq!(got.body, bytes);
    assert_eq!(got.headers["x-call-id"], "call-async-1");
    assert_eq!(got.headers["x-function-status"], "200");
    assert_eq!(got.headers["x-function-name"], "echo");
    assert_eq!(got.headers["content-type"], "application/octet-stream");
    assert!(got.headers["x-duration-seconds"].parse::<f64>().unwrap() > 0.0);

    // An unknown function: 404, nothing queued.
    assert_eq!(
        web.raw("POST", "/async-function/nothing", None, &[]).status,
        404
    );
}

#[test]
fn async_calls_retry_the_function_and_the_callback_with_linked_records() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();
    // Fails (exit 1 → 500) twice, then answers.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("flaky.sh");
    let counter = dir.path().join("count");
    std::fs::write(
        &script,
        format!(
            "n=$(cat {c} 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > {c}\nif [ $n -lt 3 ]; then echo failing $n; exit 1; fi\necho ok after $n\n",
            c = counter.display()
        ),
    )
    .unwrap();
    deploy(
        &guest,
        json!({"service": "flaky", "envProcess": format!("sh {}", script.display())}),
    );
    // The receiver refuses the first delivery: it is retried.
    let receiver = CallbackReceiver::start(&[503]);
    let reply = web.raw(
        "POST",
        "/async-function/flaky",
        Some(b"x"),
        &[("X-Callback-Url", &receiver.url)],
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    let call_id = reply.header("x-call-id").unwrap().to_owned();
    let refused = receiver.next(Duration::from_secs(20)).expect("no callback");
    assert_eq!(refused.answered, 503);
    let delivered = receiver
        .next(Duration::from_secs(20))
        .expect("no second delivery");
    assert_eq!(delivered.headers["x-function-status"], "200");
    assert_eq!(
        String::from_utf8_lossy(&delivered.body).trim(),
        "ok after 3"
    );
    assert_eq!(delivered.headers["x-call-id"], call_id);

    // Three attempts, each an activation record linked by the call id and attempt number, each
    // retry caused by the attempt before it.
    let list = guest.get("/api/v1/namespaces/_/activations?name=flaky&docs=true");
    let records = list.json.as_array().unwrap().clone();
    assert_eq!(records.len(), 3, "{}", list.text);
    let annotation = |record: &serde_json::Value, key: &str| {
        record["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    let mut by_attempt: Vec<(u64, serde_json::Value)> = records
        .iter()
        .map(|r| {
            assert_eq!(annotation(r, "openfaas.callId"), Some(json!(call_id)));
            (
                annotation(r, "openfaas.attempt").unwrap().as_u64().unwrap(),
                r.clone(),
            )
        })
        .collect();
    by_attempt.sort_by_key(|(attempt, _)| *attempt);
    assert_eq!(
        by_attempt.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(by_attempt[1].1["cause"], by_attempt[0].1["activationId"]);
    assert_eq!(by_attempt[2].1["cause"], by_attempt[1].1["activationId"]);
    assert_eq!(by_attempt[0].1["response"]["success"], false);
    assert_eq!(by_attempt[2].1["response"]["success"], true);
}

/// Polls `/system/function/{name}` until `check` holds for its status (or fails after 10 s).
fn wait_for_status(
    client: &Client,
    name: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..200 {
        last = client.get(&format!("/system/function/{name}")).json;
        if check(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{name} never reached the expected status: {last}");
}

#[test]
fn replicas_follow_the_floor_scale_requests_and_the_ceiling() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();
    // The floor starts at deploy.
    deploy(
        &guest,
        json!({"service": "warm", "envProcess": "cat", "labels": {"com.openfaas.scale.min": "2"}}),
    );
    wait_for_status(&guest, "warm", |s| {
        s["replicas"] == 2 && s["availableReplicas"] == 2
    });
    // Scale to zero, then a call scales from zero and is held until a replica is ready.
    let scaled = guest.post(
        "/system/scale-function/warm",
        &json!({"serviceName": "warm", "replicas": 0}),
    );
    assert_eq!(scaled.status, 202, "{}", scaled.text);
    wait_for_status(&guest, "warm", |s| s["replicas"] == 0);
    let reply = web.raw("POST", "/function/warm", Some(b"back"), &[]);
    assert_eq!((reply.status, reply.text.as_str()), (200, "back"));
    assert_eq!(
        guest.get("/system/function/warm").json["availableReplicas"],
        1
    );
    // Scale up: three replicas.
    guest.post(
        "/system/scale-function/warm",
        &json!({"serviceName": "warm", "replicas": 3}),
    );
    wait_for_status(&guest, "warm", |s| s["availableReplicas"] == 3);
    assert_eq!(
        guest
            .post("/system/scale-function/nothing", &json!({"replicas": 1}))
            .status,
        404
    );
    assert_eq!(
        server
            .anonymous()
            .post("/system/scale-function/warm", &json!({"replicas": 1}))
            .status,
        401
    );

    // A ceiling of 2: four concurrent one-second calls all answer, two replicas at most.
    deploy(
        &guest,
        json!({"service": "busy", "envProcess": "sleep 1",
               "labels": {"com.openfaas.scale.min": "0", "com.openfaas.scale.max": "2"}}),
    );
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let url = server.url.clone();
            std::thread::spawn(move || Client::new(&url, None).get("/function/busy").status)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let during = guest.get("/system/function/busy").json;
    assert_eq!(during["replicas"], 2, "{during}");
    for call in calls {
        assert_eq!(call.join().unwrap(), 200);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "four calls on two replicas take two rounds"
    );
}

#[test]
fn logs_stream_as_ndjson_and_follow_new_lines() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("talk.sh");
    std::fs::write(&script, "echo \"said $(cat)\" >&2\necho answered\n").unwrap();
    deploy(
        &guest,
        json!({"service": "talk", "envProcess": format!("sh {}", script.display()),
               "envVars": {"combine_output": "false"}}),
    );
    for word in ["one", "two", "three"] {
        let reply = web.raw("POST", "/function/talk", Some(word.as_bytes()), &[]);
        assert_eq!(reply.text.trim(), "answered");
    }
    let logs = guest.get("/system/logs?name=talk");
    assert_eq!(logs.status, 200, "{}", logs.text);
    assert_eq!(logs.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<serde_json::Value> = logs
        .text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["said one", "said two", "said three"]);
    assert_eq!(lines[0]["name"], "talk");
    assert_eq!(lines[0]["namespace"], "guest");
    assert_eq!(lines[0]["instance"].as_str().unwrap().len(), 32);
    assert!(lines[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    let tail = guest.get("/system/logs?name=talk&tail=1");
    assert_eq!(tail.text.lines().count(), 1);
    assert!(tail.text.contains("said three"));
    let future = guest.get("/system/logs?name=talk&since=2100-01-01T00:00:00Z");
    assert!(future.text.is_empty());
    assert_eq!(guest.get("/system/logs").status, 400);

    // follow=true: the history, then the lines of new calls as they are recorded.
    let url = server.url.clone();
    let credentials = server.guest.clone();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let authorization = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)
        );
        let response = ureq::get(&format!("{url}/system/logs?name=talk&tail=1&follow=true"))
            .set("Authorization", &authorization)
            .call()
            .unwrap();
        let reader = std::io::BufReader::new(response.into_reader());
        for line in std::io::BufRead::lines(reader) {
            if lines_tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let first = lines_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(first.contains("said three"), "{first}");
    web.raw("POST", "/function/talk", Some(b"four"), &[]);
    let next = lines_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(next.contains("said four"), "{next}");
}
