//! `whirl activation list|get|result|logs|poll`: activation records over the OpenWhisk REST API.
//! `--last` stands for the most recent activation of the namespace.

use super::client::{ApiClient, Method};
use super::client_error::ClientError;
use super::names::{collection_path, encode_segment, DEFAULT_NAMESPACE};
use super::output::{self, Table};
use super::property::ConnectionArgs;
use api::wire::{annotation, ActivationLogs, ActivationResult, ActivationSummary};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, clap::Args)]
pub struct ActivationArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: ActivationCommand,
}

/// An activation id, or `--last` for the most recent one.
#[derive(Debug, Clone, clap::Args)]
pub struct Which {
    /// Activation id (32 hex digits).
    #[arg(required_unless_present = "last")]
    pub id: Option<String>,
    /// The most recent activation instead of an id.
    #[arg(short = 'l', long, conflicts_with = "id")]
    pub last: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ActivationCommand {
    /// List recent activations, newest first.
    List {
        /// Only the activations of this action or trigger.
        name: Option<String>,
        /// How many to list (at most 200).
        #[arg(long, default_value_t = 30)]
        limit: u32,
        /// How many to skip.
        #[arg(long, default_value_t = 0)]
        skip: u32,
        /// Only those that started at or after this time (unix ms, or YYYY-MM-DDTHH:MM:SSZ).
        #[arg(long)]
        since: Option<String>,
        /// Only those that started before this time (unix ms, or YYYY-MM-DDTHH:MM:SSZ).
        #[arg(long)]
        upto: Option<String>,
    },
    /// Show an activation record.
    Get(Which),
    /// Show an activation's result.
    Result(Which),
    /// Show an activation's logs.
    Logs {
        #[command(flatten)]
        which: Which,
        /// Print only the messages, without time and stream.
        #[arg(short = 'r', long)]
        strip: bool,
    },
    /// Print the logs of new activations as they finish.
    Poll {
        /// Only the activations of this action or trigger.
        name: Option<String>,
        /// Stop after this many seconds (default: run until interrupted).
        #[arg(short = 'e', long, value_name = "SECONDS")]
        exit: Option<u64>,
        /// Also show activations from this many seconds before now.
        #[arg(long, value_name = "SECONDS", default_value_t = 0)]
        since_seconds: u64,
    },
}

pub fn run(args: ActivationArgs) -> Result<(), ClientError> {
    let client = ApiClient::connect(&args.connection)?;
    let json = args.connection.json;
    match args.command {
        ActivationCommand::List {
            name,
            limit,
            skip,
            since,
            upto,
        } => {
            let filter = ListFilter {
                name,
                limit,
                skip,
                since: since.as_deref().map(parse_time).transpose()?,
                upto: upto.as_deref().map(parse_time).transpose()?,
            };
            list(&client, json, &filter)
        }
        ActivationCommand::Get(which) => get(&client, json, &which),
        ActivationCommand::Result(which) => result(&client, json, &which),
        ActivationCommand::Logs { which, strip } => logs(&client, json, &which, strip),
        ActivationCommand::Poll {
            name,
            exit,
            since_seconds,
        } => poll(&client, name.as_deref(), exit, since_seconds),
    }
}

/// Unix ms, or an RFC 3339 UTC time.
fn parse_time(text: &str) -> Result<u64, ClientError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .or_else(|| store::time_format::parse_ms(text))
        .ok_or_else(|| {
            ClientError::input(
                format!("'{text}' is not a time"),
                "give unix milliseconds or a UTC time such as 2024-05-01T12:00:00Z",
            )
        })
}

fn activations_path() -> String {
    collection_path(DEFAULT_NAMESPACE, "activations")
}

fn activation_path(id: &str, view: &str) -> String {
    format!("{}/{}{view}", activations_path(), encode_segment(id))
}

/// What `activation list` asks for.
struct ListFilter {
    name: Option<String>,
    limit: u32,
    skip: u32,
    since: Option<u64>,
    upto: Option<u64>,
}

fn fetch_summaries(
    client: &ApiClient,
    filter: &ListFilter,
) -> Result<(String, Vec<ActivationSummary>), ClientError> {
    let doing = "Unable to list activations";
    let response = client
        .call(Method::Get, &activations_path(), doing, "activation")
        .query("limit", filter.limit)
        .query("skip", filter.skip)
        .query_opt("name", filter.name.as_deref())
        .query_opt("since", filter.since)
        .query_opt("upto", filter.upto)
        .send()?;
    let summaries = response.decode(doing)?;
    Ok((response.text, summaries))
}

fn list(client: &ApiClient, json: bool, filter: &ListFilter) -> Result<(), ClientError> {
    let (text, summaries) = fetch_summaries(client, filter)?;
    if json {
        output::print_body(&text);
        return Ok(());
    }
    output::text(&summary_table(&summaries));
    Ok(())
}

