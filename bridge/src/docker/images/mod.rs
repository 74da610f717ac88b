//! The Docker backend's runtime images, built offline (no registry is reachable) from the
//! host's own interpreters: a `FROM scratch` base holding the real `python3` and its standard
//! library, the real `node`, a shell and a few tools with their shared libraries and the
//! ActionLoop launchers, and one small image per kind on top of it (`python:3`, `nodejs:20`,
//! `exec`) that only sets the command.
//!
//! Each image is tagged by the blake3 hash of its inputs (paths, modes, bytes and the
//! Dockerfile), so a build with unchanged inputs finds its tags and does nothing, and a change
//! of a launcher or of the host's Python gives new tags.

mod build;
mod context;
mod error;
mod host_runtimes;
mod ldd;
mod rootfs;

use std::collections::HashMap;
use std::time::Instant;

use bollard::Docker;

use crate::kind::RuntimeKind;
use context::BuildContext;

pub use build::build_image_from_files;
pub use context::ContextFile;
pub use error::{ImageError, Result};
pub use host_runtimes::{
    HostInterpreters, CONTAINER_DIR, NODE_LAUNCHER_PATH, PYTHON_LAUNCHER_PATH,
};

/// The label naming what an image is for (`base`, `python3`, `nodejs20`, `exec`).
pub const RUNTIME_LABEL: &str = "whirl.runtime";
/// The label holding the hash of the image's inputs (the tag's full-length version).
pub const INPUTS_LABEL: &str = "whirl.inputs";
/// The user every runtime container runs as (`nobody:nogroup`).
pub const RUNTIME_USER: &str = "65534:65534";
/// Hex digits of the inputs hash used in tags.
const TAG_HASH_LEN: usize = 16;

/// The base image's Dockerfile: the root file system, the standard library compiled once
/// (without `.pyc` files every Python container start compiles what it imports: ~250 ms), the
/// launchers in a layer of their own (a launcher change reuses the layers above from the
/// daemon's build cache), and the settings every kind shares.
const BASE_DOCKERFILE: &str = "FROM scratch\n\
COPY rootfs/ /\n\
RUN [\"python3\", \"-c\", \"import compileall, sys, sysconfig; sys.exit(not compileall.compile_dir(sysconfig.get_path('stdlib'), quiet=1, workers=0))\"]\n\
COPY launchers/ /opt/whirl/\n\
USER 65534:65534\n\
WORKDIR /tmp\n\
ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONIOENCODING=utf-8 HOME=/tmp\n";

/// One of the images this module builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeImage {
    /// The root file system every kind's image starts from.
    Base,
    /// The image containers of a kind run.
    Kind(RuntimeKind),
}

impl RuntimeImage {
    /// Every image, base first (the order they are built in).
    pub const ALL: [RuntimeImage; 4] = [
        RuntimeImage::Base,
        RuntimeImage::Kind(RuntimeKind::Python3),
        RuntimeImage::Kind(RuntimeKind::Nodejs20),
        RuntimeImage::Kind(RuntimeKind::Exec),
    ];

    /// The short name used in the repository and the `whirl.runtime` label.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeImage::Base => "base",
            RuntimeImage::Kind(RuntimeKind::Python3) => "python3",
            RuntimeImage::Kind(RuntimeKind::Nodejs20) => "nodejs20",
            RuntimeImage::Kind(RuntimeKind::Exec) => "exec",
        }
    }

    /// The repository part of the tag, e.g. `whirl-runtime-python3`.
    pub fn repository(self) -> String {
        format!("whirl-runtime-{}", self.name())
    }

    /// What the kind's containers run when the driver does not override the command.
    fn command(kind: RuntimeKind) -> &'static str {
        match kind {
            RuntimeKind::Python3 => r#"["python3","/opt/whirl/launcher.py"]"#,
            RuntimeKind::Nodejs20 => r#"["node","/opt/whirl/launcher.js"]"#,
            RuntimeKind::Exec => r#"["sleep","infinity"]"#,
        }
    }
}

/// The full tags of the images containers run, one per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeImages {
    pub base: String,
    pub python3: String,
    pub nodejs20: String,
    pub exec: String,
}

impl RuntimeImages {
    /// The image containers of `kind` are created from.
    pub fn for_kind(&self, kind: RuntimeKind) -> &str {
        match kind {
            RuntimeKind::Python3 => &self.python3,
            RuntimeKind::Nodejs20 => &self.nodejs20,
            RuntimeKind::Exec => &self.exec,
        }
    }
}

