//! Entities over HTTP against a real platform: actions (create, 409, update bumps the version,
//! code=false, list/count/skip/limit, delete), triggers and rules (fire 204 without an active
//! rule, 202 with one, the trigger record listing each rule's activation, enable/disable),
//! sequences (causedBy, cause, component ids in logs, refusals at create), and the API's
//! description, OpenAPI document, CORS and request ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{python, wait_for_activation, TestServer};
use serde_json::{json, Value};

fn annotation<'a>(record: &'a Value, key: &str) -> Option<&'a Value> {
    record["annotations"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

#[test]
fn actions_are_created_updated_listed_and_deleted() {
    let server = TestServer::start();
    let guest = server.guest();
    let created = guest.put(
        "/api/v1/namespaces/_/actions/a1",
        &json!({"exec": {"kind": "python:default", "code": "def main(a):\n    return a"}, "limits": {"memory": 128}}),
    );
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json["version"], "0.0.1");
    assert_eq!(created.json["exec"]["kind"], "python:3");
    assert_eq!(created.json["limits"]["memory"], 128);
    assert_eq!(annotation(&created.json, "exec"), Some(&json!("python:3")));
    let again = guest.put(
        "/api/v1/namespaces/_/actions/a1",
        &python("def main(a):\n    return {}"),
    );
    again.assert_error(409, "resource already exists");
    let updated = guest.put(
        "/api/v1/namespaces/_/actions/a1?overwrite=true",
        &json!({"parameters": [{"key": "x", "value": 1}]}),
    );
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json["version"], "0.0.2");
    assert_eq!(updated.json["exec"]["code"], "def main(a):\n    return a");
    assert_eq!(updated.json["limits"]["memory"], 128);
    let fetched = guest.get("/api/v1/namespaces/guest/actions/a1?code=false");
    assert_eq!(fetched.status, 200);
    assert!(fetched.json["exec"].get("code").is_none());
    assert_eq!(
        fetched.json["parameters"],
        json!([{"key": "x", "value": 1}])
    );
    // The updated version runs (a new container: the old one served 0.0.1).
    let result = guest.post(
        "/api/v1/namespaces/_/actions/a1?blocking=true&result=true",
        &json!({"y": 2}),
    );
    assert_eq!(result.json, json!({"x": 1, "y": 2}));

    for name in ["b2", "c3", "d4"] {
        guest.put(
            &format!("/api/v1/namespaces/_/actions/{name}"),
            &python("def main(a):\n    return a"),
        );
    }
    let list = guest.get("/api/v1/namespaces/_/actions?skip=1&limit=2");
    let names: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b2", "c3"]);
    assert!(list.json[0]["exec"].get("code").is_none());
    assert_eq!(
        guest.get("/api/v1/namespaces/_/actions?count=true").json,
        json!({"actions": 4})
    );
    let deleted = guest.delete("/api/v1/namespaces/_/actions/d4");
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json["name"], "d4");
    guest
        .get("/api/v1/namespaces/_/actions/d4")
        .assert_error(404, "does not exist");
    guest
        .delete("/api/v1/namespaces/_/actions/d4")
        .assert_error(404, "does not exist");
    // An action in a package that does not exist.
    guest
        .put(
            "/api/v1/namespaces/_/actions/nopkg/a",
            &python("def main(a):\n    return a"),
        )
        .assert_error(404, "The package 'guest/nopkg' does not exist.");
    // Limits out of range.
    guest
        .put(
            "/api/v1/namespaces/_/actions/big",
            &json!({"exec": {"kind": "python:3", "code": "x"}, "limits": {"memory": 1024}}),
        )
        .assert_error(400, "memory 1024 MB exceeds allowed threshold of 512 MB");
    guest
        .put(
            "/api/v1/namespaces/_/actions/fast",
            &json!({"exec": {"kind": "python:3", "code": "x"}, "limits": {"timeout": 50}}),
        )
        .assert_error(
            400,
            "timeout 50 milliseconds below allowed threshold of 100 milliseconds",
        );
}

