//! What can go wrong building the runtime images: asking the host for its interpreters,
//! reading its files and libraries, assembling the context, and the Docker daemon's answers.

use std::path::PathBuf;

/// Errors of the runtime image builder; each names the file, program or image concerned.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// `python3` or `node` could not be run, or answered something unusable.
    #[error("cannot locate the host's {program}: {detail}")]
    Interpreter { program: String, detail: String },
    /// A host file that goes into the image could not be read.
    #[error("cannot read {path} for the runtime image: {source}")]
    HostFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A host path is not usable in an image (not UTF-8, a symlink loop, a file used as a
    /// directory...).
    #[error("cannot copy {path} into the runtime image: {reason}")]
    HostPath { path: PathBuf, reason: String },
    /// `ldd` failed, or a shared library an executable needs is missing on the host.
    #[error("shared libraries of {path}: {detail}")]
    SharedLibraries { path: String, detail: String },
    /// Writing the build context archive failed.
    #[error("cannot add {path} to the build context: {source}")]
    Archive {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The Docker daemon refused a request about an image.
    #[error("docker {operation} of image {image}: {source}")]
    Docker {
        image: String,
        operation: &'static str,
        #[source]
        source: bollard::errors::Error,
    },
    /// The daemon ran the build and it failed; `message` is the daemon's error text.
    #[error("building image {image} failed: {message}")]
    BuildFailed { image: String, message: String },
    /// The blocking task collecting the root file system did not finish.
    #[error("collecting the runtime root file system: {0}")]
    Collection(String),
}

/// Result with [`ImageError`] by default.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;

impl From<ImageError> for crate::DriverError {
    /// A runtime image problem is a platform error of the Docker backend.
    fn from(error: ImageError) -> Self {
        crate::DriverError::Docker {
            context: "runtime images".to_string(),
            message: error.to_string(),
        }
    }
}