/// The table of `activation list`, with wsk's columns.
pub fn summary_table(summaries: &[ActivationSummary]) -> String {
    let mut table = Table::new();
    table.row([
        "Datetime",
        "Activation ID",
        "Kind",
        "Start",
        "Duration",
        "Status",
        "Entity",
    ]);
    for activation in summaries {
        let kind = match annotation(&activation.annotations, "kind") {
            Some(Value::String(kind)) => kind.clone(),
            _ => "-".into(),
        };
        let start = if matches!(kind.as_str(), "-" | "trigger" | "sequence") {
            "-"
        } else if annotation(&activation.annotations, "initTime").is_some() {
            "cold"
        } else {
            "warm"
        };
        table.row([
            output::datetime(activation.start),
            activation.activation_id.clone(),
            kind,
            start.to_string(),
            output::duration(activation.duration),
            status_text(activation.status_code).to_string(),
            format!(
                "{}/{}:{}",
                activation.namespace, activation.name, activation.version
            ),
        ]);
    }
    table.render()
}

fn status_text(code: u8) -> &'static str {
    match code {
        0 => "success",
        1 => "application error",
        2 => "developer error",
        _ => "internal error",
    }
}

/// The id `which` names: the given one, or the newest activation's.
fn resolve(client: &ApiClient, which: &Which) -> Result<String, ClientError> {
    if let (Some(id), false) = (&which.id, which.last) {
        return Ok(id.trim().to_string());
    }
    let filter = ListFilter {
        name: None,
        limit: 20,
        skip: 0,
        since: None,
        upto: None,
    };
    let (_, summaries) = fetch_summaries(client, &filter)?;
    newest(&summaries)
        .map(|summary| summary.activation_id.clone())
        .ok_or_else(|| {
            ClientError::input(
                "there is no activation yet, so --last names none",
                "invoke an action or fire a trigger first",
            )
        })
}

/// The most recent activation of a newest-first list. Records are listed by start time (in
/// milliseconds); among those that started in the same millisecond, the one that ended last wins,
/// and an activation caused by another one (a rule's action by its trigger's fire, a component by
/// its sequence) comes after its cause.
pub fn newest(summaries: &[ActivationSummary]) -> Option<&ActivationSummary> {
    let latest_start = summaries.iter().map(|s| s.start).max()?;
    let tied: Vec<&ActivationSummary> = summaries
        .iter()
        .filter(|s| s.start == latest_start)
        .collect();
    let latest_end = tied.iter().map(|s| s.end).max()?;
    let candidates: Vec<&ActivationSummary> =
        tied.into_iter().filter(|s| s.end == latest_end).collect();
    candidates
        .iter()
        .find(|s| {
            !candidates
                .iter()
                .any(|other| other.cause.as_deref() == Some(s.activation_id.as_str()))
        })
        .or(candidates.first())
        .copied()
}

fn get(client: &ApiClient, json: bool, which: &Which) -> Result<(), ClientError> {
    let id = resolve(client, which)?;
    let response = client
        .call(
            Method::Get,
            &activation_path(&id, ""),
            format!("Unable to get activation '{id}'"),
            "activation",
        )
        .send()?;
    if !json {
        output::ok(&format!("got activation {id}"));
    }
    output::print_body(&response.text);
    Ok(())
}

fn result(client: &ApiClient, json: bool, which: &Which) -> Result<(), ClientError> {
    let id = resolve(client, which)?;
    let doing = format!("Unable to get the result of activation '{id}'");
    let response = client
        .call(
            Method::Get,
            &activation_path(&id, "/result"),
            doing.clone(),
            "activation",
        )
        .send()?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    let result: ActivationResult = response.decode(&doing)?;
    output::print_raw_json(&result.result);
    Ok(())
}

fn logs(client: &ApiClient, json: bool, which: &Which, strip: bool) -> Result<(), ClientError> {
    let id = resolve(client, which)?;
    let doing = format!("Unable to get the logs of activation '{id}'");
    let response = client
        .call(
            Method::Get,
            &activation_path(&id, "/logs"),
            doing.clone(),
            "activation",
        )
        .send()?;
    if json {
        output::print_body(&response.text);
        return Ok(());
    }
    let logs: ActivationLogs = response.decode(&doing)?;
    for line in &logs.logs {
        output::line(if strip { strip_log_line(line) } else { line });
    }
    Ok(())
}

