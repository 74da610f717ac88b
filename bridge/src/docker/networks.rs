//! Whirl's two Docker networks, created at driver start where missing: `whirl-egress` (a bridge
//! with NAT out, no container-to-container traffic) and `whirl-isolated` (internal: no route
//! out; only the host reaches the containers on it).

use std::collections::HashMap;

use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::InspectNetworkOptions;
use bollard::Docker;

use crate::docker::host_config::{EGRESS_NETWORK, ISOLATED_NETWORK};
use crate::error::{DriverError, Result};

/// Serializes creation within this process: Docker accepts two networks of the same name.
static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Creates the networks that do not exist yet.
pub(crate) async fn ensure(docker: &Docker) -> Result<()> {
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
    Ok(())
}
