//! `whirl`: one binary for the whole platform. This file only parses the command line and hands off to
//! `cli::*`; wiring lives there, behaviour lives in the library crates.

mod cli;

use clap::Parser;

/// mimalloc instead of glibc's malloc: see the workspace `Cargo.toml` and docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    cli::init_tracing(args.verbose);
    cli::run(args)
}
