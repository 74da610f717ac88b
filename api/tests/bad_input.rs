//! The bad-input sweep: malformed JSON, wrong types, unknown kinds, names that break the
//! entity-name rule, bodies over the limits, missing or wrong credentials, activation ids that are
//! not 32 hex characters, and query parameters out of range. Each gets OpenWhisk's status, a
//! message that says what to fix, and the `{"error", "code"}` body with the request id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{python, test_options, Client, TestServer};
use serde_json::json;

struct Case {
    method: &'static str,
    path: String,
    body: Option<Vec<u8>>,
    status: u16,
    message: &'static str,
}

fn case(method: &'static str, path: &str, body: &[u8], status: u16, message: &'static str) -> Case {
    Case {
        method,
        path: path.to_owned(),
        body: (!body.is_empty()).then(|| body.to_vec()),
        status,
        message,
    }
}

fn sweep(client: &Client, cases: &[Case]) {
    for case in cases {
        let reply = client.raw(
            case.method,
            &case.path,
            case.body.as_deref(),
            &[("Content-Type", "application/json")],
        );
        assert_eq!(
            reply.status, case.status,
            "{} {}: {}",
            case.method, case.path, reply.text
        );
        reply.assert_error(case.status, case.message);
    }
}

#[test]
fn bad_input_gets_the_openwhisk_status_and_a_message_that_says_what_to_fix() {
    let mut options = test_options();
    options.api.max_code_bytes = 4096;
    let server = TestServer::start_with(options);
    let guest = server.guest();
    guest.put(
        "/api/v1/namespaces/_/actions/ok",
        &python("def main(a):\n    return a"),
    );
    guest.put("/api/v1/namespaces/_/triggers/t", &json!({}));
    guest.put(
        "/api/v1/namespaces/_/rules/r",
        &json!({"trigger": "/_/t", "action": "/_/ok"}),
    );
    let actions = "/api/v1/namespaces/_/actions";
    let long_name = "a".repeat(257);
    let big_code = format!(
        "{{\"exec\":{{\"kind\":\"python:3\",\"code\":\"{}\"}}}}",
        "x".repeat(5000)
    );
    let big_parameters = format!(
        "{{\"exec\":{{\"kind\":\"python:3\",\"code\":\"x\"}},\"parameters\":[{{\"key\":\"p\",\"value\":\"{}\"}}]}}",
        "x".repeat(1024 * 1024 + 1)
    );
    let too_big_for_the_server = vec![b' '; 3 * 1024 * 1024];
    let cases = vec![
        // Malformed JSON and wrong types.
        case("PUT", &format!("{actions}/x"), b"{\"exec\":", 400, "The request content was malformed: the action is not valid"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":5}", 400, "invalid type: integer `5`"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"},\"parameters\":\"p\"}", 400, "invalid type: string \"p\""),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"},\"limits\":{\"memory\":\"big\"}}", 400, "invalid type"),
        // serde alone would read an array positionally: the timeout and the memory here.
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"},\"limits\":[1000,256]}", 400, "invalid type: sequence, expected a JSON object"),
        case("PUT", &format!("{actions}/x"), b"[]", 400, "the action is not valid"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"},\"parameters\":[{\"key\":\"\",\"value\":1}]}", 400, "needs a non-empty key"),
        // Kinds and exec.
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"java:8\",\"code\":\"x\"}}", 400, "kind 'java:8' is not supported (known kinds: python:3"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"python:3\"}}", 400, "exec.code is required for kind 'python:3'"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"sequence\"}}", 400, "exec.components is required for kind 'sequence'"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"blackbox\"}}", 400, "exec.image is required"),
        case("PUT", &format!("{actions}/x"), b"{}", 400, "'exec' is required to create an action"),
        case("PUT", &format!("{actions}/x"), b"{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"},\"limits\":{\"concurrency\":0}}", 400, "concurrency 0 activations below allowed threshold of 1"),
        // Names.
        case("PUT", &format!("{actions}/bad%20name%20"), b"{}", 400, "The action name 'bad name ' is not valid"),
        case("PUT", &format!("{actions}/-lead"), b"{}", 400, "The action name '-lead' is not valid"),
        case("PUT", &format!("{actions}/{long_name}"), b"{}", 400, "is not valid: a name is 1 to 256 characters"),
        case("PUT", "/api/v1/namespaces/_/triggers/a%3Fb", b"{}", 400, "The trigger name 'a?b' is not valid"),
        case("PUT", "/api/v1/namespaces/_/packages/p%2A", b"{}", 400, "The package name 'p*' is not valid"),
        case("PUT", "/api/v1/namespaces/_/rules/r2", b"{\"trigger\":\"/a\",\"action\":\"/_/ok\"}", 400, "The trigger '/a' is not a valid name"),
        case("PUT", "/api/v1/namespaces/_/rules/r2", b"{\"action\":\"/_/ok\"}", 400, "'trigger' is required to create a rule"),
        case("PUT", "/api/v1/namespaces/_/actions/s", b"{\"exec\":{\"kind\":\"sequence\",\"components\":[\"/_/bad name \"]}}", 400, "breaks the entity-name rule"),
        case("PUT", "/api/v1/namespaces/_/packages/b", b"{\"binding\":{\"name\":\"utils\"}}", 400, "binding.namespace is required for a package binding"),
        case("PUT", "/api/v1/namespaces/_/packages/b", b"{\"binding\":{\"namespace\":\"whisk.system\",\"name\":\"nope\"}}", 400, "which does not exist or is not public"),
        // Bodies over the limits.
        case("PUT", &format!("{actions}/x"), big_code.as_bytes(), 413, "the action code is 5000 bytes, allowed 4096 bytes"),
        case("PUT", &format!("{actions}/x"), big_parameters.as_bytes(), 413, "the parameters is"),
        case("POST", &format!("{actions}/ok"), &too_big_for_the_server, 413, "too large"),
        case("POST", &format!("{actions}/ok?blocking=true"), format!("{{\"a\":\"{}\"}}", "x".repeat(1024 * 1024)).as_bytes(), 413, "the request body is"),
        // Invocation and fire bodies.
        case("POST", &format!("{actions}/ok"), b"[1,2]", 400, "the parameters must be a JSON object"),
        case("POST", &format!("{actions}/ok"), b"{nope", 400, "The request content was malformed"),
        case("POST", "/api/v1/namespaces/_/triggers/t", b"\"fire\"", 400, "the parameters must be a JSON object"),
        case("POST", "/api/v1/namespaces/_/rules/r", b"{\"state\":1}", 400, "expected {\"status\":\"active\"}"),
        case("POST", "/api/v1/namespaces/_/rules/r", b"", 400, "not missing"),
        // Activation ids.
        case("GET", "/api/v1/namespaces/_/activations/xyz", b"", 400, "The activation id 'xyz' is not valid: an activation id is 32 lowercase hex characters."),
        case("GET", "/api/v1/namespaces/_/activations/0123456789ABCDEF0123456789ABCDEF/logs", b"", 400, "is not valid"),
        case("GET", "/api/v1/namespaces/_/activations/0123456789abcdef0123456789abcdef", b"", 404, "The requested resource does not exist."),
        // Query parameters.
        case("GET", &format!("{actions}?limit=abc"), b"", 400, "The query parameter 'limit' must be a non-negative integer, not 'abc'."),
        case("GET", &format!("{actions}?limit=201"), b"", 400, "The value '201' is not in the range of 0 to 200"),
        case("GET", &format!("{actions}?skip=-1"), b"", 400, "'skip' must be a non-negative integer"),
        case("GET", &format!("{actions}?skip=1&skip=2"), b"", 400, "The query parameter 'skip' is given more than once."),
        case("GET", "/api/v1/namespaces/_/activations?since=yesterday", b"", 400, "'since' must be a non-negative integer"),
        case("POST", &format!("{actions}/ok?blocking=maybe"), b"{}", 400, "The query parameter 'blocking' must be true or false, not 'maybe'."),
        case("POST", &format!("{actions}/ok?blocking=true&timeout=70000"), b"{}", 400, "'timeout' must be between 1 and 60000 milliseconds"),
        case("PUT", &format!("{actions}/ok?overwrite=yes"), b"{}", 400, "'overwrite' must be true or false"),
    ];
    sweep(&guest, &cases);

    // Missing, malformed and wrong credentials: 401 with WWW-Authenticate.
    let anonymous = server.anonymous();
    anonymous.get("/api/v1/namespaces/_/actions").assert_error(
        401,
        "The resource requires authentication, which was not supplied with the request.",
    );
    for (header, message) in [
        ("Basic !!!", "not base64"),
        (
            "Bearer abc",
            "expected 'Authorization: Basic base64(uuid:key)'",
        ),
        ("Basic bm9jb2xvbg==", "must be uuid:key"),
        ("Basic bm90LWEtdXVpZDprZXk=", "is not a uuid"),
    ] {
        let reply = anonymous.raw(
            "GET",
            "/api/v1/namespaces/_/actions",
            None,
            &[("Authorization", header)],
        );
        reply.assert_error(401, message);
        assert!(reply.header("www-authenticate").is_some());
    }
    let uuid = server.guest.split(':').next().unwrap();
    Client::new(&server.url, Some(&format!("{uuid}:wrong")))
        .post("/api/v1/namespaces/_/actions/ok?blocking=true", &json!({}))
        .assert_error(401, "unknown uuid or wrong key");
    Client::new(
        &server.url,
        Some(&format!("{}:{}", uuid::Uuid::new_v4(), "k")),
    )
    .get("/api/v1/namespaces")
    .assert_error(401, "unknown uuid or wrong key");
}
