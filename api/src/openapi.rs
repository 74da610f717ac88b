//! The OpenAPI 3 document of the API, generated from the route table (`routes::routes`) and served
//! at `/api/v1/api-docs`.

use crate::config::{ActionLimitRanges, ApiConfig};
use crate::console::stats;
use crate::names::{MAX_NAME_LENGTH, NAME_PATTERN};
use crate::routes::{routes, schema_of, Auth, Body, OPENFAAS_TAG};
use crate::state::ApiState;
use crate::wire::ErrorBody;
use actix_web::{web, HttpResponse};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{json, Map, Value};
use store::EntityKind;

/// What a query parameter of a route of `tag` is.
fn query_parameter(name: &str, tag: &str, config: &ApiConfig) -> Value {
    if tag == OPENFAAS_TAG {
        return openfaas_query_parameter(name);
    }
    let schema = match name {
        "skip" | "since" | "upto" => {
            json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
        }
        "limit" => json!({"type": "integer", "minimum": 0, "maximum": config.max_list_limit}),
        "timeout" => {
            json!({"type": "integer", "minimum": 1, "maximum": config.max_blocking_wait_ms})
        }
        "minutes" => json!({"type": "integer", "minimum": 1, "maximum": stats::MAX_MINUTES}),
        // A bare flag (`?blocking`, an empty value) reads as true (`Query::flag`).
        "count" | "docs" | "code" | "overwrite" | "blocking" | "result" | "force" => {
            json!({"anyOf": [{"type": "boolean"}, {"type": "string", "enum": [""]}]})
        }
        _ => json!({"type": "string"}),
    };
    let description = match name {
        "skip" => "Entries to skip (default 0).".to_owned(),
        "limit" => format!(
            "Entries to return (default {}, at most {max}; 0 means {max}).",
            config.default_list_limit,
            max = config.max_list_limit
        ),
        "timeout" => format!(
            "Blocking: the longest wait in ms (at most {}).",
            config.max_blocking_wait_ms
        ),
        "count" => "Answer only {\"<collection>\": N}.".to_owned(),
        "docs" => "Full activation records instead of summaries.".to_owned(),
        "since" => "Only activations that started at or after this time (epoch ms).".to_owned(),
        "upto" => "Only activations that started at or before this time (epoch ms).".to_owned(),
        "name" => "Only activations of this action or trigger.".to_owned(),
        "code" => "Include the action's code (default true).".to_owned(),
        "overwrite" => "Update the entity if it exists (default false: 409).".to_owned(),
        "blocking" => "Wait for the activation to end (default false).".to_owned(),
        "result" => "Blocking: answer only the activation's result.".to_owned(),
        "force" => "Delete a package with its actions.".to_owned(),
        "minutes" => format!(
            "The window of the statistics in minutes (default {}, at most {}).",
            stats::DEFAULT_MINUTES,
            stats::MAX_MINUTES
        ),
        _ => String::new(),
    };
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

/// The query parameters of the OpenFaaS gateway's routes (`/system/logs`, `namespace`).
fn openfaas_query_parameter(name: &str) -> Value {
    let (required, schema, description) = match name {
        "name" => (
            true,
            json!({"type": "string", "minLength": 1}),
            "The function.",
        ),
        // RFC 3339 in UTC (`Z` or `+00:00`), or unix seconds (`openfaas::logs::parse_since`).
        "since" => (
            false,
            json!({"type": "string", "pattern": "^(|[0-9]{1,15}|(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|\\+00:00))$"}),
            "Only lines at or after this time: RFC 3339 in UTC, or unix seconds.",
        ),
        "tail" => (
            false,
            json!({"anyOf": [{"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}, {"type": "string", "enum": [""]}]}),
            "Only the last N lines (negative or empty: all).",
        ),
        "follow" => (
            false,
            json!({"type": "string"}),
            "`true` or `1` keeps the stream open.",
        ),
        "namespace" => (
            false,
            json!({"type": "string"}),
            "The function's namespace (the key's by default).",
        ),
        _ => (false, json!({"type": "string"}), ""),
    };
    json!({"name": name, "in": "query", "required": required, "schema": schema, "description": description})
}

/// OpenWhisk's entity-name rule (`names::is_valid_name`) as a schema.
fn entity_name() -> Value {
    json!({
        "type": "string",
        "maxLength": MAX_NAME_LENGTH,
        "pattern": NAME_PATTERN
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
                "kind" => (
                    "The kind of entity.",
                    // The console keeps no history of API keys.
                    json!({"type": "string", "enum": EntityKind::ALL
                        .into_iter()
                        .filter(|kind| *kind != EntityKind::ApiKey)
                        .map(EntityKind::as_str)
                        .collect::<Vec<_>>()}),
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

/// Builds the document for a server that enforces `config`.
pub fn document(config: &ApiConfig) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for route in routes() {
        let entry = paths
            .entry(route.doc_path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let mut parameters = path_parameters(route.doc_path);
        parameters.extend(
            route
                .query
                .iter()
                .map(|name| query_parameter(name, route.tag, config)),
        );
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
            // The OpenFaaS gateway's routes want their JSON document, as OpenFaaS's do.
            Body::Of(schema) if route.tag == OPENFAAS_TAG => {
                operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema(&mut generator)}}});
            }
            Body::Of(schema) => {
                // An empty body reads as `{}` (`handlers::parse_body`), which is enough unless
                // the document has required fields.
                let schema = schema(&mut generator);
                let required = has_required_fields(&schema, &generator);
                operation["requestBody"] = json!({"required": required, "description": "A JSON object; an empty body means {}.", "content": {"application/json": {"schema": schema}}});
            }
        }
        if let Value::Object(methods) = entry {
            for method in route.method.openapi_names() {
                methods.insert((*method).to_owned(), operation.clone());
            }
        }
    }
    let mut schemas = generator.take_definitions(true);
    apply_action_limit_ranges(&mut schemas, &config.action_limits);
    for schema in schemas.values_mut() {
        bound_integer_formats(schema);
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
            "schemas": schemas

        }
    })
}

/// Whether the schema (a `$ref` to a definition, or inline) lists required properties.
fn has_required_fields(schema: &schemars::Schema, generator: &SchemaGenerator) -> bool {
    let value = schema.as_value();
    let definition = match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .rsplit('/')
            .next()
            .and_then(|name| generator.definitions().get(name)),
        None => Some(value),
    };
    definition
        .and_then(|definition| definition.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|required| !required.is_empty())
}

/// Gives every integer of a sized format (`uint32`, `int64`, ... as schemars writes Rust's integer
/// types) the bounds of its type, where the schema has none: a larger number does not parse.
fn bound_integer_formats(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let bounds: Option<(i128, i128)> = match object.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((0, u8::MAX.into())),
                Some("uint16") => Some((0, u16::MAX.into())),
                Some("uint32") => Some((0, u32::MAX.into())),
                Some("uint64" | "uint") => Some((0, u64::MAX.into())),
                Some("int8") => Some((i8::MIN.into(), i8::MAX.into())),
                Some("int16") => Some((i16::MIN.into(), i16::MAX.into())),
                Some("int32") => Some((i32::MIN.into(), i32::MAX.into())),
                Some("int64" | "int") => Some((i64::MIN.into(), i64::MAX.into())),
                _ => None,
            };
            if let Some((min, max)) = bounds {
                for (key, bound) in [("minimum", min), ("maximum", max)] {
                    if !object.contains_key(key) {
                        let number = match (u64::try_from(bound), i64::try_from(bound)) {
                            (Ok(unsigned), _) => Value::from(unsigned),
                            (_, Ok(signed)) => Value::from(signed),
                            _ => continue,
                        };
                        object.insert(key.into(), number);
                    }
                }
            }
            object.values_mut().for_each(bound_integer_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integer_formats),
        _ => {}
    }
}

