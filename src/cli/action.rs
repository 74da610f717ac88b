//! `whirl action create|update|invoke|get|list|delete`: actions over the OpenWhisk REST API,
//! printed like wsk (`ok: created action hello`, tables) or as raw JSON with `--json`.

use super::action_spec::ActionSpecArgs;
use super::client::{ApiClient, Method};
use super::client_error::ClientError;
use super::entity::{self, PutMode};
use super::names::{collection_path, encode_segment, QualifiedName, DEFAULT_NAMESPACE};
use super::output::{self, Table};
use super::params::ParamArgs;
use super::property::ConnectionArgs;
use api::wire::{
    annotation, merged, Action, ActionSummary, Activation, ActivationIdBody, KeyValue,
};
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: ActionCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ActionCommand {
    /// Create an action from a file, a Docker image (--docker) or other actions (--sequence).
    Create(ActionSpecArgs),
    /// Change an action; what is not given keeps its value (an action that does not exist is created).
    Update(ActionSpecArgs),
    /// Invoke an action (non-blocking unless -b or -r).
    Invoke(InvokeArgs),
    /// Show an action.
    Get(GetArgs),
    /// List the actions of a namespace or package.
    List(ListArgs),
    /// Delete an action.
    Delete {
        /// Action name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct InvokeArgs {
    /// Action name.
    pub name: String,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Wait for the activation and print it.
    #[arg(short = 'b', long)]
    pub blocking: bool,
    /// Wait for the activation and print only its result (implies --blocking).
    #[arg(short = 'r', long)]
    pub result: bool,
    /// How long a blocking invocation waits, in milliseconds (at most 60000), before it turns
    /// into a non-blocking one.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Action name.
    pub name: String,
    /// Print only the action's web URL.
    #[arg(long)]
    pub url: bool,
    /// Leave the code out.
    #[arg(long)]
    pub no_code: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// A namespace (`/NAMESPACE`) or a package (`PACKAGE`, `/NAMESPACE/PACKAGE`).
    pub target: Option<String>,
    /// How many to list (at most 200).
    #[arg(long, default_value_t = 30)]
    pub limit: u32,
    /// How many to skip.
    #[arg(long, default_value_t = 0)]
    pub skip: u32,
    /// Sort by name instead of by last change.
    #[arg(long)]
    pub name_sort: bool,
}

pub fn run(args: ActionArgs) -> Result<(), ClientError> {
    let client = ApiClient::connect(&args.connection)?;
    let json = args.connection.json;
    match args.command {
        ActionCommand::Create(spec) => put(&client, json, &spec, PutMode::Create),
        ActionCommand::Update(spec) => put(&client, json, &spec, PutMode::Update),
        ActionCommand::Invoke(invoke_args) => invoke(&client, json, &invoke_args),
        ActionCommand::Get(get_args) => get(&client, json, &get_args),
        ActionCommand::List(list_args) => list(&client, json, &list_args),
        ActionCommand::Delete { name } => delete(&client, json, &name),
    }
}

fn put(
    client: &ApiClient,
    json: bool,
    spec: &ActionSpecArgs,
    mode: PutMode,
) -> Result<(), ClientError> {
    let name = QualifiedName::action(&spec.name)?;
    let mut body = spec.to_put(mode == PutMode::Create)?;
    if mode == PutMode::Update {
        if let Some(given) = body.annotations.take() {
            body.annotations = Some(merged_annotations(client, &name, given)?);
        }
    }
    entity::put(client, json, entity::ACTION, &name, &body, mode, None).map(drop)
}

/// The annotations an update sends: the action's current ones with the given ones over them (as
/// wsk does, so `--web-secure` keeps `web-export`); the server replaces the list it is sent.
fn merged_annotations(
    client: &ApiClient,
    name: &QualifiedName,
    given: Vec<KeyValue>,
) -> Result<Vec<KeyValue>, ClientError> {
    let doing = format!("Unable to update action '{}'", name.short());
    let current = client
        .call(
            Method::Get,
            &name.api_path("actions"),
            doing.clone(),
            "action",
        )
        .query("code", false)
        .send();
    let current: Vec<KeyValue> = match current {
        Ok(response) => response.decode::<Action>(&doing)?.annotations,
        Err(ClientError::Api { status: 404, .. }) => Vec::new(),
        Err(other) => return Err(other),
    };
    let current: Vec<KeyValue> = current.into_iter().filter(|a| a.key != "exec").collect();
    Ok(merged(&current, &given))
}

fn invoke(client: &ApiClient, json: bool, args: &InvokeArgs) -> Result<(), ClientError> {
    let name = QualifiedName::action(&args.name)?;
    let payload = args.params.read()?.to_object();
    let blocking = args.blocking || args.result;
    let doing = format!("Unable to invoke action '{}'", name.short());
    let response = client
        .call(
            Method::Post,
            &name.api_path("actions"),
            doing.clone(),
            "action",
        )
        .query("blocking", blocking)
        .query("result", args.result)
        .query_opt("timeout", args.timeout)
        .json(payload)
        .allow_status(502)
        .send()?;
    if response.status == 202 {
        let accepted: ActivationIdBody = response.decode(&doing)?;
        if json {
            output::print_body(&response.text);
        } else {
            output::ok(&format!(
                "invoked {name} with id {}",
                accepted.activation_id
            ));
        }
        if blocking {
            eprintln!(
                "note: the action is still running; get its result later with \
                 `whirl activation result {}`",
                accepted.activation_id
            );
        }
        return Ok(());
    }
    if args.result {
        output::print_body(&response.text);
        if response.status == 502 {
            return Err(ClientError::ActionFailed {
                action: name.to_string(),
                activation_id: "--last".into(),
                status: "an error result".into(),
                message: error_text(&response.body),
            });
        }
        return Ok(());
    }
    let activation: Activation = response.decode(&doing)?;
    if !json {
        output::ok(&format!(
            "invoked {name} with id {}",
            activation.activation_id
        ));
    }
    output::print_body(&response.text);
    if response.status == 502 || !activation.response.success {
        return Err(ClientError::ActionFailed {
            action: name.to_string(),
            activation_id: activation.activation_id,
            status: activation.response.status,
            message: error_text_raw(&activation.response.result),
        });
    }
    Ok(())
}

/// The `error` of a failed result (raw JSON from the server), as text.
fn error_text_raw(result: &serde_json::value::RawValue) -> String {
    match serde_json::from_str::<Value>(result.get()) {
        Ok(value) => error_text(&value),
        Err(_) => result.get().to_owned(),
    }
}

/// The `error` of a failed result, as text.
fn error_text(result: &Value) -> String {
    match result.get("error") {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => result.to_string(),
    }
}

fn get(client: &ApiClient, json: bool, args: &GetArgs) -> Result<(), ClientError> {
    let name = QualifiedName::action(&args.name)?;
    let doing = format!("Unable to get action '{}'", name.short());
    let mut call = client.call(
        Method::Get,
        &name.api_path("actions"),
        doing.clone(),
        "action",
    );
    if args.no_code || args.url {
        call = call.query("code", false);
    }
    let response = call.send()?;
    if args.url {
        let action: Action = response.decode(&doing)?;
        output::line(&web_url(client.base_url(), &action));
        return Ok(());
    }
    if !json {
        output::ok(&format!("got action {}", name.short()));
    }
    output::print_body(&response.text);
    Ok(())
}

/// `http://host/api/v1/web/<ns>/<package or default>/<name>`.
pub fn web_url(base_url: &str, action: &Action) -> String {
    let (namespace, package) = match action.namespace.split_once('/') {
        Some((namespace, package)) => (namespace, package),
        None => (action.namespace.as_str(), "default"),
    };
    format!(
        "{base_url}/api/v1/web/{}/{}/{}",
        encode_segment(namespace),
        encode_segment(package),
        encode_segment(&action.name)
    )
}

/// The API path a list target names: a namespace's actions or a package's.
fn list_path(target: Option<&str>) -> Result<String, ClientError> {
    let Some(target) = target else {
        return Ok(collection_path(DEFAULT_NAMESPACE, "actions"));
    };
    if let Some(namespace) = target.strip_prefix('/').filter(|rest| !rest.contains('/')) {
        return Ok(collection_path(namespace, "actions"));
    }
    let package = QualifiedName::top_level(target, "package")?;
    Ok(format!(
        "{}/{}/",
        collection_path(&package.namespace, "actions"),
        encode_segment(&package.name)
    ))
}

fn list(client: &ApiClient, json: bool, args: &ListArgs) -> Result<(), ClientError> {
    let path = list_path(args.target.as_deref())?;
    let doing = "Unable to list actions";
    let response = client
        .call(Method::Get, &path, doing, "action")
        .query("limit", args.limit)
        .query("skip", args.skip)
        .send()?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    let mut actions: Vec<ActionSummary> = response.decode(doing)?;
    if args.name_sort {
        actions.sort_by(|a, b| a.name.cmp(&b.name));
    }
    output::line("actions");
    let mut table = Table::new();
    for action in &actions {
        let kind = match annotation(&action.annotations, "exec") {
            Some(Value::String(kind)) => kind.clone(),
            _ => "-".into(),
        };
        table.row([
            format!("/{}/{}", action.namespace, action.name),
            visibility(action.publish).into(),
            kind,
        ]);
    }
    table.print();
    Ok(())
}

/// `private` or `public`, as wsk lists entities.
pub fn visibility(publish: bool) -> &'static str {
    if publish {
        "public"
    } else {
        "private"
    }
}

