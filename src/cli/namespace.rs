//! `whirl namespace list`: the namespaces the key may use.

use super::client::{ApiClient, Method};
use super::client_error::ClientError;
use super::output;
use super::property::ConnectionArgs;
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct NamespaceArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: NamespaceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum NamespaceCommand {
    /// List the namespaces of the key.
    List,
}

pub fn run(args: NamespaceArgs) -> Result<(), ClientError> {
    let client = ApiClient::connect(&args.connection)?;
    match args.command {
        NamespaceCommand::List => list(&client, args.connection.json),
    }
}

fn list(client: &ApiClient, json: bool) -> Result<(), ClientError> {
    let doing = "Unable to list namespaces";
    let response = client
        .call(Method::Get, "/namespaces", doing, "namespace")
        .send()?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    output::line("namespaces");
    for name in namespace_names(&response.body).ok_or_else(|| ClientError::BadAnswer {
        doing: doing.into(),
        detail: format!("expected a list of namespaces, got {}", response.body),
    })? {
        output::line(&name);
    }
    Ok(())
}

/// The names in `["guest"]` or `[{"name": "guest", ...}]`.
pub fn namespace_names(body: &Value) -> Option<Vec<String>> {
    body.as_array()?
        .iter()
        .map(|item| match item {
            Value::String(name) => Some(name.clone()),
            other => other.get("name")?.as_str().map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaces_are_strings_or_objects() {
        assert_eq!(namespace_names(&json!(["guest"])).unwrap(), vec!["guest"]);
        assert_eq!(
            namespace_names(&json!([{"name": "a", "uuid": "x"}])).unwrap(),
            vec!["a"]
        );
        assert_eq!(namespace_names(&json!({"x": 1})), None);
    }
}
