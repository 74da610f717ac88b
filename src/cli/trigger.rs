//! `whirl trigger create|update|fire|get|list|delete`: triggers over the OpenWhisk REST API.
//! A fire with no active rule is answered 204 and records nothing; the CLI says so.

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
    let client = ApiClient::connect(&args.connection)?;
    let json = args.connection.json;
    match args.command {
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
        TriggerCommand::Delete { name } => entity::delete(
            &client,
            json,
            TRIGGER,
            &QualifiedName::top_level(&name, "trigger")?,
            false,
        ),
    }
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
