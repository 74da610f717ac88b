//! The OpenAPI 3 document of the API, generated from the route table (`routes::routes`) and served
//! at `/api/v1/api-docs`.

use crate::config::DEFAULT_MAX_LIST_LIMIT;
use crate::names::MAX_NAME_LENGTH;
use crate::routes::{routes, schema_of, Auth, Body, OPENFAAS_TAG};
use crate::wire::ErrorBody;
use actix_web::HttpResponse;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// What a query parameter is.
fn query_parameter(name: &str) -> Value {
    let schema = match name {
        "skip" => json!({"type": "integer", "minimum": 0}),
        "limit" => json!({"type": "integer", "minimum": 0, "maximum": DEFAULT_MAX_LIST_LIMIT}),
        "since" | "upto" | "timeout" => json!({"type": "integer", "minimum": 0}),
        // A bare flag (`?blocking`, an empty value) reads as true (`Query::flag`).
        "count" | "docs" | "code" | "overwrite" | "blocking" | "result" | "force" => {
            json!({"anyOf": [{"type": "boolean"}, {"type": "string", "enum": [""]}]})
        }
        _ => json!({"type": "string"}),
    };
    let description = match name {
        "skip" => "Entries to skip (default 0).",
        "limit" => "Entries to return (default 30, at most 200; 0 means 200).",
        "count" => "Answer only {\"<collection>\": N}.",
        "docs" => "Full activation records instead of summaries.",
        "since" => "Only activations that started at or after this time (epoch ms).",
        "upto" => "Only activations that started at or before this time (epoch ms).",
        "name" => "Only activations of this action or trigger.",
        "code" => "Include the action's code (default true).",
        "overwrite" => "Update the entity if it exists (default false: 409).",
        "blocking" => "Wait for the activation to end (default false).",
        "result" => "Blocking: answer only the activation's result.",
        "timeout" => "Blocking: the longest wait in ms (at most 60000).",
        "force" => "Delete a package with its actions.",
        _ => "",
    };
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

/// OpenWhisk's entity-name rule (`names::is_valid_name`) as a schema.
fn entity_name() -> Value {
    json!({
        "type": "string",
        "maxLength": MAX_NAME_LENGTH,
        "pattern": "^[A-Za-z0-9_]([A-Za-z0-9_@ .&-]*[A-Za-z0-9_@.&-])?$"
    })
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let (description, schema) = match name {
                "ns" => ("A namespace; `_` is the caller's.", entity_name()),
                "pkg" => (
                    "A package (for web actions, `default` means no package).",
                    entity_name(),
                ),
                "name" => ("An entity name.", entity_name()),
                "id" => (
                    "An activation id (32 lowercase hex characters).",
                    json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}),
                ),
                "action" => (
                    "The action, with an optional extension and path: name[.ext][/path].",
                    json!({"type": "string"}),
                ),
                _ => ("", json!({"type": "string"})),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema, "description": description})
        })
        .collect()
}

/// How a route's errors look: OpenWhisk's `{"error", "code"}`, except on the OpenFaaS gateway
/// routes, which answer a plain-text message as OpenFaaS's gateway does (`openfaas::text`).
fn error_response(tag: &str, generator: &mut SchemaGenerator) -> Value {
    if tag == OPENFAAS_TAG {
        json!({"description": "An error, as plain text (OpenFaaS).", "content": {"text/plain": {"schema": {"type": "string"}}}})
    } else {
        json!({"description": "An error: {\"error\", \"code\"}.", "content": {"application/json": {"schema": schema_of::<ErrorBody>(generator)}}})
    }
}

/// Builds the document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for route in routes() {
        let entry = paths
            .entry(route.doc_path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let mut parameters = path_parameters(route.doc_path);
        parameters.extend(route.query.iter().map(|name| query_parameter(name)));
        let mut responses = Map::new();
        for (code, description, schema) in route.responses {
            let mut response = json!({"description": description});
            if let Some(schema) = schema {
                response["content"] =
                    json!({"application/json": {"schema": schema(&mut generator)}});
            }
            responses.insert(code.to_string(), response);
        }
        responses.insert("default".into(), error_response(route.tag, &mut generator));
        let security = match route.auth {
            Auth::Public => json!([]),
            Auth::Key => json!([{"basicAuth": []}]),
            Auth::WebAction => json!([{}, {"basicAuth": []}]),
            Auth::Admin => json!([{"adminToken": []}]),
            Auth::Metrics => json!([{}, {"metricsToken": []}]),
        };
        let mut operation = json!({
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": parameters,
            "responses": responses,
            "security": security,
        });
        match route.body {
            Body::None => {}
            Body::AnyObject => {
                operation["requestBody"] = json!({"required": false, "content": {"application/json": {"schema": {"type": "object"}}}});
            }
            Body::AnyContent => {
                operation["requestBody"] =
                    json!({"required": false, "content": {"*/*": {"schema": {}}}});
            }
            Body::Of(schema) => {
                // An empty body reads as `{}` (`handlers::parse_body`).
                operation["requestBody"] = json!({"required": false, "description": "A JSON object; an empty body means {}.", "content": {"application/json": {"schema": schema(&mut generator)}}});
            }
        }
        if let Value::Object(methods) = entry {
            for method in route.method.openapi_names() {
                methods.insert((*method).to_owned(), operation.clone());
            }
        }
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Whirl REST API (OpenWhisk-compatible)",
            "version": "1.0.0",
            "description": "Actions, packages, triggers, rules, activations, namespaces and web actions, with OpenWhisk's JSON shapes. Errors answer {\"error\": message, \"code\": request id}."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic", "description": "uuid:key of an API key."},
                "adminToken": {"type": "http", "scheme": "bearer", "description": "The token in <data-dir>/admin.token."},
                "metricsToken": {"type": "http", "scheme": "bearer", "description": "The token of whirl serve --metrics-token (loopback peers need none)."}
            },
            "schemas": schemas

        }
    })
}

/// `GET /api/v1/api-docs`.
pub async fn api_docs() -> HttpResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| document().to_string());
    HttpResponse::Ok()
        .content_type("application/json")
        .body(text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_document() {
        let document = document();
        for route in routes() {
            for method in route.method.openapi_names() {
                assert!(
                    document["paths"][route.doc_path][*method].is_object(),
                    "{method} {} missing",
                    route.doc_path
                );
            }
        }
        let invoke = &document["paths"]["/api/v1/namespaces/{ns}/actions/{name}"]["post"];
        assert_eq!(invoke["operationId"], "invokeAction");
        let names: Vec<&str> = invoke["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["ns", "name", "blocking", "result", "timeout"]);
    }

    #[test]
    fn errors_are_documented_in_the_shape_each_gateway_answers() {
        let document = document();
        let paths = &document["paths"];
        let whisk =
            &paths["/api/v1/namespaces/{ns}/actions/{name}"]["post"]["responses"]["default"];
        assert!(whisk["content"]["application/json"].is_object(), "{whisk}");
        for (path, method) in [
            ("/function/{name}", "post"),
            ("/system/functions", "get"),
            ("/async-function/{name}", "post"),
        ] {
            let error = &paths[path][method]["responses"]["default"];
            assert!(
                error["content"]["text/plain"].is_object(),
                "{path}: {error}"
            );
            assert!(
                error["content"]["application/json"].is_null(),
                "{path}: {error}"
            );
        }
    }
}
