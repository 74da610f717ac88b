//! An OpenFaaS function's settings as Whirl keeps them: the deployment's fields in the action's
//! `openfaas` annotation, and what they mean for running it (scaling labels, `max_inflight`,
//! `exec_timeout`, memory), parsed once per use with OpenFaaS's spellings.

use crate::wire::{annotation, from_json_text, FunctionDeployment};
use std::time::Duration;
use store::ActionDoc;

/// The annotation holding the deployment (image, envProcess, envVars, labels, annotations, ...).
pub const OPENFAAS_ANNOTATION: &str = "openfaas";
/// The annotation whose object becomes the containers' environment (`actors::convert`).
pub const ENVIRONMENT_ANNOTATION: &str = "environment";
/// The annotation the invoker's pool reads the function's floor, ceiling and idle time from.
pub const SCALING_ANNOTATION: &str = "scaling";

pub const SCALE_MIN: &str = "com.openfaas.scale.min";
pub const SCALE_MAX: &str = "com.openfaas.scale.max";
pub const SCALE_ZERO: &str = "com.openfaas.scale.zero";
pub const SCALE_ZERO_DURATION: &str = "com.openfaas.scale.zero-duration";

/// OpenFaaS's default ceiling (`com.openfaas.scale.max`).
pub const DEFAULT_MAX_REPLICAS: u32 = 20;

/// The deployment an action was made from (for an action made through the OpenWhisk API: the
/// fields that follow from it, with no labels).
pub fn deployment_of(doc: &ActionDoc) -> FunctionDeployment {
    let annotations = from_json_text(&doc.annotations);
    annotation(&annotations, OPENFAAS_ANNOTATION)
        .and_then(|value| serde_json::from_value::<FunctionDeployment>(value.clone()).ok())
        .unwrap_or_else(|| FunctionDeployment {
            service: doc.name.clone(),
            image: match &doc.exec {
                store::Exec::Blackbox { image, .. } => image.clone(),
                exec => format!("whirl/{}", exec.kind()),
            },
            env_process: match &doc.exec {
                store::Exec::Command { command } => Some(command.clone()),
                _ => None,
            },
            ..FunctionDeployment::default()
        })
}

/// A variable of the function: its `envVars` (OpenFaaS's watchdogs read them there).
fn env<'a>(deployment: &'a FunctionDeployment, name: &str) -> Option<&'a str> {
    deployment
        .env_vars
        .get(name)
        .or_else(|| deployment.labels.get(name))
        .map(String::as_str)
}

/// `max_inflight`: calls that may run at once (`None`: unbounded).
pub fn max_inflight(deployment: &FunctionDeployment) -> Option<usize> {
    env(deployment, "max_inflight")
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|limit| *limit > 0)
}

/// `exec_timeout` (or of-watchdog's `write_timeout`): a Go duration (`10s`, `1m30s`, `500ms`)
/// or a number of seconds.
pub fn exec_timeout(deployment: &FunctionDeployment) -> Option<Duration> {
    env(deployment, "exec_timeout")
        .or_else(|| env(deployment, "write_timeout"))
        .and_then(parse_go_duration)
        .filter(|timeout| !timeout.is_zero())
}

/// Go's `time.ParseDuration` for the units watchdogs use (`h`, `m`, `s`, `ms`), or plain seconds.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += Duration::from_secs_f64(number * seconds);
    }
    Some(total)
}

/// Kubernetes memory quantities (`128Mi`, `1Gi`, `100M`, bytes) in MB.
pub fn memory_mb(quantity: &str) -> Option<u32> {
    let quantity = quantity.trim();
    let split = quantity
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(quantity.len());
    let number: u64 = quantity[..split].parse().ok()?;
    let bytes = match &quantity[split..] {
        "" => number,
        "Ki" => number * 1024,
        "Mi" => number * 1024 * 1024,
        "Gi" => number * 1024 * 1024 * 1024,
        "K" | "k" => number * 1000,
        "M" => number * 1000 * 1000,
        "G" => number * 1000 * 1000 * 1000,
        _ => return None,
    };
    u32::try_from(bytes.div_ceil(1024 * 1024)).ok()
}

/// The scaling labels: warm floor, ceiling, scale to zero and its idle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingLabels {
    pub min: u32,
    pub max: u32,
    pub zero: bool,
    pub zero_after: Option<Duration>,
}

/// The scaling of a function: OpenFaaS's defaults are min 1, max 20, no scale to zero.
pub fn scaling_labels(deployment: &FunctionDeployment) -> ScalingLabels {
    let number = |key: &str| {
        deployment
            .labels
            .get(key)
            .and_then(|value| value.trim().parse::<u32>().ok())
    };
    let max = number(SCALE_MAX).unwrap_or(DEFAULT_MAX_REPLICAS).max(1);
    let min = number(SCALE_MIN).unwrap_or(1).min(max);
    ScalingLabels {
        min,
        max,
        zero: deployment
            .labels
            .get(SCALE_ZERO)
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("true")),
        zero_after: deployment
            .labels
            .get(SCALE_ZERO_DURATION)
            .and_then(|value| parse_go_duration(value)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_and_memory_quantities() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_go_duration("ten"), None);
        assert_eq!(memory_mb("128Mi"), Some(128));
        assert_eq!(memory_mb("1Gi"), Some(1024));
        assert_eq!(memory_mb("100M"), Some(96));
        assert_eq!(memory_mb("lots"), None);
    }

    #[test]
    fn scaling_labels_default_as_openfaas_does() {
        let mut deployment = FunctionDeployment::default();
        assert_eq!(
            scaling_labels(&deployment),
            ScalingLabels {
                min: 1,
                max: 20,
                zero: false,
                zero_after: None
            }
        );
        deployment.labels.insert(SCALE_MIN.into(), "5".into());
        deployment.labels.insert(SCALE_MAX.into(), "3".into());
        deployment.labels.insert(SCALE_ZERO.into(), "true".into());
        deployment
            .labels
            .insert(SCALE_ZERO_DURATION.into(), "2m".into());
        let labels = scaling_labels(&deployment);
        assert_eq!((labels.min, labels.max, labels.zero), (3, 3, true));
        assert_eq!(labels.zero_after, Some(Duration::from_secs(120)));
        deployment
            .env_vars
            .insert("max_inflight".into(), "4".into());
        deployment
            .env_vars
            .insert("exec_timeout".into(), "3s".into());
        assert_eq!(max_inflight(&deployment), Some(4));
        assert_eq!(exec_timeout(&deployment), Some(Duration::from_secs(3)));
    }
}
