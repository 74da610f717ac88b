//! `whirl trigger create|update|fire|get|list|delete`: triggers over the OpenWhisk REST API.
//! A fire with no active rule is answered 204 and records nothing; the CLI says so.
//! Feeds, as wsk does them on the client side: `create --feed FEED` creates the trigger annotated
//! `feed: FEED`, then invokes the feed action with `lifecycleEvent: CREATE`, `triggerName` and
//! `authKey` (the `-p` parameters go to the feed, not to the trigger) and deletes the trigger again
//! if the feed refuses; `delete` of a trigger annotated with a feed first invokes the feed with
//! `lifecycleEvent: DELETE`.

use super::client::{ApiClient, Method};
use super::client_error::ClientError;
use super::entity::{self, PutMode, TRIGGER};
use super::names::QualifiedName;
use super::output::{self, Table};
use super::params::{AnnotationArgs, ParamArgs};
use super::property::ConnectionArgs;
use api::wire::{ActivationIdBody, Trigger, TriggerPut};

#[derive(Debug, clap::Args)]
pub struct TriggerArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: TriggerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TriggerCommand {
    /// Create a trigger.
    Create(TriggerSpecArgs),
    /// Change a trigger's parameters or annotations (created when it does not exist).
    Update(TriggerSpecArgs),
    /// Fire a trigger: every active rule on it invokes its action with the payload.
    Fire {
        /// Trigger name.
        name: String,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Show a trigger and the rules on it.
    Get {
        /// Trigger name.
        name: String,
    },
    /// List triggers.
    List(ListArgs),
    /// Delete a trigger.
    Delete {
        /// Trigger name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct TriggerSpecArgs {
    /// Trigger name: NAME or /NAMESPACE/NAME.
    pub name: String,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub annotations: AnnotationArgs,
    /// The feed action that fires this trigger (create only), e.g. /whisk.system/alarms/alarm;
    /// the parameters go to the feed.
    #[arg(long)]
    pub feed: Option<String>,
}

/// Paging flags of the `list` subcommands of triggers, rules and packages.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The namespace (`/NAMESPACE`; default: the key's).
    pub namespace: Option<String>,
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

pub fn run(args: TriggerArgs) -> Result<(), ClientError> {
    let settings = super::property::resolve(&args.connection)?;
    let client = ApiClient::new(&settings)?;
    let auth_key = settings.auth_key()?.to_owned();
    let json = args.connection.json;
    match args.command {
        TriggerCommand::Create(spec) if spec.feed.is_some() => {
            create_with_feed(&client, json, &spec, &auth_key)
        }
        TriggerCommand::Update(TriggerSpecArgs { feed: Some(_), .. }) => Err(ClientError::input(
            "whirl trigger update does not change a trigger's feed",
            "delete the trigger and create it again with --feed",
        )),
        TriggerCommand::Create(spec) => put(&client, json, &spec, PutMode::Create),
        TriggerCommand::Update(spec) => put(&client, json, &spec, PutMode::Update),
        TriggerCommand::Fire { name, params } => fire(&client, json, &name, &params),
        TriggerCommand::Get { name } => entity::get(
            &client,
            json,
            TRIGGER,
            &QualifiedName::top_level(&name, "trigger")?,
        )
        .map(drop),
        TriggerCommand::List(list_args) => list(&client, json, &list_args),
        TriggerCommand::Delete { name } => {
            let name = QualifiedName::top_level(&name, "trigger")?;
            delete_feed_of(&client, &name, &auth_key)?;
            entity::delete(&client, json, TRIGGER, &name, false)
        }
    }
}

/// Invokes `feed` (blocking, result only) for the trigger `name` with `lifecycleEvent` `event`;
/// the feed's refusal is an error with its message.
fn invoke_feed(
    client: &ApiClient,
    feed: &QualifiedName,
    name: &QualifiedName,
    event: &str,
    params: serde_json::Map<String, serde_json::Value>,
    auth_key: &str,
) -> Result<(), ClientError> {
    let mut body = params;
    body.insert("lifecycleEvent".into(), event.into());
    body.insert("triggerName".into(), name.to_string().into());
    body.insert("authKey".into(), auth_key.into());
    let doing = format!("Unable to invoke feed '{feed}' ({event})");
    let response = client
        .call(
            Method::Post,
            &feed.api_path("actions"),
            doing.clone(),
            "action",
        )
        .query("blocking", true)
        .query("result", true)
        .json(serde_json::Value::Object(body))
        .allow_status(502)
        .send()?;
    if response.status == 502 {
        let message = response.body["error"]
            .as_str()
            .map_or_else(|| response.text.clone(), str::to_owned);
        return Err(ClientError::input_plain(format!("{doing}: {message}")));
    }
    Ok(())
}

/// `create --feed`: the trigger (annotated with its feed), then the feed's CREATE; the trigger is
/// deleted again when the feed refuses.
fn create_with_feed(
    client: &ApiClient,
    json: bool,
    spec: &TriggerSpecArgs,
    auth_key: &str,
) -> Result<(), ClientError> {
    let name = QualifiedName::top_level(&spec.name, "trigger")?;
    let feed = QualifiedName::action(spec.feed.as_deref().unwrap_or_default())?;
    let params = spec.params.read()?;
    let mut annotations = spec.annotations.read()?;
    annotations.set("feed", feed.to_string().into());
    let body = TriggerPut {
        parameters: Some(Vec::new()),
        annotations: Some(annotations.to_wire()),
        ..TriggerPut::default()
    };
    let body = serde_json::to_value(&body).map_err(|e| ClientError::input_plain(e.to_string()))?;
    client
        .call(
            Method::Put,
            &name.api_path("triggers"),
            format!("Unable to create trigger '{}'", name.short()),
            "trigger",
        )
        .json(body)
        .send()?;
    let serde_json::Value::Object(feed_params) = params.to_object() else {
        return Err(ClientError::input_plain(
            "the feed parameters are not an object",
        ));
    };
    if let Err(error) = invoke_feed(client, &feed, &name, "CREATE", feed_params, auth_key) {
        let cleanup = client
            .call(
                Method::Delete,
                &name.api_path("triggers"),
                format!("Unable to delete trigger '{}'", name.short()),
                "trigger",
            )
            .send();
        if let Err(cleanup) = cleanup {
            eprintln!("warning: the trigger {name} stays without its feed: {cleanup}");
        }
        return Err(ClientError::input_plain(format!(
            "Unable to create trigger '{}': {error}",
            name.short()
        )));
    }
    if json {
        output::print_json(
            &serde_json::json!({"trigger": name.to_string(), "feed": feed.to_string()}),
        );
    } else {
        output::ok(&format!(
            "created trigger {} with feed {feed}",
            name.short()
        ));
    }
    Ok(())
}

/// Before a trigger is deleted: the DELETE of the feed its `feed` annotation names, if any. A
/// feed that refuses is reported and the trigger is deleted anyway (as wsk does).
fn delete_feed_of(
    client: &ApiClient,
    name: &QualifiedName,
    auth_key: &str,
) -> Result<(), ClientError> {
    let response = client
        .call(
            Method::Get,
            &name.api_path("triggers"),
            format!("Unable to get trigger '{}'", name.short()),
            "trigger",
        )
        .send()?;
    let feed = response.body["annotations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|annotation| annotation["key"] == "feed")
        .and_then(|annotation| annotation["value"].as_str());
    let Some(feed) = feed else {
        return Ok(());
    };
    let feed = QualifiedName::action(feed)?;
    if let Err(error) = invoke_feed(client, &feed, name, "DELETE", Default::default(), auth_key) {
        eprintln!("warning: {error}");
    }
    Ok(())
}

fn put(
    client: &ApiClient,
    json: bool,
    spec: &TriggerSpecArgs,
    mode: PutMode,
) -> Result<(), ClientError> {
    let name = QualifiedName::top_level(&spec.name, "trigger")?;
    let params = spec.params.read()?;
    let annotations = spec.annotations.read()?;
    let creating = mode == PutMode::Create;
    let body = TriggerPut {
        parameters: (creating || !params.is_empty()).then(|| params.to_wire()),
        annotations: (creating || !annotations.is_empty()).then(|| annotations.to_wire()),
        ..TriggerPut::default()
    };
    entity::put(client, json, TRIGGER, &name, &body, mode, None).map(drop)
}

fn fire(client: &ApiClient, json: bool, name: &str, params: &ParamArgs) -> Result<(), ClientError> {
    let name = QualifiedName::top_level(name, "trigger")?;
    let doing = format!("Unable to fire trigger '{}'", name.short());
    let response = client
        .call(
            Method::Post,
            &name.api_path("triggers"),
            doing.clone(),
            "trigger",
        )
        .json(params.read()?.to_object())
        .send()?;
    if response.status == 204 || response.body.is_null() {
        if json {
            output::print_json(&serde_json::json!({}));
        } else {
            output::ok(&format!("triggered {name}"));
        }
        eprintln!(
            "note: no active rule is on {name}, so nothing ran and no activation was recorded"
        );
        return Ok(());
    }
    let fired: ActivationIdBody = response.decode(&doing)?;
    if json {
        output::print_body(&response.text);
    } else {
        output::ok(&format!("triggered {name} with id {}", fired.activation_id));
    }
    Ok(())
}

fn list(client: &ApiClient, json: bool, args: &ListArgs) -> Result<(), ClientError> {
    let response = entity::list(
        client,
        TRIGGER,
        args.namespace.as_deref(),
        args.limit,
        args.skip,
    )?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    let mut triggers: Vec<Trigger> = response.decode("Unable to list triggers")?;
    if args.name_sort {
        triggers.sort_by(|a, b| a.name.cmp(&b.name));
    }
    output::line("triggers");
    let mut table = Table::new();
    for trigger in &triggers {
        table.row([
            format!("/{}/{}", trigger.namespace, trigger.name),
            super::action::visibility(trigger.publish).to_string(),
        ]);
    }
    table.print();
    Ok(())
}
