//! A `FunctionDeployment` becomes an action: `envProcess` without an image the backend runs is
//! an `exec` action (classic watchdog semantics), an image on a backend that runs images is a
//! `blackbox` action (its `fprocess`, or `envProcess`, runs per request). The deployment itself
//! is kept in the `openfaas` annotation, `envVars` (and `fprocess`) in `environment`, so nothing
//! new is needed in the event schema; the scaling labels become the `scaling` annotation the
//! invoker's pool reads. `exec_timeout` sets the action's timeout and `limits.memory` its memory,
//! both clamped into the server's ranges.

use super::settings::{
    exec_timeout, memory_mb, scaling_labels, ENVIRONMENT_ANNOTATION, OPENFAAS_ANNOTATION,
    SCALING_ANNOTATION,
};
use crate::config::ApiConfig;
use crate::wire::{to_json_text, FunctionDeployment, KeyValue};
use store::{ActionDoc, ActionLimits, Exec, SemVer};

/// Why a deployment cannot become an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeploymentError {
    #[error("service is required")]
    MissingService,
    #[error("invalid function name '{0}': {1}")]
    BadName(String, String),
    #[error("image or envProcess is required")]
    NothingToRun,
    #[error("this server runs functions as processes, not images: give envProcess to run '{0}'")]
    ImagesNotSupported(String),
}

/// What running a deployment needs: the exec and the environment its containers get.
fn exec_of(
    deployment: &FunctionDeployment,
    runs_images: bool,
) -> Result<(Exec, serde_json::Map<String, serde_json::Value>), DeploymentError> {
    let mut environment: serde_json::Map<String, serde_json::Value> = deployment
        .env_vars
        .iter()
        .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
        .collect();
    let process = deployment
        .env_process
        .as_deref()
        .map(str::trim)
        .filter(|command| !command.is_empty());
    let image = Some(deployment.image.trim()).filter(|image| !image.is_empty());
    let exec = match (image, process) {
        (Some(image), process) if runs_images => {
            if let Some(command) = process {
                environment.insert("fprocess".into(), command.into());
            }
            Exec::Blackbox {
                image: image.to_owned(),
                code: None,
                main: None,
                binary: false,
            }
        }
        (_, Some(command)) => Exec::Command {
            command: command.to_owned(),
        },
        (Some(image), None) => return Err(DeploymentError::ImagesNotSupported(image.to_owned())),
        (None, None) => return Err(DeploymentError::NothingToRun),
    };
    Ok((exec, environment))
}

