//! `simulations`: run one seed (`--seed N`, prints the trace hash), sweep seeds (`--seeds A..B`),
//! or run the keep-alive study (`keepalive-study`).

use clap::{Parser, Subcommand};
use simulations::config::RunLimits;
use simulations::sweep::{failure_report, parse_seed_range, summary, sweep};
use simulations::world::run_seed;
use std::process::ExitCode;

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
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let limits = RunLimits {
        time_ms: cli.time,
        max_steps: cli.steps,
        verbose: cli.verbose,
        ..RunLimits::default()
    };
    if let Some(command) = cli.command {
        match command {}
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
