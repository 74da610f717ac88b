//! The route table: every route of the API, once. The router is built from it, and so is the
//! OpenAPI document (`/api/v1/api-docs`), so the two cannot disagree.

use crate::handlers::{actions, activations, namespaces, packages, rules, triggers};
use crate::wire::{
    Action, ActionPut, ActionSummary, Activation, ActivationIdBody, ActivationLogs,
    ActivationResult, ActivationSummary, ApiInfo, FunctionDeletion, FunctionDeployment,
    FunctionStatus, GatewayInfo, IssuedNamespaceKey, NamespaceCreate, NamespaceLimitsBody,
    NamespaceListing, Package, PackagePut, PackageSummary, Rule, RulePut, RuleStatusBody,
    ScaleServiceRequest, Trigger, TriggerPut,
};
use crate::{admin, console, info, openapi, openfaas, web_actions};
use actix_web::Route;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// The methods OpenWhisk's web actions take.
const WEB_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Put,
    Post,
    Delete,
    /// The methods OpenWhisk's web actions take: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS.
    Web,
    /// Every method: an OpenFaaS function gets the caller's method, whatever it is, as the
    /// OpenFaaS gateway forwards it (the document lists the usual seven).
    Any,
}

impl HttpMethod {
    /// The lowercase name OpenAPI uses for the method.
    pub fn openapi_names(self) -> &'static [&'static str] {
        match self {
            HttpMethod::Get => &["get"],
            HttpMethod::Put => &["put"],
            HttpMethod::Post => &["post"],
            HttpMethod::Delete => &["delete"],
            HttpMethod::Web | HttpMethod::Any => {
                &["get", "post", "put", "delete", "patch", "head", "options"]
            }
        }
    }

    /// The method names an `Allow` header lists for the route.
    pub fn header_names(self) -> &'static [&'static str] {
        match self {
            HttpMethod::Get => &["GET", "HEAD"],
            HttpMethod::Put => &["PUT"],
            HttpMethod::Post => &["POST"],
            HttpMethod::Delete => &["DELETE"],
            HttpMethod::Web | HttpMethod::Any => WEB_METHODS,
        }
    }

    fn route(self) -> Route {
        match self {
            // HEAD as GET without the body (RFC 9110; actix-web leaves the body out of HEAD answers).
            HttpMethod::Get => actix_web::web::route()
                .guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head())),
            HttpMethod::Put => actix_web::web::put(),
            HttpMethod::Post => actix_web::web::post(),
            HttpMethod::Delete => actix_web::web::delete(),
            HttpMethod::Web => actix_web::web::route().guard(actix_web::guard::fn_guard(|ctx| {
                WEB_METHODS.contains(&ctx.head().method.as_str())
            })),
            HttpMethod::Any => actix_web::web::route(),
        }
    }
}

/// How a route authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// None.
    Public,
    /// HTTP Basic with an API key.
    Key,
    /// Web actions: none, unless the action asks for it (`require-whisk-auth`).
    WebAction,
    /// The operator's bearer token (`<data-dir>/admin.token`).
    Admin,
    /// `/metrics`: none from loopback peers, else the metrics bearer token (`--metrics-token`).
    Metrics,
}

/// The tag of the OpenFaaS gateway's routes (their errors are plain text, not OpenWhisk's JSON).
pub const OPENFAAS_TAG: &str = "openfaas";

/// One route.
pub struct RouteSpec {
    pub method: HttpMethod,
    /// The actix-web path pattern.
    pub path: &'static str,
    /// The path as the OpenAPI document writes it.
    pub doc_path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub auth: Auth,
    /// Query parameters the route reads.
    pub query: &'static [&'static str],
    /// What the route reads as its JSON body.
    pub body: Body,
    /// Answers other than errors: status, description, and the schema of the JSON answered.
    pub responses: &'static [(u16, &'static str, Option<SchemaOf>)],
    /// Attaches the handler.
    pub to: fn(Route) -> Route,
}