/// The pool's view of the scaling labels (`{"min", "max", "idleMs"}`): with
/// `com.openfaas.scale.zero=true` the floor is 0 and idle containers go after
/// `com.openfaas.scale.zero-duration` (else the pool's keep-alive); otherwise the floor is
/// `com.openfaas.scale.min` (default 1) and stays warm.
pub fn pool_scaling(deployment: &FunctionDeployment) -> serde_json::Value {
    let labels = scaling_labels(deployment);
    let mut scaling = serde_json::json!({
        "min": if labels.zero { 0 } else { labels.min },
        "max": labels.max,
    });
    if let (true, Some(after)) = (labels.zero, labels.zero_after) {
        scaling["idleMs"] = serde_json::json!(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
    }
    scaling
}

/// The action of `deployment` in `namespace`, over the `existing` one when updating.
pub fn action_of(
    deployment: &FunctionDeployment,
    namespace: &str,
    runs_images: bool,
    config: &ApiConfig,
    existing: Option<&ActionDoc>,
    now_ms: u64,
) -> Result<ActionDoc, DeploymentError> {
    let name = deployment.service.trim();
    if name.is_empty() {
        return Err(DeploymentError::MissingService);
    }
    crate::names::check_name("function", name)
        .map_err(|error| DeploymentError::BadName(name.to_owned(), error.to_string()))?;
    let (exec, environment) = exec_of(deployment, runs_images)?;
    let ranges = &config.action_limits;
    let defaults = ranges.defaults;
    let timeout_ms = exec_timeout(deployment)
        .map(|timeout| u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
        .map_or(defaults.timeout_ms, |ms| {
            ms.clamp(ranges.timeout_ms.0, ranges.timeout_ms.1)
        });
    let memory_mb = deployment
        .limits
        .as_ref()
        .and_then(|limits| limits.memory.as_deref())
        .and_then(memory_mb)
        .map_or(defaults.memory_mb, |mb| {
            mb.clamp(ranges.memory_mb.0, ranges.memory_mb.1)
        });
    let mut kept = deployment.clone();
    kept.service = name.to_owned();
    kept.namespace = Some(namespace.to_owned());
    let mut annotations = vec![
        KeyValue::new(
            OPENFAAS_ANNOTATION,
            serde_json::to_value(&kept).unwrap_or(serde_json::Value::Null),
        ),
        KeyValue::new(
            ENVIRONMENT_ANNOTATION,
            serde_json::Value::Object(environment),
        ),
        KeyValue::new("exec", exec.kind()),
        KeyValue::new(SCALING_ANNOTATION, pool_scaling(deployment)),
    ];
    if deployment.read_only_root_filesystem {
        annotations.push(KeyValue::new("read-only-root", true));
    }
    Ok(ActionDoc {
        namespace: namespace.to_owned(),
        package: None,
        name: name.to_owned(),
        version: existing.map_or(SemVer::INITIAL, |doc| doc.version.next_patch()),
        publish: false,
        exec,
        annotations: to_json_text(&annotations),
        parameters: existing
            .map_or_else(store::JsonText::empty_array, |doc| doc.parameters.clone()),
        limits: ActionLimits {
            timeout_ms,
            memory_mb,
            logs_mb: defaults.logs_mb,
            concurrency: 1,
        },
        updated_ms: now_ms,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::wire::{annotation, from_json_text, FunctionResources};

    fn deployment(image: &str, process: Option<&str>) -> FunctionDeployment {
        FunctionDeployment {
            service: "resize".into(),
            image: image.into(),
            env_process: process.map(str::to_owned),
            ..FunctionDeployment::default()
        }
    }

    #[test]
    fn env_process_is_an_exec_action_and_an_image_a_blackbox_one() {
        let config = ApiConfig::default();
        let doc = action_of(
            &deployment("", Some("cat")),
            "guest",
            false,
            &config,
            None,
            1,
        )
        .unwrap();
        assert_eq!(
            doc.exec,
            Exec::Command {
                command: "cat".into()
            }
        );
        // The process backend ignores a named image when envProcess is given.
        let doc = action_of(
            &deployment("functions/resizer", Some("convert - -")),
            "guest",
            false,
            &config,
            None,
            1,
        )
        .unwrap();
        assert!(matches!(doc.exec, Exec::Command { .. }));
        let refused = action_of(
            &deployment("functions/resizer", None),
            "guest",
            false,
            &config,
            None,
            1,
        );
        assert!(matches!(
            refused,
            Err(DeploymentError::ImagesNotSupported(_))
        ));
        // Docker: the image runs, envProcess becomes its fprocess.
        let doc = action_of(
            &deployment("functions/resizer", Some("convert - -")),
            "guest",
            true,
            &config,
            None,
            1,
        )
        .unwrap();
        assert!(matches!(&doc.exec, Exec::Blackbox { image, .. } if image == "functions/resizer"));
        let annotations = from_json_text(&doc.annotations);
        assert_eq!(
            annotation(&annotations, "environment").unwrap()["fprocess"],
            "convert - -"
        );
        assert!(matches!(
            action_of(&deployment("", None), "guest", true, &config, None, 1),
            Err(DeploymentError::NothingToRun)
        ));
    }

    #[test]
    fn settings_are_kept_and_limits_follow_the_watchdog_variables() {
        let config = ApiConfig::default();
        let mut wanted = deployment("", Some("cat"));
        wanted.env_vars.insert("exec_timeout".into(), "2s".into());
        wanted
            .labels
            .insert("com.openfaas.scale.max".into(), "3".into());
        wanted.limits = Some(FunctionResources {
            memory: Some("4Gi".into()),
            cpu: None,
        });
        wanted.read_only_root_filesystem = true;
        let doc = action_of(&wanted, "dev", false, &config, None, 1).unwrap();
        assert_eq!(doc.limits.timeout_ms, 2000);
        assert_eq!(doc.limits.memory_mb, 512, "clamped to the server's maximum");
        let annotations = from_json_text(&doc.annotations);
        let kept: FunctionDeployment =
            serde_json::from_value(annotation(&annotations, "openfaas").unwrap().clone()).unwrap();
        assert_eq!(kept.labels["com.openfaas.scale.max"], "3");
        assert_eq!(kept.namespace.as_deref(), Some("dev"));
        assert_eq!(
            annotation(&annotations, "scaling"),
            Some(&serde_json::json!({"min": 1, "max": 3}))
        );
        let mut zero = wanted.clone();
        zero.labels
            .insert("com.openfaas.scale.zero".into(), "true".into());
        zero.labels
            .insert("com.openfaas.scale.zero-duration".into(), "2s".into());
        assert_eq!(
            pool_scaling(&zero),
            serde_json::json!({"min": 0, "max": 3, "idleMs": 2000})
        );
        assert_eq!(
            annotation(&annotations, "environment").unwrap()["exec_timeout"],
            "2s"
        );
        assert_eq!(
            annotation(&annotations, "read-only-root"),
            Some(&serde_json::Value::Bool(true))
        );
        let updated = action_of(&wanted, "dev", false, &config, Some(&doc), 2).unwrap();
        assert_eq!(updated.version, doc.version.next_patch());
    }
}
