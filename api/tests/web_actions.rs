//! Web actions against a real platform: only `web-export` actions answer, the extensions shape the
//! answer, arguments carry the request (`__ow_method`, `__ow_headers`, `__ow_path`, query, JSON and
//! form bodies; `__ow_query` and `__ow_body` with `raw-http`), binary bodies travel base64, and
//! `require-whisk-auth` guards an action.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use common::TestServer;
use serde_json::json;

#[test]
fn web_actions_answer_http_with_every_extension() {
    let server = TestServer::start();
    let guest = server.guest();
    let web = server.anonymous();
    let put = |name: &str, code: &str, annotations: serde_json::Value| {
        let reply = guest.put(
            &format!("/api/v1/namespaces/_/actions/{name}"),
            &json!({"exec": {"kind": "python:3", "code": code}, "annotations": annotations}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    };
    put(
        "args",
        "def main(a):\n    return a",
        json!([{"key": "web-export", "value": true}]),
    );
    put("hidden", "def main(a):\n    return a", json!([]));

    // Not exported: 404.
    web.get("/api/v1/web/guest/default/hidden.json")
        .assert_error(404, "does not exist");
    web.get("/api/v1/web/guest/default/nothing.json")
        .assert_error(404, "does not exist");
    // .json: the arguments, with the query and the JSON body merged in.
    let reply = web.raw(
        "POST",
        "/api/v1/web/guest/default/args.json?q=1",
        Some(br#"{"b": true}"#),
        &[("Content-Type", "application/json"), ("X-Custom", "yes")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["q"], "1");
    assert_eq!(reply.json["b"], true);
    assert_eq!(reply.json["__ow_method"], "post");
    assert_eq!(reply.json["__ow_path"], "");
    assert_eq!(reply.json["__ow_headers"]["x-custom"], "yes");
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        reply.header("x-openwhisk-activation-id").map(str::len),
        Some(32)
    );
    // .json with a path projects into the result.
    let reply = web.get("/api/v1/web/guest/default/args.json/q?q=deep");
    assert_eq!(reply.json, json!("deep"));
    let reply = web.get("/api/v1/web/guest/default/args.json/__ow_path");
    assert_eq!(reply.json, json!("/__ow_path"));
    // A form body.
    let reply = web.raw(
        "POST",
        "/api/v1/web/guest/default/args.json",
        Some(b"x=1&y=two"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    assert_eq!(reply.json["x"], "1");
    assert_eq!(reply.json["y"], "two");
    // Unknown extensions: 406.
    web.get("/api/v1/web/guest/default/args.pdf")
        .assert_error(406, "is not supported");

    // .html, .text, .svg take one property of the result.
    put(
        "page",
        "def main(a):\n    return {'html': '<p>hi</p>', 'text': 'plain', 'svg': '<svg/>'}",
        json!([{"key": "web-export", "value": true}]),
    );
    let html = web.get("/api/v1/web/guest/default/page.html");
    assert_eq!(html.text, "<p>hi</p>");
    assert!(html
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let text = web.get("/api/v1/web/guest/default/page.text");
    assert_eq!(text.text, "plain");
    let svg = web.get("/api/v1/web/guest/default/page.svg");
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));

    // .http (the default): status, headers, and a base64 body decoded for a binary type.
    let png = [0x89u8, b'P', b'N', b'G', 0, 1, 2, 255];
    let encoded = base64::engine::general_purpose::STANDARD.encode(png);
    put(
        "image",
        &format!("def main(a):\n    return {{'statusCode': 201, 'headers': {{'Content-Type': 'image/png', 'X-Made-By': 'whirl'}}, 'body': '{encoded}'}}"),
        json!([{"key": "web-export", "value": true}]),
    );
    let image = web.get("/api/v1/web/guest/default/image");
    assert_eq!(image.status, 201);
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert_eq!(image.header("x-made-by"), Some("whirl"));
    assert_eq!(image.bytes, png);

    // Parameters of a `final` web action (what `--web true` sets) and the reserved `__ow_*`
    // properties cannot be set by a request, as in OpenWhisk; without `final` they can.
    for (name, finals) in [("fixed", true), ("open", false)] {
        let reply = guest.put(
            &format!("/api/v1/namespaces/_/actions/{name}"),
            &json!({"exec": {"kind": "python:3", "code": "def main(a):\n    return {'name': a['name']}"},
                    "parameters": [{"key": "name", "value": "Jane"}],
                    "annotations": [{"key": "web-export", "value": true}, {"key": "final", "value": finals}]}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    assert_eq!(
        web.get("/api/v1/web/guest/default/fixed.json").json["name"],
        "Jane"
    );
    web.get("/api/v1/web/guest/default/fixed.json?name=Bob")
        .assert_error(400, "'name' is a final parameter of the action");
    web.raw(
        "POST",
        "/api/v1/web/guest/default/fixed.json",
        Some(br#"{"name":"Bob"}"#),
        &[("Content-Type", "application/json")],
    )
    .assert_error(400, "'name' is a final parameter");
    web.get("/api/v1/web/guest/default/open.json?__ow_method=put")
        .assert_error(400, "'__ow_method' is reserved");
    assert_eq!(
        web.get("/api/v1/web/guest/default/open.json?name=Bob").json["name"],
        "Bob"
    );

    // A header whose value is an array is sent once per value, as OpenWhisk does.
    put(
        "cookies",
        "def main(a):\n    return {'headers': {'Set-Cookie': ['a=1', 'b=2'], 'X-One': 1}, 'body': 'ok'}",
        json!([{"key": "web-export", "value": true}]),
    );
    let cookies = web.get("/api/v1/web/guest/default/cookies");
    assert_eq!(cookies.status, 200, "{}", cookies.text);
    let set: Vec<&str> = cookies
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(set, ["a=1", "b=2"]);
    assert_eq!(cookies.header("x-one"), Some("1"));

    // raw-http: the query and the body arrive untouched (binary bodies base64-encoded).
    put(
        "raw",
        "def main(a):\n    return {'body': {'query': a['__ow_query'], 'body': a['__ow_body'], 'q': a.get('q')}}",
        json!([{"key": "web-export", "value": true}, {"key": "raw-http", "value": true}]),
    );
    let reply = web.raw(
        "PUT",
        "/api/v1/web/guest/default/raw?q=1&r=2",
        Some(&[1u8, 2, 3]),
        &[("Content-Type", "application/octet-stream")],
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["query"], "q=1&r=2");
    assert_eq!(reply.json["body"], "AQID");
    assert_eq!(reply.json["q"], serde_json::Value::Null);

    // require-whisk-auth with a secret: the X-Require-Whisk-Auth header must match.
    put(
        "guarded",
        "def main(a):\n    return {'body': 'in'}",
        json!([{"key": "web-export", "value": true}, {"key": "require-whisk-auth", "value": "s3cret"}]),
    );
    web.get("/api/v1/web/guest/default/guarded")
        .assert_error(401, "requires authentication");
    web.raw(
        "GET",
        "/api/v1/web/guest/default/guarded",
        None,
        &[("X-Require-Whisk-Auth", "wrong")],
    )
    .assert_error(401, "does not match");
    let inside = web.raw(
        "GET",
        "/api/v1/web/guest/default/guarded",
        None,
        &[("X-Require-Whisk-Auth", "s3cret")],
    );
    assert_eq!(inside.status, 200);
    assert_eq!(inside.text, "in");
    // require-whisk-auth true: a key of the namespace.
    put(
        "keyed",
        "def main(a):\n    return {'body': 'keyed'}",
        json!([{"key": "web-export", "value": true}, {"key": "require-whisk-auth", "value": true}]),
    );
    assert_eq!(web.get("/api/v1/web/guest/default/keyed").status, 401);
    assert_eq!(guest.get("/api/v1/web/guest/default/keyed").text, "keyed");

    // A web action in a package. As in OpenWhisk, an application error answers through the
    // extension with its `error` value (the path ignored), and any other failure answers 400.
    guest.put("/api/v1/namespaces/_/packages/site", &json!({}));
    let reply = guest.put(
        "/api/v1/namespaces/_/actions/site/broken",
        &json!({"exec": {"kind": "python:3", "code": "def main(a):\n    if a.get('crash'):\n        raise SystemExit(1)\n    return {'error': {'statusCode': 404, 'headers': {'X-Why': 'gone'}, 'body': 'not here'}}"}, "annotations": [{"key": "web-export", "value": true}]}),
    );
    assert_eq!(reply.status, 200);
    let http = web.get("/api/v1/web/guest/site/broken");
    assert_eq!(http.status, 404, "{}", http.text);
    assert_eq!(http.text, "not here");
    assert_eq!(http.header("x-why"), Some("gone"));
    assert!(http.header("x-openwhisk-activation-id").is_some());
    let json_error = web.get("/api/v1/web/guest/site/broken.json/body");
    assert_eq!(json_error.status, 200);
    assert_eq!(json_error.json["statusCode"], 404);
    web.get("/api/v1/web/guest/site/broken.text")
        .assert_error(400, "not a string");
    web.get("/api/v1/web/guest/site/broken.json?crash=true")
        .assert_error(400, "There was an error processing your request.");
}