/// The JSON schema of a wire type, as the OpenAPI document writes it (a `$ref` to
/// `#/components/schemas/...` for a named type).
pub type SchemaOf = fn(&mut SchemaGenerator) -> Schema;

/// What a route reads as its body.
#[derive(Clone, Copy)]
pub enum Body {
    /// Nothing.
    None,
    /// Any JSON object (an invocation's or a trigger's parameters).
    AnyObject,
    /// Any bytes of any content type (a web action's or an OpenFaaS function's request).
    AnyContent,
    /// A JSON document of this schema.
    Of(SchemaOf),
}

/// The schema of `T`.
pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A collection route's answer: an array of `T`, or `{"<collection>": N}` with `count=true`.
fn list_or_count<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let list = generator.subschema_for::<Vec<T>>();
    json_schema!({"anyOf": [list, {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 1, "maxProperties": 1}]})
}

/// A blocking invocation's answer: the activation record, or with `result=true` only its result
/// (any JSON object).
fn activation_or_result(generator: &mut SchemaGenerator) -> Schema {
    let record = generator.subschema_for::<Activation>();
    json_schema!({"anyOf": [record, {"type": "object"}]})
}

/// The activation list: summaries, full records (`docs=true`), or `{"activations": N}`.
fn activation_list(generator: &mut SchemaGenerator) -> Schema {
    let summaries = generator.subschema_for::<Vec<ActivationSummary>>();
    let records = generator.subschema_for::<Vec<Activation>>();
    json_schema!({"anyOf": [summaries, records, {"type": "object", "properties": {"activations": {"type": "integer"}}, "required": ["activations"]}]})
}

macro_rules! route {
    (@schema) => { None };
    (@schema $schema:expr) => { Some($schema as SchemaOf) };
    ($method:ident, $path:expr, $doc:expr, $op:expr, $tag:expr, $auth:ident, [$($q:expr),*], $body:expr, [$($code:expr => $desc:expr $(=> $schema:expr)?),*], $handler:path, $summary:expr) => {
        RouteSpec {
            method: HttpMethod::$method,
            path: $path,
            doc_path: $doc,
            operation_id: $op,
            summary: $summary,
            tag: $tag,
            auth: Auth::$auth,
            query: &[$($q),*],
            body: $body,
            responses: &[$(($code, $desc, route!(@schema $($schema)?))),*],
            to: |route| route.to($handler),
        }
    };
}