fn delete(client: &ApiClient, json: bool, name: &str) -> Result<(), ClientError> {
    let name = QualifiedName::action(name)?;
    entity::delete(client, json, entity::ACTION, &name, false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_targets_name_a_namespace_or_a_package() {
        assert_eq!(list_path(None).unwrap(), "/namespaces/_/actions");
        assert_eq!(
            list_path(Some("/guest")).unwrap(),
            "/namespaces/guest/actions"
        );
        assert_eq!(
            list_path(Some("utils")).unwrap(),
            "/namespaces/_/actions/utils/"
        );
        assert_eq!(
            list_path(Some("/guest/my pkg")).unwrap(),
            "/namespaces/guest/actions/my%20pkg/"
        );
        assert!(list_path(Some("a/b")).is_err());
    }

    #[test]
    fn web_urls_use_default_outside_packages() {
        let mut action: Action = serde_json::from_value(json!({
            "namespace": "guest", "name": "hello", "version": "0.0.1", "publish": false,
            "exec": {"kind": "python:3"}, "annotations": [], "parameters": [],
            "limits": {"timeout": 1, "memory": 1, "logs": 1, "concurrency": 1}, "updated": 0
        }))
        .unwrap();
        assert_eq!(
            web_url("http://h:1", &action),
            "http://h:1/api/v1/web/guest/default/hello"
        );
        action.namespace = "guest/demo".into();
        assert_eq!(
            web_url("http://h:1", &action),
            "http://h:1/api/v1/web/guest/demo/hello"
        );
    }

    #[test]
    fn failed_results_yield_their_error_text() {
        assert_eq!(error_text(&json!({"error": "boom"})), "boom");
        assert_eq!(error_text(&json!({"error": {"code": 1}})), "{\"code\":1}");
        assert_eq!(error_text(&json!({"x": 1})), "{\"x\":1}");
    }
}
