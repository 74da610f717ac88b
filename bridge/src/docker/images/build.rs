//! Talking to the Docker daemon about images: whether a tag exists, and building one from an
//! in-memory context with the classic builder, forwarding its output line by line.

use std::collections::HashMap;

use bollard::errors::Error as DockerError;
use bollard::query_parameters::BuildImageOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;

use super::context::{BuildContext, ContextEntry, ContextFile};
use super::error::{ImageError, Result};
use super::ImageProgress;

/// True when the daemon has an image named `tag`.
pub(crate) async fn image_exists(docker: &Docker, tag: &str) -> Result<bool> {
    match docker.inspect_image(tag).await {
        Ok(_) => Ok(true),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(source) => Err(ImageError::Docker {
            image: tag.to_string(),
            operation: "inspect",
            source,
        }),
    }
}

/// How to build one image.
pub(crate) struct BuildRequest<'a> {
    pub tag: &'a str,
    pub dockerfile: &'a str,
    pub context: &'a BuildContext,
    pub labels: HashMap<String, String>,
    /// Ignore the daemon's build cache.
    pub no_cache: bool,
}

/// Builds `request.tag` and waits for the daemon to finish, reporting each output line.
pub(crate) async fn build(
    docker: &Docker,
    request: BuildRequest<'_>,
    progress: &(dyn Fn(ImageProgress) + Send + Sync),
) -> Result<()> {
    let tag = request.tag;
    let archive = request.context.to_tar(request.dockerfile)?;
    tracing::debug!(image = %tag, context_bytes = archive.len(), "building image");
    let options = BuildImageOptionsBuilder::new()
        .t(tag)
        .rm(true)
        .forcerm(true)
        .nocache(request.no_cache)
        .labels(&request.labels)
        .build();
    let mut output = docker.build_image(options, None, Some(bollard::body_full(archive.into())));
    while let Some(item) = output.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail.and_then(|detail| detail.message) {
                    return Err(ImageError::BuildFailed {
                        image: tag.to_string(),
                        message: detail,
                    });
                }
                for text in [info.stream, info.status].into_iter().flatten() {
                    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                        progress(ImageProgress::Building {
                            image: tag.to_string(),
                            step: line.to_string(),
                        });
                    }
                }
            }
            Err(DockerError::DockerStreamError { error }) => {
                return Err(ImageError::BuildFailed {
                    image: tag.to_string(),
                    message: error.trim().to_string(),
                })
            }
            Err(source) => {
                return Err(ImageError::Docker {
                    image: tag.to_string(),
                    operation: "build",
                    source,
                })
            }
        }
    }
    if !image_exists(docker, tag).await? {
        return Err(ImageError::BuildFailed {
            image: tag.to_string(),
            message: "the daemon reported no error, yet the image does not exist".to_string(),
        });
    }
    Ok(())
}

/// Builds the image `tag` from a Dockerfile and a few files (paths relative to the context's
/// root, e.g. `app/server.py` for `COPY app/ /app/`), for instance a test's own image
/// `FROM` a runtime image.
pub async fn build_image_from_files(
    docker: &Docker,
    tag: &str,
    dockerfile: &str,
    files: &[ContextFile],
    progress: &(dyn Fn(ImageProgress) + Send + Sync),
) -> Result<()> {
    let mut context = BuildContext::new();
    for file in files {
        context.insert(ContextEntry::File(file.clone()));
    }
    let request = BuildRequest {
        tag,
        dockerfile,
        context: &context,
        labels: HashMap::new(),
        no_cache: false,
    };
    build(docker, request, progress).await
}