/// What a build is doing, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageProgress {
    /// The root file system was read from the host: `files` regular files, `bytes` in all.
    Collecting { files: usize, bytes: u64 },
    /// One line of the daemon's build output for `image`.
    Building { image: String, step: String },
    /// `image` exists with the same inputs: nothing to do.
    UpToDate { image: String },
    /// `image` was built in `seconds`.
    Built { image: String, seconds: f64 },
}

/// One image, the tag its current inputs give, and whether the daemon has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageStatus {
    pub image: RuntimeImage,
    pub tag: String,
    pub exists: bool,
}

/// One image to build: its tag, Dockerfile, context and labels.
struct PlannedImage {
    image: RuntimeImage,
    tag: String,
    dockerfile: String,
    labels: HashMap<String, String>,
}

/// The four images the current host inputs give, and the base image's context.
struct ImagePlan {
    base_context: BuildContext,
    images: Vec<PlannedImage>,
}

impl ImagePlan {
    fn new(base_context: BuildContext) -> Self {
        let mut images = Vec::with_capacity(RuntimeImage::ALL.len());
        let base_hash = base_context.inputs_hash(BASE_DOCKERFILE);
        let base = PlannedImage::new(RuntimeImage::Base, &base_hash, BASE_DOCKERFILE.to_string());
        for image in RuntimeImage::ALL {
            let RuntimeImage::Kind(kind) = image else {
                continue;
            };
            let dockerfile = format!("FROM {}\nCMD {}\n", base.tag, RuntimeImage::command(kind));
            let hash = BuildContext::new().inputs_hash(&dockerfile);
            images.push(PlannedImage::new(image, &hash, dockerfile));
        }
        images.insert(0, base);
        ImagePlan {
            base_context,
            images,
        }
    }

    fn tag(&self, wanted: RuntimeImage) -> &str {
        self.images
            .iter()
            .find(|planned| planned.image == wanted)
            .map(|planned| planned.tag.as_str())
            .unwrap_or_default()
    }

    fn runtime_images(&self) -> RuntimeImages {
        RuntimeImages {
            base: self.tag(RuntimeImage::Base).to_string(),
            python3: self
                .tag(RuntimeImage::Kind(RuntimeKind::Python3))
                .to_string(),
            nodejs20: self
                .tag(RuntimeImage::Kind(RuntimeKind::Nodejs20))
                .to_string(),
            exec: self.tag(RuntimeImage::Kind(RuntimeKind::Exec)).to_string(),
        }
    }
}

impl PlannedImage {
    fn new(image: RuntimeImage, hash: &str, dockerfile: String) -> Self {
        let labels = HashMap::from([
            (RUNTIME_LABEL.to_string(), image.name().to_string()),
            (INPUTS_LABEL.to_string(), hash.to_string()),
        ]);
        PlannedImage {
            image,
            tag: format!("{}:{}", image.repository(), &hash[..TAG_HASH_LEN]),
            dockerfile,
            labels,
        }
    }
}

/// Reads the root file system from the host (on a blocking thread: ~150 MB of files).
async fn plan_images(interpreters: &HostInterpreters) -> Result<ImagePlan> {
    let interpreters = interpreters.clone();
    tokio::task::spawn_blocking(move || {
        host_runtimes::collect_base_context(&interpreters).map(ImagePlan::new)
    })
    .await
    .map_err(|err| ImageError::Collection(err.to_string()))?
}

/// Builds the runtime images from the host's `python3` and `node` (see
/// [`build_runtime_images_with`]).
pub async fn build_runtime_images(
    docker: &Docker,
    force: bool,
    progress: &(dyn Fn(ImageProgress) + Send + Sync),
) -> Result<RuntimeImages> {
    build_runtime_images_with(docker, &HostInterpreters::default(), force, progress).await
}

