//! `simulations`: run one seed (`--seed N`, prints the trace hash), sweep seeds (`--seeds A..B`),
//! or run the keep-alive study (`keepalive-study`).

use clap::{Parser, Subcommand};
use simulations::config::RunLimits;
use simulations::keepalive::workload::WorkloadConfig;
use simulations::keepalive::{pool_checked_policies, run_study, study_policies};
use simulations::sweep::{failure_report, parse_seed_range, summary, sweep};
use simulations::world::run_seed;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "simulations",
    about = "Whirl's deterministic simulator and keep-alive study"
)]
struct Cli {
    /// Run this one seed and print its trace hash.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run every seed of A..B (B excluded).
    #[arg(long)]
    seeds: Option<String>,
    /// Simulated milliseconds of client activity and faults per seed.
    #[arg(long, default_value_t = RunLimits::default().time_ms)]
    time: u64,
    /// The most events per seed.
    #[arg(long, default_value_t = RunLimits::default().max_steps)]
    steps: u64,
    /// Print every trace line.
    #[arg(long)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compare keep-alive policies on a seeded Azure-like workload (run with --release).
    KeepaliveStudy {
        /// Workload seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of apps.
        #[arg(long, default_value_t = 5_000)]
        apps: u32,
        /// Days of trace.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let limits = RunLimits {
        time_ms: cli.time,
        max_steps: cli.steps,
        verbose: cli.verbose,
        ..RunLimits::default()
    };
    if let Some(command) = cli.command {
        return match command {
            Command::KeepaliveStudy { seed, apps, days } => keepalive_study(seed, apps, days),
        };
    }
    if let Some(range) = &cli.seeds {
        let seeds = match parse_seed_range(range) {
            Ok(seeds) => seeds,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        let report = sweep(seeds, &limits, usize::MAX, None);
        for failure in &report.failures {
            println!("{}", failure_report(failure));
        }
        println!(
            "{} seeds, {} failed, {:.1} s, {:.1} seeds/s, {} events",
            report.seeds_run,
            report.failures.len(),
            report.elapsed.as_secs_f64(),
            report.seeds_per_second(),
            report.events
        );
        return if report.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let seed = cli.seed.unwrap_or(0);
    let outcome = run_seed(seed, &limits);
    if outcome.passed() {
        println!("{}", summary(&outcome));
        println!("trace hash: {:016x}", outcome.trace_hash);
        ExitCode::SUCCESS
    } else {
        println!("{}", failure_report(&outcome));
        println!("trace hash: {:016x}", outcome.trace_hash);
        ExitCode::FAILURE
    }
}

fn keepalive_study(seed: u64, apps: u32, days: u32) -> ExitCode {
    let config = WorkloadConfig { seed, apps, days };
    let started = Instant::now();
    match run_study(&config, &study_policies(), &pool_checked_policies()) {
        Ok(report) => {
            println!(
                "keep-alive study: seed {seed}, {apps} apps, {days} days ({} apps invoked, {} invocations), {:.1} s",
                report.rows.first().map_or(0, |r| r.apps),
                report.rows.first().map_or(0, |r| r.invocations),
                started.elapsed().as_secs_f64()
            );
            print!("{}", simulations::keepalive::report::markdown(&report.rows));
            println!(
                "\nCross-check: {} apps (at most {} busy minutes each) replayed through the real ContainerPool:",
                report.pool_checks.first().map_or(0, |(_, a)| a.apps),
                simulations::keepalive::POOL_CHECK_MAX_MINUTES
            );
            for (name, a) in &report.pool_checks {
                println!(
                    "  {name}: cold starts model {} / pool {} ({} of {} apps identical); wasted memory-time model {:.1} h / pool {:.1} h",
                    a.model_cold,
                    a.pool_cold,
                    a.apps_identical,
                    a.apps,
                    a.model_wasted_ms as f64 / 3_600_000.0,
                    a.pool_wasted_ms as f64 / 3_600_000.0
                );
            }
            println!("\nBy popularity band (memory normalized to all apps under fixed 10 min):");
            for (band, rows) in &report.bands {
                println!("\n{band} ({} apps):", rows.first().map_or(0, |r| r.apps));
                print!("{}", simulations::keepalive::report::markdown(rows));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
