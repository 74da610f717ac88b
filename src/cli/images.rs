//! `whirl images ...`: build and list the Docker backend's runtime images (made offline from
//! this host's `python3` and `node`). Thin: the work is done by `bridge::docker::images`.

use anyhow::Context;
use bridge::docker::images::{self, HostInterpreters, ImageProgress};

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    #[command(subcommand)]
    pub command: ImagesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImagesCommand {
    /// Build the base image and the python:3, nodejs:20 and exec images from this host's
    /// interpreters; images whose inputs did not change are left alone.
    Build {
        /// Rebuild every image, without the daemon's build cache.
        #[arg(long)]
        force: bool,
    },
    /// Show the tags the current inputs give and whether each image exists.
    List,
}

pub fn run(args: ImagesArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let docker = connect().await?;
        match args.command {
            ImagesCommand::Build { force } => build(&docker, force).await,
            ImagesCommand::List => list(&docker).await,
        }
    })
}

/// Connects to the local daemon (`DOCKER_HOST` or `/var/run/docker.sock`) at the API version
/// it speaks.
async fn connect() -> anyhow::Result<bollard::Docker> {
    let docker = bollard::Docker::connect_with_local_defaults()
        .context("connecting to the Docker daemon")?;
    docker
        .negotiate_version()
        .await
        .context("asking the Docker daemon for its API version (is dockerd running?)")
}

fn show(progress: ImageProgress) {
    match progress {
        ImageProgress::Collecting { files, bytes } => eprintln!(
            "collected {files} files ({:.1} MB) from this host",
            bytes as f64 / 1e6
        ),
        ImageProgress::Building { image, step } => eprintln!("{image}: {step}"),
        ImageProgress::UpToDate { image } => eprintln!("{image}: up to date"),
        ImageProgress::Built { image, seconds } => eprintln!("{image}: built in {seconds:.1} s"),
    }
}

async fn build(docker: &bollard::Docker, force: bool) -> anyhow::Result<()> {
    let built = images::build_runtime_images(docker, force, &show).await?;
    println!("{}", built.base);
    println!("{}", built.python3);
    println!("{}", built.nodejs20);
    println!("{}", built.exec);
    Ok(())
}

async fn list(docker: &bollard::Docker) -> anyhow::Result<()> {
    let statuses = images::runtime_image_status(docker, &HostInterpreters::default()).await?;
    for status in statuses {
        let state = if status.exists { "built" } else { "missing" };
        println!("{:<9} {:<40} {state}", status.image.name(), status.tag);
    }
    Ok(())
}
