//! The OpenAPI 3 document of the API, generated from the route table (`routes::routes`) and served
//! at `/api/v1/api-docs`.

use crate::routes::{routes, Auth};
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// What a query parameter is.
fn query_parameter(name: &str) -> Value {
    let (schema, description) = match name {
        "skip" => ("integer", "Entries to skip (default 0)."),
        "limit" => (
            "integer",
            "Entries to return (default 30, at most 200; 0 means 200).",
        ),
        "count" => ("boolean", "Answer only {\"<collection>\": N}."),
        "docs" => ("boolean", "Full activation records instead of summaries."),
        "since" => (
            "integer",
            "Only activations that started at or after this time (epoch ms).",
        ),
        "upto" => (
            "integer",
            "Only activations that started at or before this time (epoch ms).",
        ),
        "name" => ("string", "Only activations of this action or trigger."),
        "code" => ("boolean", "Include the action's code (default true)."),
        "overwrite" => (
            "boolean",
            "Update the entity if it exists (default false: 409).",
        ),
        "blocking" => ("boolean", "Wait for the activation to end (default false)."),
        "result" => ("boolean", "Blocking: answer only the activation's result."),
        "timeout" => (
            "integer",
            "Blocking: the longest wait in ms (at most 60000).",
        ),
        "force" => ("boolean", "Delete a package with its actions."),
        _ => ("string", ""),
    };
    json!({"name": name, "in": "query", "required": false, "schema": {"type": schema}, "description": description})
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let description = match name {
                "ns" => "A namespace; `_` is the caller's.",
                "pkg" => "A package (for web actions, `default` means no package).",
                "name" => "An entity name.",
                "id" => "An activation id (32 lowercase hex characters).",
                "action" => "The action, with an optional extension and path: name[.ext][/path].",
                _ => "",
            };
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
        })
        .collect()
}

/// Builds the document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let entry = paths
            .entry(route.doc_path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let mut parameters = path_parameters(route.doc_path);
        parameters.extend(route.query.iter().map(|name| query_parameter(name)));
        let mut responses = Map::new();
        for (code, description) in route.responses {
            responses.insert(code.to_string(), json!({"description": description}));
        }
        responses.insert(
            "default".into(),
            json!({"description": "An error: {\"error\", \"code\"}.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}}}),
        );
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
        if route.body {
            operation["requestBody"] = json!({"required": false, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        if let Value::Object(methods) = entry {
            for method in route.method.openapi_names() {
                methods.insert((*method).to_owned(), operation.clone());
            }
        }
    }
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
            "schemas": {
                "ErrorMessage": {
                    "type": "object",
                    "required": ["error", "code"],
                    "properties": {"error": {"type": "string"}, "code": {"type": "string"}}
                }
            }
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
}
