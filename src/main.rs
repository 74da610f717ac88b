//! `whirl`: one binary for the whole platform. This file only parses the command line and hands off to
//! `cli::*`; wiring lives there, behaviour lives in the library crates.

mod cli;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    cli::init_tracing(args.verbose);
    cli::run(args)
}
