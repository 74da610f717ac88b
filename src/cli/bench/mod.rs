//! `whirl bench invoke`: a load generator for warm blocking invocations over HTTP, reported side
//! by side with two baselines of the same run: the server's HTTP floor (`GET /api/v1`, no auth,
//! no work) and a direct ActionLoop round trip to the same Python launcher the platform runs.

mod baseline;
mod cpu;
mod http1;
mod load;
mod report;
mod stats;

use super::client::{basic_authorization, ApiClient, Method};
use super::client_error::ClientError;
use super::names::QualifiedName;
use super::property::{resolve, ConnectionArgs};
use api::wire::{ActionLimitsPut, ActionPut, ExecBody};
use cpu::CpuMeter;
use load::{Request, Stop};
use report::{Phase, Report};
use std::path::PathBuf;
use std::time::Duration;

/// The trivial action the bench creates and the baseline runs.
pub const TRIVIAL_PYTHON: &str = "def main(args):\n    return {\"ok\": True}\n";
/// The name of the action the bench creates when none is given.
pub const DEFAULT_ACTION: &str = "whirl-bench-noop";

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Load a server with warm blocking invocations; report p50/p90/p99 and throughput against
    /// the HTTP floor and a direct ActionLoop baseline measured in the same run.
    Invoke(InvokeBenchArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct InvokeBenchArgs {
    /// The action to invoke; by default the bench creates (or updates) a trivial Python action
    /// named whirl-bench-noop.
    pub action: Option<String>,
    /// Requests in flight at once (one keep-alive connection each, all on one event-loop
    /// thread).
    #[arg(short = 'c', long, default_value_t = 8)]
    pub concurrency: usize,
    /// Seconds each phase is measured.
    #[arg(short = 'd', long, default_value_t = 5, conflicts_with = "count")]
    pub duration: u64,
    /// Measure each phase for this many requests instead of a duration.
    #[arg(short = 'n', long)]
    pub count: Option<u64>,
    /// Seconds of warm-up before each phase is measured.
    #[arg(long, default_value_t = 1)]
    pub warmup: u64,
    /// Also invoke this many distinct trivial actions round-robin (whirl-bench-noop-0 ...) and
    /// compare with the single action.
    #[arg(long, default_value_t = 1)]
    pub actions: usize,
    /// Memory limit (MB) of the actions the bench creates: smaller lets more stay warm.
    #[arg(long, default_value_t = 128)]
    pub memory: u32,
    /// Skip the HTTP floor phase (GET /api/v1).
    #[arg(long)]
    pub no_floor: bool,
    /// Skip the direct ActionLoop baseline phase.
    #[arg(long)]
    pub no_baseline: bool,
    /// The Python the baseline runs the launcher with (the one `whirl serve` uses).
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
}

pub fn run(args: BenchArgs) -> Result<(), ClientError> {
    let json = args.connection.json;
    match args.command {
        BenchCommand::Invoke(invoke) => {
            let report = invoke_bench(&args.connection, &invoke)?;
            if json {
                super::output::print_json(&report.to_json());
            } else {
                super::output::text(&report.render());
            }
            Ok(())
        }
    }
}

fn invoke_bench(
    connection: &ConnectionArgs,
    args: &InvokeBenchArgs,
) -> Result<Report, ClientError> {
    let settings = resolve(connection)?;
    let client = ApiClient::new(&settings)?;
    let base = client.base_url().to_string();
    let authorization = basic_authorization(settings.auth_key()?);
    let warmup = Duration::from_secs(args.warmup);
    let stop = match args.count {
        Some(count) => Stop::Count(count),
        None => Stop::After(Duration::from_secs(args.duration.max(1))),
    };

    let single = match &args.action {
        Some(name) => QualifiedName::action(name)?,
        None => {
            let name = QualifiedName::action(DEFAULT_ACTION)?;
            create_trivial(&client, &name, args.memory)?;
            name
        }
    };
    let many: Vec<QualifiedName> = if args.actions > 1 {
        let names = (0..args.actions)
            .map(|i| QualifiedName::action(&format!("{DEFAULT_ACTION}-{i}")))
            .collect::<Result<Vec<_>, _>>()?;
        eprintln!("bench: creating {} trivial actions", names.len());
        for name in &names {
            create_trivial(&client, name, args.memory)?;
        }
        names
    } else {
        Vec::new()
    };
    check_invoke(&client, &single)?;

    let invoke_url = |name: &QualifiedName| {
        format!(
            "{base}/api/v1{}?blocking=true&result=true",
            name.api_path("actions")
        )
    };
    let post = |names: &[QualifiedName]| Request::Post {
        urls: names.iter().map(invoke_url).collect(),
        authorization: authorization.clone(),
        body: "{}".into(),
    };

    let meter = CpuMeter::for_server(&base);
    let mut report = Report::new(&base, args.concurrency, args.warmup, stop);
    if !args.no_floor {
        eprintln!("bench: HTTP floor (GET /api/v1)");
        let floor = Request::Get {
            url: format!("{base}/api/v1"),
        };
        report.add(
            Phase::Floor,
            load::run(&floor, args.concurrency, warmup, stop, &meter),
        );
    }
    eprintln!("bench: invoke {single} (blocking)");
    report.add(
        Phase::Invoke,
        load::run(
            &post(std::slice::from_ref(&single)),
            args.concurrency,
            warmup,
            stop,
            &meter,
        ),
    );
    if !many.is_empty() {
        eprintln!(
            "bench: invoke {} actions round-robin (blocking)",
            many.len()
        );
        report.add(
            Phase::InvokeMany(many.len()),
            load::run(&post(&many), args.concurrency, warmup, stop, &meter),
        );
    }
    if !args.no_baseline {
        eprintln!(
            "bench: direct ActionLoop baseline ({} launchers)",
            args.concurrency
        );
        let stats = baseline::run(
            &args.python,
            TRIVIAL_PYTHON,
            args.concurrency,
            warmup,
            stop,
            &meter.machine_only(),
        )?;
        report.add(Phase::Baseline, stats);
    }
    Ok(report)
}

/// Creates or updates `name` as the trivial Python action.
fn create_trivial(
    client: &ApiClient,
    name: &QualifiedName,
    memory: u32,
) -> Result<(), ClientError> {
    let mut exec = ExecBody::code("python:3", TRIVIAL_PYTHON);
    exec.binary = Some(false);
    let body = ActionPut {
        exec: Some(exec),
        limits: Some(ActionLimitsPut {
            memory: Some(memory),
            ..ActionLimitsPut::default()
        }),
        ..ActionPut::default()
    };
    let body = serde_json::to_value(body).map_err(|e| ClientError::input_plain(e.to_string()))?;
    client
        .call(
            Method::Put,
            &name.api_path("actions"),
            format!("Unable to create the bench action '{}'", name.short()),
            "action",
        )
        .query("overwrite", true)
        .json(body)
        .send()
        .map(drop)
}

/// One blocking invocation before the load, so a missing action or a throttle fails fast.
fn check_invoke(client: &ApiClient, name: &QualifiedName) -> Result<(), ClientError> {
    let result = client
        .call(
            Method::Post,
            &name.api_path("actions"),
            format!("Unable to invoke the bench action '{}'", name.short()),
            "action",
        )
        .query("blocking", true)
        .query("result", true)
        .json(serde_json::json!({}))
        .send();
    match result {
        Err(ClientError::Api {
            doing,
            status: 429,
            message,
            code,
            noun,
            ..
        }) => Err(ClientError::Api {
            doing,
            status: 429,
            message,
            code,
            noun,
            hint: Some(
                "the bench needs a namespace whose throttles allow the load: raise its \
                 invocations per minute and concurrent invocations on the server"
                    .into(),
            ),
        }),
        other => other.map(drop),
    }
}
