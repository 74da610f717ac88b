//! The OpenFaaS gateway's JSON (faas-provider `types/`): what `faas-cli` and the OpenFaaS UI send
//! to `/system/*` and read back. Field names are OpenFaaS's (camelCase); absent collections are
//! empty rather than `null` on the way out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `limits` / `requests` of a deployment (`{"memory": "128Mi", "cpu": "100m"}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct FunctionResources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
}

/// `POST`/`PUT /system/functions`: a function to deploy or update.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeployment {
    pub service: String,
    #[serde(default)]
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_process: Option<String>,
    #[serde(default)]
    pub env_vars: BTreeMap<String, String>,
    #[serde(default)]
    pub constraints: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub limits: Option<FunctionResources>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub requests: Option<FunctionResources>,
    #[serde(default)]
    pub read_only_root_filesystem: bool,
}

/// `GET /system/functions` (a list) and `GET /system/function/{name}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStatus {
    pub name: String,
    pub image: String,
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_process: Option<String>,
    #[serde(default)]
    pub env_vars: BTreeMap<String, String>,
    #[serde(default)]
    pub constraints: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<FunctionResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<FunctionResources>,
    #[serde(default)]
    pub read_only_root_filesystem: bool,
    /// Invocations recorded for the function.
    pub invocation_count: f64,
    /// Containers of the function (starting included).
    pub replicas: u64,
    /// Containers ready to serve.
    pub available_replicas: u64,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// `DELETE /system/functions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeletion {
    pub function_name: String,
}

/// `POST /system/scale-function/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScaleServiceRequest {
    #[serde(default)]
    pub service_name: String,
    #[schemars(range(max = crate::openfaas::MAX_REPLICAS))]
    pub replicas: u64,
}

/// The version part of `/system/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VersionInfo {
    pub sha: String,
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_message: Option<String>,
}

/// The provider part of `/system/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderInfo {
    pub provider: String,
    pub orchestration: String,
    pub version: VersionInfo,
}

/// `GET /system/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GatewayInfo {
    pub provider: ProviderInfo,
    pub version: VersionInfo,
    pub arch: String,
}

/// One line of `/system/logs` (NDJSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionLogLine {
    pub name: String,
    pub namespace: String,
    pub instance: String,
    /// RFC 3339 with nanoseconds.
    pub timestamp: String,
    pub text: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn faas_cli_deployments_parse_with_openfaas_field_names() {
        let body = r#"{"service":"figlet","image":"functions/figlet:latest","envProcess":"figlet",
            "envVars":{"write_debug":"true"},"labels":{"com.openfaas.scale.min":"2"},
            "annotations":{"topic":"x"},"limits":{"memory":"128Mi"},"readOnlyRootFilesystem":true,
            "namespace":"dev","secrets":[],"constraints":["node.platform.os == linux"]}"#;
        let deployment: FunctionDeployment = serde_json::from_str(body).unwrap();
        assert_eq!(deployment.service, "figlet");
        assert_eq!(deployment.env_process.as_deref(), Some("figlet"));
        assert_eq!(deployment.env_vars["write_debug"], "true");
        assert_eq!(deployment.labels["com.openfaas.scale.min"], "2");
        assert!(deployment.read_only_root_filesystem);
        assert_eq!(deployment.namespace.as_deref(), Some("dev"));
        let minimal: FunctionDeployment = serde_json::from_str(r#"{"service":"a"}"#).unwrap();
        assert!(minimal.image.is_empty() && minimal.labels.is_empty());
        let status = serde_json::to_value(FunctionStatus {
            name: "a".into(),
            invocation_count: 3.0,
            available_replicas: 1,
            ..FunctionStatus::default()
        })
        .unwrap();
        assert_eq!(status["invocationCount"], 3.0);
        assert_eq!(status["availableReplicas"], 1);
        assert!(status.get("envProcess").is_none());
        let scale: ScaleServiceRequest =
            serde_json::from_str(r#"{"serviceName":"a","replicas":3}"#).unwrap();
        assert_eq!(scale.replicas, 3);
    }
}
