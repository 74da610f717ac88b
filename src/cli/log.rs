//! `whirl log ...`: audit tooling over the event log (owned by the store work; filled in there).

use super::DataDir;

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub data_dir: DataDir,
}

pub fn run(args: LogArgs) -> anyhow::Result<()> {
    anyhow::bail!("no log subcommand yet for {}", args.data_dir.path.display())
}
