//! nodejs:20 actions on the process driver: results, errors, init failures, timeouts, limits,
//! logs, zips with package.json, concurrent activations in one container, stem cells.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bridge::logs::truncation_marker;
use bridge::{
    ActionLimits, ContainerDriver, ContainerSpec, DriverError, RunFailure, RuntimeKind,
    StemCellConfig,
};
use common::*;

const HELLO: &str = r#"
function main(params) {
  console.log('hello to', params.name);
  console.error('on stderr');
  return { greeting: 'Hello ' + params.name };
}
"#;

#[tokio::test]
async fn success_with_logs_on_both_streams() {
    let t = driver(false).await;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(HELLO)).await;
    let out = run(&t.driver, &id, "a1", r#"{"name":"Ada"}"#).await;
    assert_eq!(result_json(&out)["greeting"], "Hello Ada");
    let mut logs = messages(&out);
    logs.sort();
    assert_eq!(logs, vec!["stderr: on stderr", "stdout: hello to Ada"]);
    let out = run(&t.driver, &id, "a2", r#"{"name":"Bob"}"#).await;
    assert_eq!(result_json(&out)["greeting"], "Hello Bob");
    assert_eq!(out.logs.len(), 2);
}

#[tokio::test]
async fn openwhisk_environment_variables_are_set_per_activation() {
    let t = driver(false).await;
    let code = r#"
const { execFileSync } = require('child_process');
function main() {
  const seen = {
    id: process.env.__OW_ACTIVATION_ID,
    tx: process.env.__OW_TRANSACTION_ID,
    ns: process.env.__OW_NAMESPACE,
    deadline: process.env.__OW_DEADLINE,
    fromInit: process.env.FROM_INIT,
    // What a child process inherits.
    child: execFileSync('sh', ['-c', 'printf "%s %s" "$__OW_ACTIVATION_ID" "$__OW_NAMESPACE"']).toString(),
  };
  // Values written to process.env become strings, as they do on the real one.
  process.env.COUNT = 7;
  seen.count = typeof process.env.COUNT + ' ' + process.env.COUNT;
  // An action that overwrites or deletes its own variables does not change the next run's.
  process.env.__OW_NAMESPACE = 'tampered';
  delete process.env.__OW_ACTIVATION_ID;
  return seen;
}
"#;
    let mut init = init_request(code);
    init.env.insert("FROM_INIT".into(), "init-value".into());
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    let v = result_json(&run(&t.driver, &id, "act-1", "{}").await);
    assert_eq!(v["id"], "act-1");
    assert_eq!(v["tx"], "tx-act-1");
    assert_eq!(v["ns"], "guest");
    assert_eq!(v["deadline"], "4102444800000");
    assert_eq!(v["fromInit"], "init-value");
    assert_eq!(v["child"], "act-1 guest");
    assert_eq!(v["count"], "string 7");
    let v = result_json(&run(&t.driver, &id, "act-2", "{}").await);
    assert_eq!(v["id"], "act-2");
    assert_eq!(v["ns"], "guest");
    assert_eq!(v["child"], "act-2 guest");
}

/// A warm container's memory does not grow with the per-run variables (process.env's setenv()
/// kept every old value: the activation and transaction ids are new on every run). Many runs,
/// because the JavaScript engine's own memory moves by about a MiB either way.
#[tokio::test]
async fn per_run_variables_do_not_grow_a_warm_container() {
    let t = driver(false).await;
    // Outside the JavaScript heap, which grows and shrinks with the collector.
    let code =
        "function main() { const m = process.memoryUsage(); return { rss: m.rss - m.heapTotal }; }";
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    let runs = 20000;
    let grew = growth_over_runs(&t.driver, &id, 2000, runs, |v| v["rss"].as_i64().unwrap()).await;
    // With setenv() these runs grew it by about 3 MiB; without, by -0.5 to +0.4 MiB.
    assert!(
        grew < 1536 * 1024,
        "the container grew by {} KiB over {runs} runs",
        grew / 1024
    );
}

#[tokio::test]
async fn exported_async_main_and_selectable_main() {
    let t = driver(false).await;
    let code = "exports.handler = async (p) => { await new Promise(r => setTimeout(r, 10)); return { via: 'handler', n: p.n }; };";
    let mut init = init_request(code);
    init.main = "handler".into();
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    let v = result_json(&run(&t.driver, &id, "a1", r#"{"n":7}"#).await);
    assert_eq!(v["via"], "handler");
    assert_eq!(v["n"], 7);
}

#[tokio::test]
async fn returned_error_and_thrown_exception() {
    let t = driver(false).await;
    let code = "function main(p) { if (p.throw) { throw new TypeError('nope'); } return { error: 'bad input' }; }";
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(result_json(&out)["error"], "bad input");
    let out = run(&t.driver, &id, "a2", r#"{"throw":true}"#).await;
    assert_eq!(result_json(&out)["error"], "TypeError: nope");
    assert!(messages(&out)
        .join("\n")
        .contains("stderr: TypeError: nope"));
    let out = run(&t.driver, &id, "a3", "{}").await;
    assert!(out.result.is_ok());
}

#[tokio::test]
async fn syntax_error_fails_the_init() {
    let t = driver(false).await;
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Nodejs20, 256))
        .await
        .unwrap();
    let err = t
        .driver
        .init(&id, init_request("function main( { return {}; }"), TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.is_developer_error());
    match &err {
        DriverError::InitFailed { message, logs, .. } => {
            assert!(message.contains("SyntaxError"), "{message}");
            assert!(
                logs.iter().any(|l| l.message.contains("SyntaxError")),
                "{logs:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(t.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn timeout_kills_the_container() {
    let t = driver(false).await;
    let code = "function main() { console.log('spinning'); for (;;) {} }";
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    let pgid = t.driver.list().await.unwrap()[0].process_group.unwrap();
    let out = t
        .driver
        .run(&id, run_request("a1", "{}"), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(
        matches!(out.result, Err(RunFailure::Timeout { .. })),
        "{:?}",
        out.result
    );
    assert_eq!(messages(&out), vec!["stdout: spinning"]);
    assert!(wait_gone(pgid).await);
    assert!(t.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn oversize_and_non_json_results() {
    let t = driver(false).await;
    let code = r#"
function main(p) {
  if (p.kind === 'big') return { blob: 'x'.repeat(5000) };
  if (p.kind === 'text') return 'just text';
  if (p.kind === 'bigint') return { n: 10n };
  return { ok: true };
}"#;
    let mut init = init_request(code);
    init.limits = ActionLimits {
        result_bytes: 1000,
        ..ActionLimits::default()
    };
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    let out = run(&t.driver, &id, "a1", r#"{"kind":"big"}"#).await;
    assert!(
        matches!(
            out.result,
            Err(RunFailure::ResultTooLarge { limit: 1000, .. })
        ),
        "{:?}",
        out.result
    );
    let out = run(&t.driver, &id, "a2", r#"{"kind":"text"}"#).await;
    assert!(
        matches!(out.result, Err(RunFailure::BadOutput { .. })),
        "{:?}",
        out.result
    );
    let out = run(&t.driver, &id, "a3", r#"{"kind":"bigint"}"#).await;
    assert!(
        matches!(out.result, Err(RunFailure::BadOutput { .. })),
        "{:?}",
        out.result
    );
    let out = run(&t.driver, &id, "a4", "{}").await;
    assert_eq!(result_json(&out)["ok"], true);
}

#[tokio::test]
async fn logs_are_cut_at_the_limit() {
    let t = driver(false).await;
    let code = "function main() { for (let i = 0; i < 50; i++) console.log('line ' + String(i).padStart(3, '0')); return {}; }";
    let mut init = init_request(code);
    init.limits.log_bytes = 40;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert!(out.logs_truncated);
    let logs = messages(&out);
    assert_eq!(logs.len(), 6, "{logs:?}");
    assert_eq!(logs[4], "stdout: line 004");
    assert_eq!(logs[5], format!("stderr: {}", truncation_marker(40)));
}

#[tokio::test]
async fn concurrent_activations_in_one_container_keep_their_results_and_logs_apart() {
    let t = driver(false).await;
    let code = r#"
async function main(p) {
  console.log('start ' + p.n);
  await new Promise((r) => setTimeout(r, p.delay));
  console.log('end ' + p.n + ' ' + process.env.__OW_ACTIVATION_ID.length);
  return { n: p.n };
}"#;
    let mut init = init_request(code);
    init.limits.concurrency = 4;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    let started = std::time::Instant::now();
    let (a, b, c) = tokio::join!(
        run(&t.driver, &id, "act-a", r#"{"n":1,"delay":300}"#),
        run(&t.driver, &id, "act-b", r#"{"n":2,"delay":150}"#),
        run(&t.driver, &id, "act-c", r#"{"n":3,"delay":10}"#),
    );
    let elapsed = started.elapsed();
    // All three were in flight together: well under the 460 ms they take one after the other.
    assert!(elapsed < Duration::from_millis(440), "{elapsed:?}");
    for (out, n) in [(&a, 1), (&b, 2), (&c, 3)] {
        assert_eq!(result_json(out)["n"], n);
        assert_eq!(
            messages(out),
            vec![format!("stdout: start {n}"), format!("stdout: end {n} 5")]
        );
    }
    assert!(c.duration < a.duration);
}

#[tokio::test]
async fn an_action_that_replaces_process_stdout_write_still_ends_its_logs() {
    // The sentinels go out through the streams' own writes, not whatever the action put in their
    // place (a logger that silences or captures console output, say).
    let t = driver(false).await;
    let code = r#"
function main(p) {
  console.log('to fd 1');
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  console.log('swallowed');
  console.error('swallowed too');
  return { ok: true };
}"#;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    for activation in ["a1", "a2"] {
        let out = run(&t.driver, &id, activation, "{}").await;
        assert_eq!(result_json(&out)["ok"], true);
        let expected: &[&str] = if activation == "a1" {
            &["stdout: to fd 1"]
        } else {
            &[]
        };
        assert_eq!(messages(&out), expected, "{activation}");
        assert_no_log_grace_wait(&out, activation);
    }
}

#[tokio::test]
async fn an_action_that_closes_its_stdout_and_stderr_still_gets_its_answers() {
    let t = driver(false).await;
    let code = r#"
const fs = require('fs');
function main(p) {
  if (p.close) {
    fs.closeSync(1);
    fs.closeSync(2);
  }
  return { n: p.n };
}"#;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    for (n, extra) in [(1, ""), (2, r#","close":true"#), (3, "")] {
        run_numbered(&t.driver, &id, n, extra).await;
    }
}

#[tokio::test]
async fn a_launcher_killed_by_a_late_exception_is_replaced_before_the_next_run() {
    let t = driver(false).await;
    let code = r#"
function main(p) {
  if (p.late) setTimeout(() => { throw new Error('late failure'); }, 20);
  return { n: p.n, pid: process.pid };
}"#;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    let first = run(&t.driver, &id, "a1", r#"{"n":1,"late":true}"#).await;
    assert_eq!(result_json(&first)["n"], 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = run(&t.driver, &id, "a2", r#"{"n":2}"#).await;
    assert_eq!(result_json(&second)["n"], 2, "{:?}", second.result);
    assert_ne!(result_json(&second)["pid"], result_json(&first)["pid"]);
}

#[tokio::test]
async fn lines_an_action_writes_to_fd_3_never_become_answers() {
    let t = driver(false).await;
    let code = r#"
const fs = require('fs');
fs.writeSync(3, '{"from":"init"}\n');
function main(p) {
  if (p.mode === 'line') fs.writeSync(3, '{"stale":true}\n');
  if (p.mode === 'partial') fs.writeSync(3, 'no newline');
  return { n: p.n };
}"#;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init_request(code)).await;
    run_between_stray_answers(&t.driver, &id).await;
}

#[tokio::test]
async fn zip_action_uses_package_json_main() {
    let t = driver(false).await;
    let zip = zip_base64(&[
        ("package.json", r#"{"name":"z","main":"lib/entry.js"}"#),
        (
            "lib/entry.js",
            "const h = require('./helper');\nexports.main = (p) => ({ said: h.shout(p.w) });\n",
        ),
        (
            "lib/helper.js",
            "exports.shout = (w) => w.toUpperCase() + '!';\n",
        ),
    ]);
    let mut init = init_request(&zip);
    init.binary = true;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    assert_eq!(
        result_json(&run(&t.driver, &id, "a1", r#"{"w":"hi"}"#).await)["said"],
        "HI!"
    );
}

#[tokio::test]
async fn zip_action_falls_back_to_index_js() {
    let t = driver(false).await;
    let zip = zip_base64(&[("index.js", "exports.main = () => ({ from: 'index' });\n")]);
    let mut init = init_request(&zip);
    init.binary = true;
    let id = ready(&t.driver, RuntimeKind::Nodejs20, init).await;
    assert_eq!(
        result_json(&run(&t.driver, &id, "a1", "{}").await)["from"],
        "index"
    );
}

#[tokio::test]
async fn heap_exhaustion_is_out_of_memory() {
    let t = driver(false).await;
    let code =
        "function main() { const keep = []; for (;;) keep.push(new Array(100000).fill(1.5)); }";
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Nodejs20, 64))
        .await
        .unwrap();
    t.driver
        .init(&id, init_request(code), TIMEOUT)
        .await
        .unwrap();
    let out = run(&t.driver, &id, "a1", "{}").await;
    assert_eq!(out.result, Err(RunFailure::OutOfMemory));
    assert!(t.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn stem_cells_are_handed_out_and_refilled() {
    let t = driver_with(|config| {
        config.stem_cells = vec![StemCellConfig {
            kind: RuntimeKind::Nodejs20,
            memory_mb: 256,
            count: 1,
        }];
        // Long enough that the background refill cannot happen during the test.
        config.stem_cell_refill_delay = Duration::from_secs(30);
    })
    .await;
    assert_eq!(t.driver.stem_cells_available(RuntimeKind::Nodejs20, 256), 1);
    let clock = std::time::Instant::now();
    let id = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Nodejs20, 256))
        .await
        .unwrap();
    // Taken from the reserve: no Node.js start on this path.
    assert!(
        clock.elapsed() < Duration::from_millis(40),
        "{:?}",
        clock.elapsed()
    );
    assert_eq!(t.driver.stem_cells_available(RuntimeKind::Nodejs20, 256), 0);
    t.driver
        .init(&id, init_request(HELLO), TIMEOUT)
        .await
        .unwrap();
    assert!(run(&t.driver, &id, "a1", r#"{"name":"x"}"#)
        .await
        .result
        .is_ok());
    t.driver.refill_stem_cells().await;
    assert_eq!(t.driver.stem_cells_available(RuntimeKind::Nodejs20, 256), 1);
    // A different memory size has no stem cell and starts a fresh launcher.
    assert_eq!(t.driver.stem_cells_available(RuntimeKind::Nodejs20, 512), 0);
    let other = t
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Nodejs20, 512))
        .await
        .unwrap();
    t.driver
        .init(&other, init_request(HELLO), TIMEOUT)
        .await
        .unwrap();
    // Stem cells are not containers until handed out.
    assert_eq!(t.driver.list().await.unwrap().len(), 2);
}
