//! `whirl admin namespace create NAME` (prints `uuid:key`) and `whirl admin namespace list`.
//!
//! While `whirl serve` runs, the store belongs to it: the command then goes through the server's
//! operator routes (`/admin/v1`), with the URL and token the server wrote to `<data-dir>/api.url`
//! and `<data-dir>/admin.token`. Otherwise it appends the events to the data directory itself.

use super::DataDir;
use anyhow::{bail, Context};
use api::wire::{IssuedNamespaceKey, NamespaceCreate, NamespaceListing, NamespaceThrottles};
use std::path::Path;
use std::time::Duration;
use store::{ChangedBy, Clock, EventLog, Store, StoreOptions, SystemClock};

#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Namespaces and their keys.
    #[command(subcommand)]
    Namespace(NamespaceCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum NamespaceCommand {
    /// Create a namespace and its first key; prints `uuid:key` (shown once: only its hash is kept).
    Create {
        #[command(flatten)]
        data_dir: DataDir,
        /// The namespace's name.
        name: String,
        /// Action invocations per minute (default: the server's).
        #[arg(long)]
        invocations_per_minute: Option<u32>,
        /// Concurrent action invocations (default: the server's).
        #[arg(long)]
        concurrent_invocations: Option<u32>,
        /// Trigger fires per minute (default: the server's).
        #[arg(long)]
        fires_per_minute: Option<u32>,
    },
    /// List the namespaces with their keys' uuids.
    List {
        #[command(flatten)]
        data_dir: DataDir,
    },
}

pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
        AdminCommand::Namespace(NamespaceCommand::Create {
            data_dir,
            name,
            invocations_per_minute,
            concurrent_invocations,
            fires_per_minute,
        }) => {
            let create = NamespaceCreate {
                name,
                limits: NamespaceThrottles {
                    invocations_per_minute,
                    concurrent_invocations,
                    fires_per_minute,
                },
            };
            let issued = match running_server(&data_dir.path) {
                Some(server) => server.create(&create)?,
                None => create_offline(&data_dir.path, &create)?,
            };
            println!("{}", issued.credentials());
            Ok(())
        }
        AdminCommand::Namespace(NamespaceCommand::List { data_dir }) => {
            let listing = match running_server(&data_dir.path) {
                Some(server) => server.list()?,
                None => list_offline(&data_dir.path)?,
            };
            for namespace in listing {
                let limits = serde_json::to_string(&namespace.limits).unwrap_or_default();
                println!(
                    "{:<24} keys: {:<40} limits: {}",
                    namespace.namespace,
                    namespace.keys.join(","),
                    limits
                );
            }
            Ok(())
        }
    }
}

/// The operator routes of a server running on this data directory.
struct AdminClient {
    url: String,
    token: String,
    agent: ureq::Agent,
}

/// The server of `data_dir`, if one answers at the URL it wrote.
fn running_server(data_dir: &Path) -> Option<AdminClient> {
    let url = std::fs::read_to_string(data_dir.join("api.url")).ok()?;
    let token = std::fs::read_to_string(data_dir.join("admin.token")).ok()?;
    let client = AdminClient {
        url: url.trim().to_owned(),
        token: token.trim().to_owned(),
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build(),
    };
    client
        .agent
        .get(&format!("{}/healthz", client.url))
        .timeout(Duration::from_secs(2))
        .call()
        .ok()
        .map(|_| client)
}

impl AdminClient {
    fn call(&self, request: ureq::Request, body: Option<String>) -> anyhow::Result<String> {
        let request = request.set("Authorization", &format!("Bearer {}", self.token));
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body),
            None => request.call(),
        };
        match result {
            Ok(response) => Ok(response.into_string()?),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let message = serde_json::from_str::<api::wire::ErrorBody>(&text)
                    .map(|body| body.error)
                    .unwrap_or(text);
                bail!("the server at {} answered {status}: {message}", self.url)
            }
            Err(error) => bail!("cannot reach the server at {}: {error}", self.url),
        }
    }

    fn create(&self, create: &NamespaceCreate) -> anyhow::Result<IssuedNamespaceKey> {
        let text = self.call(
            self.agent
                .post(&format!("{}/admin/v1/namespaces", self.url)),
            Some(serde_json::to_string(create)?),
        )?;
        Ok(serde_json::from_str(&text)?)
    }

    fn list(&self) -> anyhow::Result<Vec<NamespaceListing>> {
        let text = self.call(
            self.agent.get(&format!("{}/admin/v1/namespaces", self.url)),
            None,
        )?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    let store = Store::open(data_dir, StoreOptions::default()).with_context(|| {
        format!(
            "cannot open {} (if `whirl serve` runs on it, check that {} holds its URL)",
            data_dir.display(),
            data_dir.join("api.url").display()
        )
    })?;
    store
        .projections()
        .wait_applied(store.head_seq(), Duration::from_secs(60))?;
    Ok(store)
}

fn create_offline(data_dir: &Path, create: &NamespaceCreate) -> anyhow::Result<IssuedNamespaceKey> {
    let store = open_store(data_dir)?;
    let (events, key) = api::provisioning::create_namespace_events(
        store.projections(),
        &create.name,
        create.limits.into(),
        SystemClock.now_ms(),
        ChangedBy::Admin,
    )?;
    let receipts = store.log().append_blocking(events)?;
    if let Some(last) = receipts.last() {
        store
            .projections()
            .wait_applied(last.seq, Duration::from_secs(60))?;
    }
    Ok(api::provisioning::issued(&key))
}

fn list_offline(data_dir: &Path) -> anyhow::Result<Vec<NamespaceListing>> {
    let store = open_store(data_dir)?;
    Ok(api::provisioning::list_namespaces(store.projections())?)
}
