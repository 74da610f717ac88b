//! Command-line surface of `whirl`: the subcommand tree and the dispatch to each subcommand's module.

pub mod action;
pub mod action_spec;
pub mod activation;
pub mod admin;
pub mod bench;
pub mod client;
pub mod client_error;
pub mod entity;
pub mod images;
pub mod log;
pub mod names;
pub mod namespace;
pub mod output;
pub mod package;
pub mod params;
pub mod property;
pub mod rule;
pub mod serve;
#[cfg(test)]
mod test_http;
pub mod trigger;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Whirl: a Function-as-a-Service platform with an event-sourced core.
#[derive(Debug, Parser)]
#[command(name = "whirl", version, about)]
pub struct Cli {
    /// Log more (repeat for even more); `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit tooling over the event log: verify, replay, history, export, stats, retention.
    Log(log::LogArgs),
    /// Run Whirl: store, controller, invoker and the HTTP API in one process.
    Serve(serve::ServeArgs),
    /// Set or show the client's API host and key (`~/.whirlprops`, WHIRL_APIHOST, WHIRL_AUTH).
    Property(property::PropertyArgs),
    /// Create, update, invoke, get, list and delete actions.
    Action(action::ActionArgs),
    /// Create, update, fire, get, list and delete triggers.
    Trigger(trigger::TriggerArgs),
    /// Create, enable, disable, get, list and delete rules.
    Rule(rule::RuleArgs),
    /// Create, bind, get, list and delete packages.
    Package(package::PackageArgs),
    /// List activations; get their records, results and logs; poll for new ones.
    Activation(activation::ActivationArgs),
    /// List the namespaces of the key.
    Namespace(namespace::NamespaceArgs),
    /// Load generators: `whirl bench invoke` measures warm invocations against baselines.
    Bench(bench::BenchArgs),
    /// Operator commands: create and list namespaces and their keys.
    Admin(admin::AdminArgs),
    /// Build and list the Docker runtime images.
    Images(images::ImagesArgs),
}

/// Where Whirl keeps its data unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "./whirl-data";

/// The `--data-dir` flag shared by every subcommand that reads Whirl's data.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDir {
    /// Directory holding Whirl's event log and projections.
    #[arg(long = "data-dir", env = "WHIRL_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub path: PathBuf,
}

/// actix-http reports every connection a client broke (a malformed request line or header, a
/// bad `Content-Length`, a body cut short, a reset) as an ERROR from its dispatcher, after it has
/// answered 400 or closed the connection itself. Those are the client's faults, not the server's:
/// by default they are not logged; `-v` or `RUST_LOG` (e.g. `info,actix_http=debug`) shows them.
const CLIENT_CONNECTION_ERRORS_OFF: &str = "actix_http::h1::dispatcher=off";

pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => format!("info,{CLIENT_CONNECTION_ERRORS_OFF}"),
        1 => "debug".to_owned(),
        _ => "trace".to_owned(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Log(args) => log::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Property(args) => client_command(property::run(args)),
        Command::Action(args) => client_command(action::run(args)),
        Command::Trigger(args) => client_command(trigger::run(args)),
        Command::Rule(args) => client_command(rule::run(args)),
        Command::Package(args) => client_command(package::run(args)),
        Command::Activation(args) => client_command(activation::run(args)),
        Command::Namespace(args) => client_command(namespace::run(args)),
        Command::Bench(args) => client_command(bench::run(args)),
        Command::Admin(args) => admin::run(args),
        Command::Images(args) => images::run(args),
    }
}

/// Ends a client subcommand: on failure prints `error: ...` and a hint (wsk style) and exits 1.
fn client_command(result: Result<(), client_error::ClientError>) -> anyhow::Result<()> {
    if let Err(error) = result {
        output::print_error(&error);
        std::process::exit(1);
    }
    Ok(())
}
