//! `whirl package create|update|bind|get|list|delete`: packages and package bindings over the
//! OpenWhisk REST API. A binding points at another package and adds or overrides parameters.

use super::action_spec::Shared;
use super::client::ApiClient;
use super::client_error::ClientError;
use super::entity::{self, PutMode, PACKAGE};
use super::names::QualifiedName;
use super::output::{self, Table};
use super::params::{AnnotationArgs, ParamArgs};
use super::property::ConnectionArgs;
use super::trigger::ListArgs;
use api::wire::{PackageBindingBody, PackagePut, PackageSummary};

#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: PackageCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PackageCommand {
    /// Create a package.
    Create(PackageSpecArgs),
    /// Change a package's parameters, annotations or sharing (created when it does not exist).
    Update(PackageSpecArgs),
    /// Create a binding BINDING_NAME to PACKAGE (its actions, with extra parameters).
    Bind {
        /// The package to bind to: NAME or /NAMESPACE/NAME.
        package: String,
        /// The binding's name.
        binding_name: String,
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        annotations: AnnotationArgs,
    },
    /// Show a package with its actions (for a binding: the bound package's, with merged parameters).
    Get {
        /// Package name.
        name: String,
    },
    /// List packages.
    List(ListArgs),
    /// Delete a package (with --force even when it still holds actions).
    Delete {
        /// Package name.
        name: String,
        /// Delete the package's actions too.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct PackageSpecArgs {
    /// Package name: NAME or /NAMESPACE/NAME.
    pub name: String,
    /// Share the package publicly (yes|no).
    #[arg(long, value_enum)]
    pub shared: Option<Shared>,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub annotations: AnnotationArgs,
}

pub fn run(args: PackageArgs) -> Result<(), ClientError> {
    let client = ApiClient::connect(&args.connection)?;
    let json = args.connection.json;
    let name_of = |text: &str| QualifiedName::top_level(text, "package");
    match args.command {
        PackageCommand::Create(spec) => put(&client, json, &spec, PutMode::Create),
        PackageCommand::Update(spec) => put(&client, json, &spec, PutMode::Update),
        PackageCommand::Bind {
            package,
            binding_name,
            params,
            annotations,
        } => {
            let binding = name_of(&binding_name)?;
            let body = binding_put(&name_of(&package)?, &params, &annotations)?;
            entity::put(
                &client,
                json,
                PACKAGE,
                &binding,
                &body,
                PutMode::Create,
                Some("binding"),
            )
            .map(drop)
        }
        PackageCommand::Get { name } => {
            entity::get(&client, json, PACKAGE, &name_of(&name)?).map(drop)
        }
        PackageCommand::List(list_args) => list(&client, json, &list_args),
        PackageCommand::Delete { name, force } => {
            entity::delete(&client, json, PACKAGE, &name_of(&name)?, force)
        }
    }
}

fn put(
    client: &ApiClient,
    json: bool,
    spec: &PackageSpecArgs,
    mode: PutMode,
) -> Result<(), ClientError> {
    let name = QualifiedName::top_level(&spec.name, "package")?;
    let params = spec.params.read()?;
    let annotations = spec.annotations.read()?;
    let creating = mode == PutMode::Create;
    let body = PackagePut {
        publish: spec.shared.map(|shared| shared == Shared::Yes),
        parameters: (creating || !params.is_empty()).then(|| params.to_wire()),
        annotations: (creating || !annotations.is_empty()).then(|| annotations.to_wire()),
        ..PackagePut::default()
    };
    entity::put(client, json, PACKAGE, &name, &body, mode, None).map(drop)
}

/// The `PUT` body of a binding to `package` (namespace `_` is the caller's; the server resolves it).
pub fn binding_put(
    package: &QualifiedName,
    params: &ParamArgs,
    annotations: &AnnotationArgs,
) -> Result<PackagePut, ClientError> {
    Ok(PackagePut {
        binding: Some(PackageBindingBody::to(&package.namespace, &package.name)),
        parameters: Some(params.read()?.to_wire()),
        annotations: Some(annotations.read()?.to_wire()),
        ..PackagePut::default()
    })
}

fn list(client: &ApiClient, json: bool, args: &ListArgs) -> Result<(), ClientError> {
    let response = entity::list(
        client,
        PACKAGE,
        args.namespace.as_deref(),
        args.limit,
        args.skip,
    )?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    let mut packages: Vec<PackageSummary> = response.decode("Unable to list packages")?;
    if args.name_sort {
        packages.sort_by(|a, b| a.name.cmp(&b.name));
    }
    output::line("packages");
    let mut table = Table::new();
    for package in &packages {
        let mut row = vec![
            format!("/{}/{}", package.namespace, package.name),
            super::action::visibility(package.publish).to_string(),
        ];
        if package.binding.is_binding() {
            row.push("binding".into());
        }
        table.row(row);
    }
    table.print();
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_names_the_bound_package_and_its_parameters() {
        let params = ParamArgs {
            param: vec!["greeting".into(), "Hi".into()],
            param_file: None,
        };
        let body = binding_put(
            &QualifiedName::top_level("/guest/demo", "package").unwrap(),
            &params,
            &AnnotationArgs::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            serde_json::json!({
                "binding": {"namespace": "guest", "name": "demo"},
                "parameters": [{"key": "greeting", "value": "Hi"}],
                "annotations": []
            })
        );
    }
}