/// Every route, in matching order (actix tries resources in the order they are registered).
pub fn routes() -> Vec<RouteSpec> {
    vec![
        // An action by name first, its invocation (POST) before its other methods: the invoke path is
        // the hottest, and neither pattern matches a path of the routes below that it now precedes
        // (`routes_are_matched_by_the_route_that_declares_them` checks every route).
        route!(Post, "/api/v1/namespaces/{ns}/actions/{name}", "/api/v1/namespaces/{ns}/actions/{name}", "invokeAction", "actions", Key, ["blocking", "result", "timeout"], Body::AnyObject, [200 => "Blocking: the activation (or its result)." => activation_or_result, 202 => "Non-blocking, or still running after the wait: {\"activationId\"}." => schema_of::<ActivationIdBody>, 500 => "Blocking: the activation ended with a whisk internal error (the record, or its result)." => activation_or_result, 502 => "Blocking: the action failed (application or developer error): the record, or its result." => activation_or_result], actions::invoke_action, "Invoke an action."),
        route!(Get, "/api/v1/namespaces/{ns}/actions/{name}", "/api/v1/namespaces/{ns}/actions/{name}", "getActionByName", "actions", Key, ["code"], Body::None, [200 => "The action." => schema_of::<Action>], actions::get, "Get an action."),
        route!(Put, "/api/v1/namespaces/{ns}/actions/{name}", "/api/v1/namespaces/{ns}/actions/{name}", "updateAction", "actions", Key, ["overwrite"], Body::Of(schema_of::<ActionPut>), [200 => "The action as stored." => schema_of::<Action>], actions::put, "Create or update an action."),
        route!(Delete, "/api/v1/namespaces/{ns}/actions/{name}", "/api/v1/namespaces/{ns}/actions/{name}", "deleteAction", "actions", Key, [], Body::None, [200 => "The deleted action." => schema_of::<Action>], actions::delete, "Delete an action."),
        route!(Post, "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "invokeActionInPackage", "actions", Key, ["blocking", "result", "timeout"], Body::AnyObject, [200 => "Blocking: the activation (or its result)." => activation_or_result, 202 => "Non-blocking, or still running after the wait: {\"activationId\"}." => schema_of::<ActivationIdBody>, 500 => "Blocking: a whisk internal error (the record, or its result)." => activation_or_result, 502 => "Blocking: the action failed: the record, or its result." => activation_or_result], actions::invoke_action, "Invoke an action of a package."),
        route!(Get, "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "getActionInPackage", "actions", Key, ["code"], Body::None, [200 => "The action, with the package's parameters." => schema_of::<Action>], actions::get, "Get an action of a package."),
        route!(Put, "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "updateActionInPackage", "actions", Key, ["overwrite"], Body::Of(schema_of::<ActionPut>), [200 => "The action as stored." => schema_of::<Action>], actions::put, "Create or update an action in a package."),
        route!(Delete, "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "/api/v1/namespaces/{ns}/actions/{pkg}/{name}", "deleteActionInPackage", "actions", Key, [], Body::None, [200 => "The deleted action." => schema_of::<Action>], actions::delete, "Delete an action of a package."),
        route!(Get, "/api/v1", "/api/v1", "getApiInfo", "info", Public, [], Body::None, [200 => "The API description." => schema_of::<ApiInfo>], info::api_info, "Describe the API (no authentication)."),
        route!(Get, "/api/v1/api-docs", "/api/v1/api-docs", "getApiDocs", "info", Public, [], Body::None, [200 => "This OpenAPI document."], openapi::api_docs, "The OpenAPI document of the API."),
        route!(Get, "/api/v1/namespaces", "/api/v1/namespaces", "getNamespaces", "namespaces", Key, [], Body::None, [200 => "The caller's namespace, as a one-element array." => schema_of::<Vec<String>>], namespaces::list, "List the caller's namespaces."),
        route!(Get, "/api/v1/namespaces/{ns}/limits", "/api/v1/namespaces/{ns}/limits", "getLimits", "namespaces", Key, [], Body::None, [200 => "The limits in force." => schema_of::<NamespaceLimitsBody>], namespaces::limits, "The limits of a namespace."),
        // Actions.
        route!(Get, "/api/v1/namespaces/{ns}/actions", "/api/v1/namespaces/{ns}/actions", "getAllActions", "actions", Key, ["skip", "limit", "count"], Body::None, [200 => "Action summaries (no code)." => list_or_count::<ActionSummary>], actions::list, "List the actions of a namespace."),
        route!(Get, "/api/v1/namespaces/{ns}/actions/{pkg}/", "/api/v1/namespaces/{ns}/actions/{pkg}/", "getActionsInPackage", "actions", Key, ["skip", "limit"], Body::None, [200 => "Action summaries of the package." => schema_of::<Vec<ActionSummary>>], actions::list_in_package, "List the actions of a package."),
        // Packages.
        route!(Get, "/api/v1/namespaces/{ns}/packages", "/api/v1/namespaces/{ns}/packages", "getAllPackages", "packages", Key, ["skip", "limit", "count"], Body::None, [200 => "Package summaries (another namespace's: the public ones)." => list_or_count::<PackageSummary>], packages::list, "List packages."),
        route!(Get, "/api/v1/namespaces/{ns}/packages/{name}", "/api/v1/namespaces/{ns}/packages/{name}", "getPackageByName", "packages", Key, [], Body::None, [200 => "The package with its actions." => schema_of::<Package>], packages::get, "Get a package or binding."),
        route!(Put, "/api/v1/namespaces/{ns}/packages/{name}", "/api/v1/namespaces/{ns}/packages/{name}", "updatePackage", "packages", Key, ["overwrite"], Body::Of(schema_of::<PackagePut>), [200 => "The package as stored." => schema_of::<Package>], packages::put, "Create or update a package or binding."),
        route!(Delete, "/api/v1/namespaces/{ns}/packages/{name}", "/api/v1/namespaces/{ns}/packages/{name}", "deletePackage", "packages", Key, ["force"], Body::None, [200 => "The deleted package." => schema_of::<Package>], packages::delete, "Delete a package."),
        // Triggers.
        route!(Get, "/api/v1/namespaces/{ns}/triggers", "/api/v1/namespaces/{ns}/triggers", "getAllTriggers", "triggers", Key, ["skip", "limit", "count"], Body::None, [200 => "Triggers." => list_or_count::<Trigger>], triggers::list, "List triggers."),
        route!(Get, "/api/v1/namespaces/{ns}/triggers/{name}", "/api/v1/namespaces/{ns}/triggers/{name}", "getTriggerByName", "triggers", Key, [], Body::None, [200 => "The trigger with its rules." => schema_of::<Trigger>], triggers::get, "Get a trigger."),
        route!(Put, "/api/v1/namespaces/{ns}/triggers/{name}", "/api/v1/namespaces/{ns}/triggers/{name}", "updateTrigger", "triggers", Key, ["overwrite"], Body::Of(schema_of::<TriggerPut>), [200 => "The trigger as stored." => schema_of::<Trigger>], triggers::put, "Create or update a trigger."),
        route!(Post, "/api/v1/namespaces/{ns}/triggers/{name}", "/api/v1/namespaces/{ns}/triggers/{name}", "fireTrigger", "triggers", Key, [], Body::AnyObject, [202 => "Fired: {\"activationId\"} of the trigger's activation." => schema_of::<ActivationIdBody>, 204 => "No active rule: nothing fired."], triggers::fire, "Fire a trigger."),
        route!(Delete, "/api/v1/namespaces/{ns}/triggers/{name}", "/api/v1/namespaces/{ns}/triggers/{name}", "deleteTrigger", "triggers", Key, [], Body::None, [200 => "The deleted trigger." => schema_of::<Trigger>], triggers::delete, "Delete a trigger."),
        // Rules.
        route!(Get, "/api/v1/namespaces/{ns}/rules", "/api/v1/namespaces/{ns}/rules", "getAllRules", "rules", Key, ["skip", "limit", "count"], Body::None, [200 => "Rules." => list_or_count::<Rule>], rules::list, "List rules."),
        route!(Get, "/api/v1/namespaces/{ns}/rules/{name}", "/api/v1/namespaces/{ns}/rules/{name}", "getRuleByName", "rules", Key, [], Body::None, [200 => "The rule with its status." => schema_of::<Rule>], rules::get, "Get a rule."),
        route!(Put, "/api/v1/namespaces/{ns}/rules/{name}", "/api/v1/namespaces/{ns}/rules/{name}", "updateRule", "rules", Key, ["overwrite"], Body::Of(schema_of::<RulePut>), [200 => "The rule as stored." => schema_of::<Rule>], rules::put, "Create or update a rule."),
        route!(Post, "/api/v1/namespaces/{ns}/rules/{name}", "/api/v1/namespaces/{ns}/rules/{name}", "setState", "rules", Key, [], Body::Of(schema_of::<RuleStatusBody>), [200 => "The rule with its new status." => schema_of::<Rule>], rules::set_status, "Enable or disable a rule."),
        route!(Delete, "/api/v1/namespaces/{ns}/rules/{name}", "/api/v1/namespaces/{ns}/rules/{name}", "deleteRule", "rules", Key, [], Body::None, [200 => "The deleted rule." => schema_of::<Rule>], rules::delete, "Delete a rule."),
        // Activations.
        route!(Get, "/api/v1/namespaces/{ns}/activations", "/api/v1/namespaces/{ns}/activations", "getActivations", "activations", Key, ["name", "skip", "limit", "since", "upto", "docs", "count"], Body::None, [200 => "Activation summaries (records with docs=true), newest first." => activation_list], activations::list, "List activations."),
        route!(Get, "/api/v1/namespaces/{ns}/activations/{id}", "/api/v1/namespaces/{ns}/activations/{id}", "getActivationById", "activations", Key, [], Body::None, [200 => "The activation record." => schema_of::<Activation>], activations::get, "Get an activation."),
        route!(Get, "/api/v1/namespaces/{ns}/activations/{id}/result", "/api/v1/namespaces/{ns}/activations/{id}/result", "getActivationResult", "activations", Key, [], Body::None, [200 => "{status, success, result}." => schema_of::<ActivationResult>], activations::result, "Get an activation's result."),
        route!(Get, "/api/v1/namespaces/{ns}/activations/{id}/logs", "/api/v1/namespaces/{ns}/activations/{id}/logs", "getActivationLogs", "activations", Key, [], Body::None, [200 => "{logs}." => schema_of::<ActivationLogs>], activations::logs, "Get an activation's logs."),
        // Web actions.
        route!(Web, "/api/v1/web/{ns}/{pkg}/{action:.*}", "/api/v1/web/{ns}/{pkg}/{action}", "webAction", "web actions", WebAction, [], Body::AnyContent, [200 => "The action's answer, shaped by the extension (.http, .json, .html, .svg, .text)."], web_actions::handle, "Call a web action (`default` as the package of an action outside packages)."),
        // The web console: the embedded page and its own endpoints (`api/src/console/`).
        route!(Get, "/console", "/console", "consolePage", "console", Public, [], Body::None, [200 => "The web console (HTML)."], console::assets::index, "The web console."),
        route!(Get, "/console/", "/console/", "consolePageSlash", "console", Public, [], Body::None, [200 => "The web console (HTML)."], console::assets::index, "The web console."),
        route!(Get, "/console/assets/{file}", "/console/assets/{file}", "consoleAsset", "console", Public, [], Body::None, [200 => "A script or style sheet of the console.", 304 => "Unchanged (If-None-Match)."], console::assets::file, "A file of the web console."),
        route!(Get, "/console/api/session", "/console/api/session", "consoleSession", "console", Key, [], Body::None, [200 => "{namespace, uuid, head_seq}: who the key signs in as."], console::session::show, "Check a key for the console (401 without WWW-Authenticate)."),
        route!(Get, "/console/api/events", "/console/api/events", "consoleEvents", "console", Key, ["from"], Body::None, [200 => "text/event-stream: ready, activation and entity events of the caller's namespace."], console::events::stream, "Live activations and entity changes of the caller's namespace (server-sent events)."),
        route!(Get, "/console/api/stats", "/console/api/stats", "consoleStats", "console", Key, ["minutes"], Body::None, [200 => "Invocations, errors, cold and warm starts, p50/p99 per bucket, overall and per function; the invoker's pool."], console::stats::show, "Activation statistics of the caller's namespace and the container pool."),
        route!(Get, "/console/api/history/{kind}/{name:.*}", "/console/api/history/{kind}/{name}", "consoleHistory", "console", Key, [], Body::None, [200 => "Every change of the entity: seq, time, event, who, field diff."], console::history::show, "An entity's history from the event log."),
        route!(Get, "/console/api/verify", "/console/api/verify", "consoleVerify", "console", Key, [], Body::None, [200 => "The live log's verification: valid, records, head hash, the first bad record."], console::verify::show, "Verify the live event log's hash chain."),
        // Prometheus.
        route!(Get, "/metrics", "/metrics", "getMetrics", "metrics", Metrics, [], Body::None, [200 => "Prometheus text format 0.0.4 (docs/metrics.md)."], crate::metrics::metrics, "Prometheus metrics: OpenFaaS's gateway metrics and Whirl's own."),
        // Operator.
        route!(Get, "/admin/v1/namespaces", "/admin/v1/namespaces", "adminListNamespaces", "admin", Admin, [], Body::None, [200 => "Every namespace with its keys' uuids." => schema_of::<Vec<NamespaceListing>>], admin::list_namespaces, "List namespaces (operator)."),
        route!(Post, "/admin/v1/namespaces", "/admin/v1/namespaces", "adminCreateNamespace", "admin", Admin, [], Body::Of(schema_of::<NamespaceCreate>), [200 => "{namespace, uuid, key}: the new key, shown once." => schema_of::<IssuedNamespaceKey>], admin::create_namespace, "Create a namespace and its key (operator)."),
        // OpenFaaS gateway (docs/openfaas.md).
        route!(Get, "/system/functions", "/system/functions", "openfaasListFunctions", OPENFAAS_TAG, Key, ["namespace"], Body::None, [200 => "FunctionStatus of every function of the key's namespace." => schema_of::<Vec<FunctionStatus>>], openfaas::list, "List functions (OpenFaaS)."),
        route!(Post, "/system/functions", "/system/functions", "openfaasDeployFunction", OPENFAAS_TAG, Key, [], Body::Of(schema_of::<FunctionDeployment>), [202 => "Deployed.", 200 => "Updated (the function existed)."], openfaas::deploy, "Deploy a FunctionDeployment (OpenFaaS)."),
        route!(Put, "/system/functions", "/system/functions", "openfaasUpdateFunction", OPENFAAS_TAG, Key, [], Body::Of(schema_of::<FunctionDeployment>), [200 => "Updated.", 404 => "No such function."], openfaas::update, "Update a FunctionDeployment (OpenFaaS)."),
        route!(Delete, "/system/functions", "/system/functions", "openfaasDeleteFunction", OPENFAAS_TAG, Key, ["namespace"], Body::Of(schema_of::<FunctionDeletion>), [202 => "Deleted.", 404 => "No such function."], openfaas::delete, "Delete a function: {\"functionName\"} (OpenFaaS)."),
        route!(Get, "/system/function/{name}", "/system/function/{name}", "openfaasGetFunction", OPENFAAS_TAG, Key, ["namespace"], Body::None, [200 => "FunctionStatus with replicas, availableReplicas, invocationCount." => schema_of::<FunctionStatus>], openfaas::get, "Get a function's status (OpenFaaS)."),
        route!(Post, "/system/scale-function/{name}", "/system/scale-function/{name}", "openfaasScaleFunction", OPENFAAS_TAG, Key, [], Body::Of(schema_of::<ScaleServiceRequest>), [202 => "The replica count is set (it becomes the warm floor)."], openfaas::scale_function, "Set a function's replicas: {\"serviceName\", \"replicas\"} (OpenFaaS)."),
        route!(Get, "/system/logs", "/system/logs", "openfaasFunctionLogs", OPENFAAS_TAG, Key, ["name", "namespace", "since", "tail", "follow"], Body::None, [200 => "NDJSON lines {name, namespace, instance, timestamp, text}; follow=true keeps streaming."], openfaas::function_logs, "A function's logs (OpenFaaS)."),
        route!(Get, "/system/namespaces", "/system/namespaces", "openfaasNamespaces", OPENFAAS_TAG, Key, [], Body::None, [200 => "The key's namespace, as a one-element array." => schema_of::<Vec<String>>], openfaas::namespaces, "List the namespaces the key reaches (OpenFaaS)."),
        route!(Get, "/system/info", "/system/info", "openfaasSystemInfo", OPENFAAS_TAG, Key, [], Body::None, [200 => "{provider, version, arch}." => schema_of::<GatewayInfo>], openfaas::system_info, "Describe the provider (OpenFaaS)."),
        route!(Any, "/function/{name}", "/function/{name}", "openfaasCallFunction", OPENFAAS_TAG, Public, [], Body::AnyContent, [200 => "The function's own answer (status, Content-Type, body bytes).", 408 => "Killed at exec_timeout.", 429 => "max_inflight calls run already."], openfaas::call_function, "Call a function synchronously (OpenFaaS; `name.namespace` for another namespace)."),
        route!(Post, "/async-function/{name}", "/async-function/{name}", "openfaasCallFunctionAsync", OPENFAAS_TAG, Public, [], Body::AnyContent, [202 => "Queued (durable): X-Call-Id; the answer is POSTed to X-Callback-Url."], openfaas::call_function_async, "Queue a call (OpenFaaS); retried on 408/429/5xx."),
        route!(Post, "/async-function/{name}/{path:.*}", "/async-function/{name}/{path}", "openfaasCallFunctionAsyncPath", OPENFAAS_TAG, Public, [], Body::AnyContent, [202 => "Queued (durable): X-Call-Id."], openfaas::call_function_async, "Queue a call with a path (OpenFaaS)."),
        route!(Any, "/function/{name}/{path:.*}", "/function/{name}/{path}", "openfaasCallFunctionPath", OPENFAAS_TAG, Public, [], Body::AnyContent, [200 => "The function's own answer; the path reaches it as Http_Path."], openfaas::call_function, "Call a function with a path (OpenFaaS)."),
    ]
}

/// Registers every route, grouped by path, with a 405 for other methods of a known path.
pub fn register(config: &mut actix_web::web::ServiceConfig) {
    let table = routes();
    let mut paths: Vec<&'static str> = Vec::new();
    for route in &table {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = actix_web::web::resource(path);
        let mut allow: Vec<&str> = Vec::new();
        for route in table.iter().filter(|route| route.path == path) {
            resource = resource.route((route.to)(route.method.route()));
            allow.extend(route.method.header_names());
        }
        // OPTIONS is answered for every API path (CORS preflight, `middleware`).
        if path.starts_with("/api/v1") && !allow.contains(&"OPTIONS") {
            allow.push("OPTIONS");
        }
        let allow = allow.join(", ");
        config.service(resource.default_service(actix_web::web::to(move || {
            let allow = allow.clone();
            async move {
                Err::<actix_web::HttpResponse, _>(crate::middleware::method_not_allowed(allow))
            }
        })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::ResourceDef;

    /// A path the pattern matches: `p1` for each parameter, `a/b` for a tail (`{x:.*}`).
    fn sample(pattern: &str) -> String {
        let mut path = String::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            path.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').unwrap_or(rest.len() - open - 1);
            path.push_str(if rest[open..close].contains(":.*") {
                "a/b"
            } else {
                "p1"
            });
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        path
    }

    #[test]
    fn routes_are_matched_by_the_route_that_declares_them() {
        let table = routes();
        let mut resources: Vec<&str> = vec!["/healthz"];
        for route in &table {
            if !resources.contains(&route.path) {
                resources.push(route.path);
            }
        }
        for route in &table {
            let path = sample(route.path);
            let first = resources
                .iter()
                .find(|resource| ResourceDef::new(**resource).is_match(&path));
            assert_eq!(first, Some(&route.path), "{path}");
        }
    }

    #[test]
    fn samples_fill_every_parameter() {
        assert_eq!(
            sample("/api/v1/namespaces/{ns}/actions/{pkg}/{name}"),
            "/api/v1/namespaces/p1/actions/p1/p1"
        );
        assert_eq!(
            sample("/api/v1/web/{ns}/{pkg}/{action:.*}"),
            "/api/v1/web/p1/p1/a/b"
        );
        assert_eq!(sample("/api/v1"), "/api/v1");
    }
}
