//! `GET /api/v1`: the API description document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the API's description lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SwaggerPaths {
    pub ui: String,
    #[serde(rename = "api-docs")]
    pub api_docs: String,
}

/// OpenWhisk's `GET /api/v1` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiInfo {
    pub description: String,
    pub api_version: String,
    pub api_version_path: String,
    pub build: String,
    pub buildno: String,
    pub swagger_paths: SwaggerPaths,
}