/// `2024-05-01T12:00:00.000000000Z stdout: hello` → `hello`; other lines stay as they are.
pub fn strip_log_line(line: &str) -> &str {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(time), Some(stream), Some(message))
            if time.ends_with('Z') && matches!(stream, "stdout:" | "stderr:") =>
        {
            message
        }
        (Some(time), Some(stream), None)
            if time.ends_with('Z') && matches!(stream, "stdout:" | "stderr:") =>
        {
            ""
        }
        _ => line,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn poll(
    client: &ApiClient,
    name: Option<&str>,
    exit: Option<u64>,
    since_seconds: u64,
) -> Result<(), ClientError> {
    let started = Instant::now();
    let since = now_ms().saturating_sub(since_seconds * 1000);
    let mut seen: HashSet<String> = HashSet::new();
    output::line("Enter Ctrl-c to exit.");
    output::line("Polling for activation logs");
    loop {
        let filter = ListFilter {
            name: name.map(str::to_string),
            limit: 200,
            skip: 0,
            since: Some(since),
            upto: None,
        };
        let (_, mut summaries) = fetch_summaries(client, &filter)?;
        summaries.sort_by_key(|summary| summary.start);
        for summary in summaries {
            if !seen.insert(summary.activation_id.clone()) {
                continue;
            }
            let id = &summary.activation_id;
            let doing = format!("Unable to get the logs of activation '{id}'");
            let logs: ActivationLogs = client
                .call(
                    Method::Get,
                    &activation_path(id, "/logs"),
                    doing.clone(),
                    "activation",
                )
                .send()?
                .decode(&doing)?;
            output::line(&format!("\nActivation: '{}' ({id})", summary.name));
            for line in &logs.logs {
                output::line(&format!("  {line}"));
            }
        }
        if exit.is_some_and(|seconds| started.elapsed() >= Duration::from_secs(seconds)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_lines_strip_to_their_message() {
        assert_eq!(
            strip_log_line("2024-05-01T12:00:00.000000000Z stdout: hello world"),
            "hello world"
        );
        assert_eq!(strip_log_line("2024-05-01T12:00:00Z stderr: "), "");
        assert_eq!(
            strip_log_line("{\"rule\":\"guest/r\"}"),
            "{\"rule\":\"guest/r\"}"
        );
    }

    #[test]
    fn the_list_table_has_wsk_columns() {
        let summaries: Vec<ActivationSummary> = serde_json::from_value(json!([
            {"namespace": "guest", "name": "hello", "version": "0.0.1", "subject": "guest",
             "activationId": "44794bd6aab74415b4e42a308d880e5b", "start": 1714564800123u64,
             "end": 1714564800135u64, "duration": 12, "statusCode": 0, "publish": false,
             "annotations": [{"key": "kind", "value": "python:3"}, {"key": "initTime", "value": 40}]},
            {"namespace": "guest", "name": "itemSold", "version": "0.0.1", "subject": "guest",
             "activationId": "f3204cd9dc16412ba04cd9dc16212b02", "start": 1714564800100u64,
             "end": 1714564800100u64, "duration": 0, "statusCode": 1, "publish": false,
             "annotations": []}
        ]))
        .unwrap();
        let text = summary_table(&summaries);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("Datetime            Activation ID"),
            "{text}"
        );
        assert!(
            lines[1]
                .starts_with("2024-05-01 12:00:00 44794bd6aab74415b4e42a308d880e5b python:3 cold"),
            "{text}"
        );
        assert!(
            lines[1].ends_with("success           guest/hello:0.0.1"),
            "{text}"
        );
        assert!(
            lines[2].contains(" -        -     0ms      application error guest/itemSold:0.0.1"),
            "{text}"
        );
    }

    fn summary(id: &str, start: u64, end: u64, cause: Option<&str>) -> ActivationSummary {
        serde_json::from_value(json!({
            "namespace": "guest", "name": id, "version": "0.0.1", "subject": "guest",
            "activationId": id, "start": start, "end": end, "duration": end - start,
            "statusCode": 0, "publish": false, "annotations": [], "cause": cause
        }))
        .unwrap()
    }

    #[test]
    fn the_last_activation_breaks_same_millisecond_ties_by_end_and_cause() {
        // The trigger's record listed first (same start, random id order): its action still wins.
        let fire = summary("fire", 100, 100, None);
        let action = summary("action", 100, 100, Some("fire"));
        let older = summary("older", 90, 95, None);
        let list = [fire.clone(), action.clone(), older.clone()];
        assert_eq!(newest(&list).unwrap().activation_id, "action");
        let list = [action.clone(), fire.clone()];
        assert_eq!(newest(&list).unwrap().activation_id, "action");
        let slow = summary("slow", 100, 130, None);
        assert_eq!(newest(&[fire, slow, action]).unwrap().activation_id, "slow");
        assert_eq!(newest(&[older]).unwrap().activation_id, "older");
        assert!(newest(&[]).is_none());
    }

    #[test]
    fn times_are_unix_ms_or_utc_text() {
        assert_eq!(parse_time("1714564800123").unwrap(), 1_714_564_800_123);
        assert_eq!(
            parse_time("2024-05-01T12:00:00Z").unwrap(),
            1_714_564_800_000
        );
        assert!(parse_time("yesterday").is_err());
    }
}
