//! `whirl log ...`: audit tooling over the event log (verify, replay, history, export, stats,
//! retain). Thin: the work is done by `store::audit` and `store::Store`; this prints it.

use super::DataDir;
use anyhow::{bail, Context};
use std::io::Write;
use std::time::{Duration, Instant};
use store::audit::{self, Progress, Until, VerifyOutcome};
use store::time_format::{format_ms, parse_ms};
use store::{EntityRef, EventLog, LogOptions, SledEventLog, Store, StoreOptions};

/// Prints a line to stdout. A closed stdout (`whirl log ... | head`) silences the rest of the
/// output instead of panicking as `println!` would.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: LogCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Check every record's CRC, seq and the hash chain; name the first bad record.
    Verify {
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Rebuild all projections from zero in memory and prove they equal the live ones; with
    /// `--until`, show the state as it was at that seq or time instead.
    Replay {
        #[command(flatten)]
        data_dir: DataDir,
        /// A seq (e.g. 1200) or a UTC time (e.g. 2024-05-01T12:00:00Z).
        #[arg(long)]
        until: Option<String>,
    },
    /// Every change of one entity: when, by which key, what changed.
    History {
        #[command(flatten)]
        data_dir: DataDir,
        /// `namespace/kind/name`, e.g. guest/actions/hello or guest/rules/r1.
        entity: String,
    },
    /// Write every record as one JSON object per line to stdout.
    Export {
        #[command(flatten)]
        data_dir: DataDir,
        /// JSON lines (the only format).
        #[arg(long, required = true)]
        jsonl: bool,
    },
    /// Record counts and sizes by event type, head seq, generations.
    Stats {
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Drop activation records older than an age, through a snapshot (entity history is kept).
    Retain {
        #[command(flatten)]
        data_dir: DataDir,
        /// e.g. 30d, 12h, 90m, 45s.
        #[arg(long = "older-than")]
        older_than: String,
    },
}

pub fn run(args: LogArgs) -> anyhow::Result<()> {
    match args.command {
        LogCommand::Verify { data_dir } => verify(&data_dir),
        LogCommand::Replay { data_dir, until } => replay(&data_dir, until.as_deref()),
        LogCommand::History { data_dir, entity } => history(&data_dir, &entity),
        LogCommand::Export { data_dir, .. } => export(&data_dir),
        LogCommand::Stats { data_dir } => stats(&data_dir),
        LogCommand::Retain {
            data_dir,
            older_than,
        } => retain(&data_dir, &older_than),
    }
}

/// Prints progress to stderr at most once a second.
fn progress_printer() -> impl FnMut(Progress) {
    let started = Instant::now();
    let mut last = Instant::now();
    move |progress: Progress| {
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            eprintln!(
                "{}: {}/{} records ({:.0} s)",
                progress.stage,
                progress.done,
                progress.total,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

fn open_log(data_dir: &DataDir) -> anyhow::Result<SledEventLog> {
    drop(audit::open_log_of(&data_dir.path)?);
    Ok(SledEventLog::open(
        store::log_dir(&data_dir.path),
        LogOptions::default(),
    )?)
}

fn verify(data_dir: &DataDir) -> anyhow::Result<()> {
    let log = audit::open_log_of(&data_dir.path)?;
    match audit::verify_log(&log, &mut progress_printer())? {
        VerifyOutcome::Valid(report) => {
            say!(
                "ok: {} records verified in generation {} (seq {} to {}), {} snapshot(s), head hash {}",
                report.records,
                report.generation,
                report.first_seq.unwrap_or(0),
                report.head_seq.unwrap_or(0),
                report.snapshots,
                report.head_hash.map(|hash| hash.to_string()).unwrap_or_else(|| "-".into()),
            );
            Ok(())
        }
        VerifyOutcome::Invalid { checked, bad } => bail!(
            "record {} in {} is bad: {} ({} records before it verified)",
            bad.seq,
            log.path().display(),
            bad.problem,
            checked.records
        ),
    }
}

fn parse_until(text: &str) -> anyhow::Result<Until> {
    if let Ok(seq) = text.parse::<u64>() {
        return Ok(Until::Seq(seq));
    }
    match parse_ms(text) {
        Some(ms) => Ok(Until::TimeMs(ms)),
        None => bail!("--until {text:?} is neither a seq nor a UTC time like 2024-05-01T12:00:00Z"),
    }
}

fn replay(data_dir: &DataDir, until: Option<&str>) -> anyhow::Result<()> {
    let Some(until) = until else {
        drop(audit::open_log_of(&data_dir.path)?);
        let store = Store::open(&data_dir.path, StoreOptions::default())?;
        let comparison = audit::replay_and_compare(&store, &mut progress_printer())?;
        for tree in &comparison.trees {
            say!(
                "{:<12} live {:>9} rows, replay {:>9} rows: {}",
                tree.tree,
                tree.live_rows,
                tree.replayed_rows,
                tree.first_difference.as_deref().unwrap_or("identical")
            );
        }
        if !comparison.identical() {
            bail!("the live projections differ from a replay of the log from zero");
        }
        say!(
            "ok: {} records replayed from zero; projections equal the live ones at seq {}",
            comparison.replayed_records,
            comparison.head_seq
        );
        return Ok(());
    };
    let until_text = until;
    let until = parse_until(until)?;
    let log = open_log(data_dir)?;
    let summary = audit::state_at(&log, until, &mut progress_printer())?;
    say!(
        "state as of --until {until_text} (after seq {}):",
        summary.last_seq
    );
    for (entity, detail) in &summary.entities {
        say!("  {entity}  {detail}");
    }
    for (what, count) in &summary.counts {
        say!("{what}: {count}");
    }
    Ok(())
}

fn history(data_dir: &DataDir, entity: &str) -> anyhow::Result<()> {
    let entity: EntityRef = entity.parse()?;
    let log = open_log(data_dir)?;
    let total = log.head().map_or(0, |receipt| receipt.seq);
    let entries = audit::entity_history(log.read_from(1), &entity, total, &mut progress_printer())?;
    if entries.is_empty() {
        say!("no change of {entity} in the log");
    }
    for entry in entries {
        say!(
            "{}  seq {}  {}  by {}",
            format_ms(entry.time_ms),
            entry.seq,
            entry.event,
            entry.by
        );
        if entry.changes.is_empty() {
            say!("    (no field changed)");
        }
        for change in entry.changes {
            let show = |value: &Option<serde_json::Value>| {
                value.as_ref().map_or("-".to_owned(), |v| v.to_string())
            };
            say!(
                "    {}: {} -> {}",
                change.path,
                show(&change.before),
                show(&change.after)
            );
        }
    }
    Ok(())
}

fn export(data_dir: &DataDir) -> anyhow::Result<()> {
    let log = audit::open_log_of(&data_dir.path)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match audit::export_jsonl(&log, &mut out, &mut progress_printer()) {
        Ok(written) => written,
        // The reader went away (`| head`): not an error of the export.
        Err(store::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(())
        }
        Err(error) => return Err(error.into()),
    };
    out.flush().context("flushing stdout")?;
    eprintln!("exported {written} records");
    Ok(())
}

fn stats(data_dir: &DataDir) -> anyhow::Result<()> {
    let log = audit::open_log_of(&data_dir.path)?;
    let stats = audit::log_stats(&log, &mut progress_printer())?;
    say!("log: {}", log.path().display());
    say!(
        "generation {} (trees: {})",
        stats.generation,
        stats.generation_trees.join(", ")
    );
    say!(
        "records {} ({} bytes; {} bytes on disk)",
        stats.records,
        stats.bytes,
        stats.size_on_disk
    );
    say!(
        "seq {} to {}",
        stats.first_seq.unwrap_or(0),
        stats.head_seq.unwrap_or(0)
    );
    if let (Some(first), Some(last)) = (stats.first_time_ms, stats.last_time_ms) {
        say!("time {} to {}", format_ms(first), format_ms(last));
    }
    say!(
        "{:<20} {:>10} {:>12} {:>9} {:>9}",
        "event",
        "records",
        "bytes",
        "avg",
        "max"
    );
    for (name, tally) in &stats.by_event {
        say!(
            "{:<20} {:>10} {:>12} {:>9} {:>9}",
            name,
            tally.records,
            tally.bytes,
            tally.bytes / tally.records.max(1),
            tally.max_bytes
        );
    }
    Ok(())
}

fn parse_age(text: &str) -> anyhow::Result<Duration> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("age {text:?} must start with a number"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => bail!("age {text:?}: unit must be one of ms, s, m, h, d"),
    };
    Ok(Duration::from_secs(seconds))
}

fn retain(data_dir: &DataDir, older_than: &str) -> anyhow::Result<()> {
    let max_age = parse_age(older_than)?;
    drop(audit::open_log_of(&data_dir.path)?);
    let store = Store::open(&data_dir.path, StoreOptions::default())?;
    let now = store::Clock::now_ms(&store::SystemClock);
    let report = store.retain(max_age, now)?;
    match report.snapshot_seq {
        Some(seq) => say!(
            "dropped {} activations and {} invocations that ended before {}; kept {} records; snapshot at seq {}, generation {}",
            report.dropped_activations,
            report.dropped_invocations,
            format_ms(report.cutoff_ms),
            report.kept_records,
            seq,
            report.generation
        ),
        None => say!("nothing ended before {}: the log is unchanged", format_ms(report.cutoff_ms)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn until_takes_a_seq_or_a_time() {
        assert_eq!(parse_until("42").unwrap(), Until::Seq(42));
        assert_eq!(
            parse_until("1970-01-01T00:00:01Z").unwrap(),
            Until::TimeMs(1000)
        );
        assert!(parse_until("soon").is_err());
    }

    #[test]
    fn ages_take_a_unit() {
        assert_eq!(parse_age("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_age("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_age("5y").is_err());
        assert!(parse_age("d").is_err());
    }
}