#[test]
fn triggers_fire_the_actions_of_their_active_rules() {
    let server = TestServer::start();
    let guest = server.guest();
    guest.put(
        "/api/v1/namespaces/_/actions/record",
        &python("def main(a):\n    return {'got': a.get('temp'), 'unit': a.get('unit')}"),
    );
    let trigger = guest.put(
        "/api/v1/namespaces/_/triggers/t1",
        &json!({"parameters": [{"key": "unit", "value": "C"}]}),
    );
    assert_eq!(trigger.status, 200, "{}", trigger.text);
    // No rule: 204 and no record.
    let fired = guest.post("/api/v1/namespaces/_/triggers/t1", &json!({"temp": 1}));
    assert_eq!(fired.status, 204, "{}", fired.text);
    assert!(fired.bytes.is_empty());
    let rule = guest.put(
        "/api/v1/namespaces/_/rules/r1",
        &json!({"trigger": "/_/t1", "action": "/_/record"}),
    );
    assert_eq!(rule.status, 200, "{}", rule.text);
    assert_eq!(rule.json["status"], "active");
    assert_eq!(rule.json["trigger"], json!({"path": "guest", "name": "t1"}));
    assert_eq!(
        rule.json["action"],
        json!({"path": "guest", "name": "record"})
    );
    let rule2 = guest.put(
        "/api/v1/namespaces/_/rules/r2",
        &json!({"trigger": "/_/t1", "action": "/_/record"}),
    );
    assert_eq!(rule2.status, 200);
    let shown = guest.get("/api/v1/namespaces/_/triggers/t1");
    assert_eq!(shown.json["rules"]["guest/r1"]["status"], "active");
    assert_eq!(shown.json["rules"]["guest/r1"]["action"]["name"], "record");

    let fired = guest.post("/api/v1/namespaces/_/triggers/t1", &json!({"temp": 21}));
    assert_eq!(fired.status, 202, "{}", fired.text);
    let trigger_id = fired.json["activationId"].as_str().unwrap().to_owned();
    let record = wait_for_activation(&guest, &trigger_id);
    assert_eq!(record.json["name"], "t1");
    assert_eq!(
        record.json["response"]["result"],
        json!({"unit": "C", "temp": 21})
    );
    let logs = record.json["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2);
    let mut action_ids = Vec::new();
    for (line, rule) in logs.iter().zip(["guest/r1", "guest/r2"]) {
        let line: Value = serde_json::from_str(line.as_str().unwrap()).unwrap();
        assert_eq!(line["rule"], rule);
        assert_eq!(line["action"], "guest/record");
        assert_eq!(line["success"], true);
        assert_eq!(line["statusCode"], 0);
        action_ids.push(line["activationId"].as_str().unwrap().to_owned());
    }
    for id in &action_ids {
        let action_record = wait_for_activation(&guest, id);
        assert_eq!(action_record.json["cause"], trigger_id.as_str());
        assert_eq!(
            action_record.json["response"]["result"],
            json!({"got": 21, "unit": "C"})
        );
    }

    // Disable both rules: 204 again.
    for rule in ["r1", "r2"] {
        let disabled = guest.post(
            &format!("/api/v1/namespaces/_/rules/{rule}"),
            &json!({"status": "inactive"}),
        );
        assert_eq!(disabled.status, 200, "{}", disabled.text);
        assert_eq!(disabled.json["status"], "inactive");
    }
    assert_eq!(
        guest
            .post("/api/v1/namespaces/_/triggers/t1", &json!({}))
            .status,
        204
    );
    let enabled = guest.post(
        "/api/v1/namespaces/_/rules/r1",
        &json!({"status": "active"}),
    );
    assert_eq!(enabled.json["status"], "active");
    guest
        .post(
            "/api/v1/namespaces/_/rules/r1",
            &json!({"status": "paused"}),
        )
        .assert_error(400, "must be 'active' or 'inactive'");

    // A rule whose action is gone: the fire still records, with the error for that rule.
    guest.delete("/api/v1/namespaces/_/actions/record");
    let fired = guest.post("/api/v1/namespaces/_/triggers/t1", &json!({}));
    assert_eq!(fired.status, 202);
    let record = wait_for_activation(&guest, fired.json["activationId"].as_str().unwrap());
    let line: Value = serde_json::from_str(record.json["logs"][0].as_str().unwrap()).unwrap();
    assert_eq!(line["success"], false);
    assert!(line["error"].as_str().unwrap().contains("does not exist"));

    // Rules need an existing trigger and action.
    guest
        .put(
            "/api/v1/namespaces/_/rules/r3",
            &json!({"trigger": "/_/nope", "action": "/_/record"}),
        )
        .assert_error(404, "The trigger '/guest/nope' does not exist.");
    assert_eq!(
        guest.get("/api/v1/namespaces/_/rules?count=true").json,
        json!({"rules": 2})
    );
    assert_eq!(guest.delete("/api/v1/namespaces/_/rules/r2").status, 200);
    assert_eq!(guest.delete("/api/v1/namespaces/_/triggers/t1").status, 200);
    assert_eq!(guest.get("/api/v1/namespaces/_/triggers").json, json!([]));
}

#[test]
fn sequences_run_each_component_as_its_own_activation() {
    let server = TestServer::start();
    let guest = server.guest();
    guest.put(
        "/api/v1/namespaces/_/actions/inc",
        &python("def main(a):\n    return {'n': a.get('n', 0) + 1}"),
    );
    guest.put(
        "/api/v1/namespaces/_/actions/double",
        &python("def main(a):\n    return {'n': a['n'] * 2}"),
    );
    let created = guest.put(
        "/api/v1/namespaces/_/actions/seq",
        &json!({"exec": {"kind": "sequence", "components": ["/_/inc", "double", "/guest/inc"]}}),
    );
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(
        created.json["exec"]["components"],
        json!(["/guest/inc", "/guest/double", "/guest/inc"])
    );
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/seq?blocking=true",
        &json!({"n": 1}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["response"]["result"], json!({"n": 5}));
    assert_eq!(annotation(&reply.json, "kind"), Some(&json!("sequence")));
    let sequence_id = reply.json["activationId"].as_str().unwrap().to_owned();
    let components = reply.json["logs"].as_array().unwrap();
    assert_eq!(components.len(), 3);
    for id in components {
        let record = guest.get(&format!(
            "/api/v1/namespaces/_/activations/{}",
            id.as_str().unwrap()
        ));
        assert_eq!(record.status, 200);
        assert_eq!(record.json["cause"], sequence_id.as_str());
        assert_eq!(
            annotation(&record.json, "causedBy"),
            Some(&json!("sequence"))
        );
    }
    // A failing component ends the sequence with its error.
    guest.put(
        "/api/v1/namespaces/_/actions/fail",
        &python("def main(a):\n    return {'error': 'stop here'}"),
    );
    guest.put(
        "/api/v1/namespaces/_/actions/seq2",
        &json!({"exec": {"kind": "sequence", "components": ["/_/inc", "/_/fail", "/_/inc"]}}),
    );
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/seq2?blocking=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert_eq!(
        reply.json["response"]["result"],
        json!({"error": "stop here"})
    );
    assert_eq!(reply.json["logs"].as_array().unwrap().len(), 2);
    // A component deleted after the sequence was made: the sequence ends with an application
    // error naming it, as OpenWhisk's does.
    guest.put(
        "/api/v1/namespaces/_/actions/gone",
        &python("def main(a):\n    return a"),
    );
    guest.put(
        "/api/v1/namespaces/_/actions/seq3",
        &json!({"exec": {"kind": "sequence", "components": ["/_/inc", "/_/gone"]}}),
    );
    assert_eq!(
        guest.delete("/api/v1/namespaces/_/actions/gone").status,
        200
    );
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/seq3?blocking=true",
        &json!({}),
    );
    assert_eq!(reply.status, 502, "{}", reply.text);
    assert_eq!(reply.json["response"]["status"], "application error");
    assert_eq!(
        reply.json["response"]["result"],
        json!({"error": "Sequence component does not exist: '/guest/gone'."})
    );
    // Non-blocking: 202, then the record.
    let reply = guest.post("/api/v1/namespaces/_/actions/seq", &json!({"n": 0}));
    assert_eq!(reply.status, 202);
    let record = wait_for_activation(&guest, reply.json["activationId"].as_str().unwrap());
    assert_eq!(record.json["response"]["result"], json!({"n": 3}));

    // Refused at create: missing components, cycles, more than 50 atomic actions, none.
    guest
        .put(
            "/api/v1/namespaces/_/actions/bad",
            &json!({"exec": {"kind": "sequence", "components": ["/_/inc", "/_/missing"]}}),
        )
        .assert_error(400, "Sequence component does not exist: '/guest/missing'");
    guest
        .put(
            "/api/v1/namespaces/_/actions/seq?overwrite=true",
            &json!({"exec": {"kind": "sequence", "components": ["/_/inc", "/_/seq"]}}),
        )
        .assert_error(400, "Sequence may not refer to itself");
    let outer = guest.put(
        "/api/v1/namespaces/_/actions/outer",
        &json!({"exec": {"kind": "sequence", "components": ["/_/seq", "/_/inc"]}}),
    );
    assert_eq!(outer.status, 200);
    guest
        .put(
            "/api/v1/namespaces/_/actions/seq?overwrite=true",
            &json!({"exec": {"kind": "sequence", "components": ["/_/outer"]}}),
        )
        .assert_error(400, "Sequence may not refer to itself");
    let many: Vec<&str> = vec!["/_/inc"; 51];
    guest
        .put(
            "/api/v1/namespaces/_/actions/long",
            &json!({"exec": {"kind": "sequence", "components": many}}),
        )
        .assert_error(400, "Too many actions in the sequence");
    guest
        .put(
            "/api/v1/namespaces/_/actions/empty",
            &json!({"exec": {"kind": "sequence", "components": []}}),
        )
        .assert_error(400, "No component specified for the sequence.");
    // A nested sequence runs too: outer = seq (inc, double, inc) then inc.
    let reply = guest.post(
        "/api/v1/namespaces/_/actions/outer?blocking=true&result=true",
        &json!({"n": 1}),
    );
    assert_eq!(reply.json, json!({"n": 6}));
}