/// The server's ranges of an action's limits (`ApiConfig::action_limits`) on `ActionLimitsPut`.
fn apply_action_limit_ranges(schemas: &mut Map<String, Value>, ranges: &ActionLimitRanges) {
    let Some(properties) = schemas
        .get_mut("ActionLimitsPut")
        .and_then(|schema| schema.get_mut("properties"))
    else {
        return;
    };
    let bounds = [
        ("timeout", ranges.timeout_ms.0, ranges.timeout_ms.1),
        (
            "memory",
            ranges.memory_mb.0.into(),
            ranges.memory_mb.1.into(),
        ),
        ("logs", ranges.logs_mb.0.into(), ranges.logs_mb.1.into()),
        (
            "concurrency",
            ranges.concurrency.0.into(),
            ranges.concurrency.1.into(),
        ),
    ];
    for (field, min, max) in bounds {
        if let Some(Value::Object(property)) = properties.get_mut(field) {
            property.insert("minimum".into(), min.into());
            property.insert("maximum".into(), max.into());
        }
    }
}

/// `GET /api/v1/api-docs`: built once per server (it depends on the server's configuration).
pub async fn api_docs(state: web::Data<ApiState>) -> HttpResponse {
    let text = state
        .api_docs
        .get_or_init(|| document(&state.config).to_string())
        .clone();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_document() {
        let document = document(&ApiConfig::default());
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
        let document = document(&ApiConfig::default());
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

    #[test]
    fn the_document_carries_the_servers_ranges() {
        let config = ApiConfig {
            max_list_limit: 500,
            max_blocking_wait_ms: 90_000,
            action_limits: ActionLimitRanges {
                memory_mb: (64, 2048),
                ..ActionLimitRanges::default()
            },
            ..ApiConfig::default()
        };
        let document = document(&config);
        let parameter = |path: &str, method: &str, name: &str| {
            document["paths"][path][method]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|parameter| parameter["name"] == name)
                .cloned()
                .unwrap_or_default()
        };
        let limit = parameter("/api/v1/namespaces/{ns}/actions", "get", "limit");
        assert_eq!(limit["schema"]["maximum"], 500, "{limit}");
        let timeout = parameter("/api/v1/namespaces/{ns}/actions/{name}", "post", "timeout");
        assert_eq!(timeout["schema"]["minimum"], 1, "{timeout}");
        assert_eq!(timeout["schema"]["maximum"], 90_000, "{timeout}");
        let fires = &document["components"]["schemas"]["NamespaceThrottles"]["properties"]
            ["firesPerMinute"];
        assert_eq!(fires["maximum"], u32::MAX, "{fires}");
        let memory = &document["components"]["schemas"]["ActionLimitsPut"]["properties"]["memory"];
        assert_eq!(memory["minimum"], 64, "{memory}");
        assert_eq!(memory["maximum"], 2048, "{memory}");
    }

    #[test]
    fn a_body_with_required_fields_is_required() {
        let document = document(&ApiConfig::default());
        let body =
            |path: &str, method: &str| document["paths"][path][method]["requestBody"].clone();
        // `{"name"}` and `{"status"}` cannot be left out; an action's `PUT` can be `{}`.
        assert_eq!(body("/admin/v1/namespaces", "post")["required"], true);
        assert_eq!(
            body("/api/v1/namespaces/{ns}/rules/{name}", "post")["required"],
            true
        );
        assert_eq!(
            body("/api/v1/namespaces/{ns}/actions/{name}", "put")["required"],
            false
        );
        // OpenFaaS's routes want their document.
        assert_eq!(
            body("/system/scale-function/{name}", "post")["required"],
            true
        );
    }
}
