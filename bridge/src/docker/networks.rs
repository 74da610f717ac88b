//! Whirl's two Docker networks, created at driver start where missing: `whirl-egress` (a bridge
//! with NAT out, no container-to-container traffic) and `whirl-isolated` (internal: no route
//! out; only the host reaches the containers on it). When Docker's default bridge already has
//! inter-container traffic off (`dockerd --icc=false`), containers with egress use it instead:
//! joining a user-defined network costs a cold start about 80 ms more (its embedded DNS), see
//! docs/benchmarks.md.

use std::collections::HashMap;

use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::InspectNetworkOptions;
use bollard::Docker;

use crate::docker::host_config::{DEFAULT_BRIDGE, EGRESS_NETWORK, ISOLATED_NETWORK};
use crate::error::{DriverError, Result};

/// Serializes creation within this process: Docker accepts two networks of the same name.
static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Whether Docker's default bridge keeps containers from reaching one another.
async fn default_bridge_isolates(docker: &Docker) -> bool {
    let Ok(bridge) = docker
        .inspect_network(DEFAULT_BRIDGE, None::<InspectNetworkOptions>)
        .await
    else {
        return false;
    };
    bridge
        .options
        .unwrap_or_default()
        .get("com.docker.network.bridge.enable_icc")
        .is_some_and(|icc| icc == "false")
}

/// Creates the networks that do not exist yet; returns the network of containers with egress.
pub(crate) async fn ensure(docker: &Docker) -> Result<String> {
    let _creating = CREATING.lock().await;
    for (name, internal) in [(EGRESS_NETWORK, false), (ISOLATED_NETWORK, true)] {
        if docker
            .inspect_network(name, None::<InspectNetworkOptions>)
            .await
            .is_ok()
        {
            continue;
        }
        let request = NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".to_owned()),
            internal: Some(internal),
            options: Some(HashMap::from([(
                "com.docker.network.bridge.enable_icc".to_owned(),
                "false".to_owned(),
            )])),
            labels: Some(HashMap::from([(
                "whirl.network".to_owned(),
                name.to_owned(),
            )])),
            ..Default::default()
        };
        match docker.create_network(request).await {
            Ok(_) => tracing::info!(network = name, internal, "docker network created"),
            // Another invoker may have created it in the meantime.
            Err(error) if error.to_string().contains("already exists") => {}
            Err(error) => {
                return Err(DriverError::docker(
                    format!("creating network {name}"),
                    error,
                ))
            }
        }
    }
    if default_bridge_isolates(docker).await {
        Ok(DEFAULT_BRIDGE.to_owned())
    } else {
        Ok(EGRESS_NETWORK.to_owned())
    }
}