#[test]
fn the_api_describes_itself_with_cors_and_request_ids() {
    let server = TestServer::start();
    let anonymous = server.anonymous();
    let info = anonymous.get("/api/v1");
    assert_eq!(info.status, 200);
    assert_eq!(info.json["api_version"], "1.0.0");
    assert_eq!(info.json["swagger_paths"]["api-docs"], "/api/v1/api-docs");
    assert_eq!(info.header("access-control-allow-origin"), Some("*"));
    assert_eq!(info.header("x-request-id").map(str::len), Some(32));
    let options = anonymous.raw("OPTIONS", "/api/v1/namespaces/_/actions", None, &[]);
    assert_eq!(options.status, 200);
    assert_eq!(
        options.header("access-control-allow-methods"),
        Some("GET, DELETE, POST, PUT, HEAD")
    );
    let echoed = anonymous.raw("GET", "/api/v1", None, &[("X-Request-ID", "my-id-1")]);
    assert_eq!(echoed.header("x-request-id"), Some("my-id-1"));
    // Every route of the table is in the OpenAPI document, and the document is served.
    let docs = anonymous.get("/api/v1/api-docs");
    assert_eq!(docs.status, 200);
    assert_eq!(docs.json["openapi"], "3.0.3");
    for route in api::routes::routes() {
        for method in route.method.openapi_names() {
            assert!(
                docs.json["paths"][route.doc_path][*method].is_object(),
                "{method} {}",
                route.doc_path
            );
        }
    }
    let namespaces = server.guest().get("/api/v1/namespaces");
    assert_eq!(namespaces.json, json!(["guest"]));
    // `limit` is checked with `count=true` too (every collection).
    for collection in ["actions", "triggers", "rules", "packages", "activations"] {
        server
            .guest()
            .get(&format!(
                "/api/v1/namespaces/_/{collection}?count=true&limit=-3"
            ))
            .assert_error(400, "query parameter 'limit'");
    }
    // Unknown routes and methods.
    anonymous
        .get("/api/v1/nothing/here")
        .assert_error(404, "does not exist");
    let refused = server
        .guest()
        .request("PATCH", "/api/v1/namespaces/_/actions/x", None);
    // RFC 9110: a 405 says which methods the resource takes.
    assert_eq!(
        refused.header("allow"),
        Some("POST, GET, HEAD, PUT, DELETE, OPTIONS"),
        "{:?}",
        refused.headers
    );
    refused.assert_error(405, "method is not allowed");
    let refused = anonymous.request("TRACE", "/api/v1/web/guest/default/x.json", None);
    assert_eq!(refused.status, 405, "{}", refused.text);
    assert!(refused
        .header("allow")
        .is_some_and(|allow| allow.contains("PATCH") && !allow.contains("TRACE")));
    // HEAD is GET without the body.
    let head = anonymous.request("HEAD", "/api/v1", None);
    assert_eq!(head.status, 200);
    assert!(head.bytes.is_empty());
    let health = anonymous.get("/healthz");
    assert_eq!(health.text, "OK");
}
