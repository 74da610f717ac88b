//! `whirl rule create|update|enable|disable|get|list|delete`: rules (a trigger bound to an
//! action) over the OpenWhisk REST API. A rule is active when created.

use super::client::{ApiClient, Method};
use super::client_error::ClientError;
use super::entity::{self, PutMode, RULE};
use super::names::QualifiedName;
use super::output::{self, Table};
use super::params::AnnotationArgs;
use super::property::ConnectionArgs;
use super::trigger::ListArgs;
use api::wire::{Rule, RulePut, RuleStatusBody};

#[derive(Debug, clap::Args)]
pub struct RuleArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: RuleCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RuleCommand {
    /// Create a rule: fires of TRIGGER invoke ACTION.
    Create(RuleSpecArgs),
    /// Change a rule's trigger or action.
    Update(RuleSpecArgs),
    /// Let the rule invoke its action again.
    Enable {
        /// Rule name.
        name: String,
    },
    /// Stop the rule from invoking its action.
    Disable {
        /// Rule name.
        name: String,
    },
    /// Show a rule and its status.
    Get {
        /// Rule name.
        name: String,
    },
    /// List rules.
    List(ListArgs),
    /// Delete a rule.
    Delete {
        /// Rule name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct RuleSpecArgs {
    /// Rule name: NAME or /NAMESPACE/NAME.
    pub name: String,
    /// The trigger whose fires it reacts to.
    pub trigger: String,
    /// The action it invokes (may sit in a package).
    pub action: String,
    #[command(flatten)]
    pub annotations: AnnotationArgs,
}

pub fn run(args: RuleArgs) -> Result<(), ClientError> {
    let client = ApiClient::connect(&args.connection)?;
    let json = args.connection.json;
    let name_of = |text: &str| QualifiedName::top_level(text, "rule");
    match args.command {
        RuleCommand::Create(spec) => put(&client, json, &spec, PutMode::Create),
        RuleCommand::Update(spec) => put(&client, json, &spec, PutMode::Update),
        RuleCommand::Enable { name } => set_status(&client, json, &name_of(&name)?, true),
        RuleCommand::Disable { name } => set_status(&client, json, &name_of(&name)?, false),
        RuleCommand::Get { name } => entity::get(&client, json, RULE, &name_of(&name)?).map(drop),
        RuleCommand::List(list_args) => list(&client, json, &list_args),
        RuleCommand::Delete { name } => {
            entity::delete(&client, json, RULE, &name_of(&name)?, false)
        }
    }
}

/// The `PUT` body: trigger and action as fully qualified names (`/_/t`, `/_/pkg/a`).
pub fn rule_put(spec: &RuleSpecArgs) -> Result<RulePut, ClientError> {
    let trigger = QualifiedName::top_level(&spec.trigger, "trigger")?;
    let action = QualifiedName::action(&spec.action)?;
    let annotations = spec.annotations.read()?;
    Ok(RulePut {
        trigger: Some(trigger.to_string()),
        action: Some(action.to_string()),
        annotations: (!annotations.is_empty()).then(|| annotations.to_wire()),
        ..RulePut::default()
    })
}

fn put(
    client: &ApiClient,
    json: bool,
    spec: &RuleSpecArgs,
    mode: PutMode,
) -> Result<(), ClientError> {
    let name = QualifiedName::top_level(&spec.name, "rule")?;
    let body = rule_put(spec)?;
    entity::put(client, json, RULE, &name, &body, mode, None).map(drop)
}

fn set_status(
    client: &ApiClient,
    json: bool,
    name: &QualifiedName,
    active: bool,
) -> Result<(), ClientError> {
    let (status, verb) = if active {
        ("active", "enable")
    } else {
        ("inactive", "disable")
    };
    let body = serde_json::to_value(RuleStatusBody {
        status: status.into(),
    })
    .map_err(|e| ClientError::input_plain(e.to_string()))?;
    let response = client
        .call(
            Method::Post,
            &name.api_path("rules"),
            format!("Unable to {verb} rule '{}'", name.short()),
            "rule",
        )
        .json(body)
        .send()?;
    if json {
        output::print_body(&response.text);
    } else {
        output::ok(&format!("{verb}d rule {}", name.short()));
    }
    Ok(())
}

fn list(client: &ApiClient, json: bool, args: &ListArgs) -> Result<(), ClientError> {
    let response = entity::list(
        client,
        RULE,
        args.namespace.as_deref(),
        args.limit,
        args.skip,
    )?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    let mut rules: Vec<Rule> = response.decode("Unable to list rules")?;
    if args.name_sort {
        rules.sort_by(|a, b| a.name.cmp(&b.name));
    }
    output::line("rules");
    let mut table = Table::new();
    for rule in &rules {
        table.row([
            format!("/{}/{}", rule.namespace, rule.name),
            super::action::visibility(rule.publish).to_string(),
            rule.status.clone(),
        ]);
    }
    table.print();
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rule_bodies_qualify_trigger_and_action() {
        let spec = RuleSpecArgs {
            name: "saleRule".into(),
            trigger: "itemSold".into(),
            action: "inventory/updateInventory".into(),
            annotations: AnnotationArgs::default(),
        };
        assert_eq!(
            serde_json::to_value(rule_put(&spec).unwrap()).unwrap(),
            serde_json::json!({"trigger": "/_/itemSold", "action": "/_/inventory/updateInventory"})
        );
        let bad = RuleSpecArgs {
            trigger: "pkg/t".into(),
            ..spec
        };
        assert!(rule_put(&bad).is_err());
    }
}
