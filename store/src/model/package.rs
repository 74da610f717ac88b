//! Packages and package bindings.

use super::{JsonText, SemVer};
use serde::{Deserialize, Serialize};

/// The package a binding refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageBinding {
    pub namespace: String,
    pub name: String,
}

/// A package as persisted by `PackagePut`; with `binding` it is a binding to another package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDoc {
    pub namespace: String,
    pub name: String,
    pub version: SemVer,
    pub publish: bool,
    /// JSON array of `{key, value}`.
    pub annotations: JsonText,
    /// JSON array of `{key, value}`.
    pub parameters: JsonText,
    pub binding: Option<PackageBinding>,
    pub updated_ms: u64,
}