/// Builds the base image and one image per kind from `interpreters`. An image whose tag
/// exists already is left alone (reported [`ImageProgress::UpToDate`]) unless `force`, which
/// rebuilds everything without the daemon's build cache.
pub async fn build_runtime_images_with(
    docker: &Docker,
    interpreters: &HostInterpreters,
    force: bool,
    progress: &(dyn Fn(ImageProgress) + Send + Sync),
) -> Result<RuntimeImages> {
    let plan = plan_images(interpreters).await?;
    let (files, bytes) = plan.base_context.file_stats();
    progress(ImageProgress::Collecting { files, bytes });
    let empty = BuildContext::new();
    for planned in &plan.images {
        if !force && build::image_exists(docker, &planned.tag).await? {
            progress(ImageProgress::UpToDate {
                image: planned.tag.clone(),
            });
            continue;
        }
        let started = Instant::now();
        let context = match planned.image {
            RuntimeImage::Base => &plan.base_context,
            RuntimeImage::Kind(_) => &empty,
        };
        let request = build::BuildRequest {
            tag: &planned.tag,
            dockerfile: &planned.dockerfile,
            context,
            labels: planned.labels.clone(),
            no_cache: force,
        };
        build::build(docker, request, progress).await?;
        tracing::debug!(image = %planned.tag, seconds = started.elapsed().as_secs_f64(), "built runtime image");
        progress(ImageProgress::Built {
            image: planned.tag.clone(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(plan.runtime_images())
}

/// The tags the current host inputs give and whether each image exists (no build).
pub async fn runtime_image_status(
    docker: &Docker,
    interpreters: &HostInterpreters,
) -> Result<Vec<ImageStatus>> {
    let plan = plan_images(interpreters).await?;
    let mut statuses = Vec::with_capacity(plan.images.len());
    for planned in &plan.images {
        statuses.push(ImageStatus {
            image: planned.image,
            tag: planned.tag.clone(),
            exists: build::image_exists(docker, &planned.tag).await?,
        });
    }
    Ok(statuses)
}

/// The runtime images for the host's `python3` and `node` if all of them are built, `None`
/// if any is missing (run `whirl images build`).
pub async fn runtime_images_if_built(docker: &Docker) -> Result<Option<RuntimeImages>> {
    let plan = plan_images(&HostInterpreters::default()).await?;
    for planned in &plan.images {
        if !build::image_exists(docker, &planned.tag).await? {
            return Ok(None);
        }
    }
    Ok(Some(plan.runtime_images()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use context::{ContextEntry, ContextFile};

    fn context_with_launcher(text: &str) -> BuildContext {
        let mut context = BuildContext::new();
        context.insert(ContextEntry::File(ContextFile {
            path: "rootfs/opt/whirl/launcher.py".to_string(),
            mode: 0o644,
            contents: text.as_bytes().to_vec(),
        }));
        context
    }

    #[test]
    fn the_dockerfile_puts_the_launchers_where_the_drivers_look() {
        for path in [PYTHON_LAUNCHER_PATH, NODE_LAUNCHER_PATH] {
            let (dir, _) = path.rsplit_once('/').unwrap();
            let copy = format!("COPY {}/ {dir}/\n", host_runtimes::LAUNCHERS_DIR);
            assert!(BASE_DOCKERFILE.contains(&copy), "{copy}");
        }
    }

    #[test]
    fn tags_are_named_by_image_and_inputs_and_a_launcher_change_changes_them_all() {
        let plan = ImagePlan::new(context_with_launcher("print(1)\n"));
        let images = plan.runtime_images();
        assert!(images.base.starts_with("whirl-runtime-base:"));
        assert!(images.python3.starts_with("whirl-runtime-python3:"));
        assert_eq!(images.for_kind(RuntimeKind::Exec), images.exec);
        assert_eq!(
            images.exec.len(),
            "whirl-runtime-exec:".len() + TAG_HASH_LEN
        );
        assert_eq!(
            plan.images[1].dockerfile,
            format!(
                "FROM {}\nCMD [\"python3\",\"/opt/whirl/launcher.py\"]\n",
                images.base
            )
        );
        assert_eq!(plan.images[3].labels[RUNTIME_LABEL], "exec");
        assert!(plan.images[3].labels[INPUTS_LABEL].starts_with(&images.exec[19..]));

        let same = ImagePlan::new(context_with_launcher("print(1)\n")).runtime_images();
        assert_eq!(same, images);
        let changed = ImagePlan::new(context_with_launcher("print(2)\n")).runtime_images();
        for kind in RuntimeKind::ALL {
            assert_ne!(changed.for_kind(kind), images.for_kind(kind));
        }
        assert_ne!(changed.base, images.base);
    }
}
