//! `GET /system/info`: the provider ("whirl"), how it orchestrates (the backend), versions.

use super::auth::system_caller;
use crate::state::ApiState;
use crate::wire::{GatewayInfo, ProviderInfo, VersionInfo};
use actix_web::{web, HttpRequest, HttpResponse};

/// The document, for a backend that runs images (Docker) or processes.
pub fn gateway_info(runs_images: bool) -> GatewayInfo {
    let version = VersionInfo {
        sha: option_env!("WHIRL_GIT_SHA").unwrap_or("unknown").to_owned(),
        release: env!("CARGO_PKG_VERSION").to_owned(),
        commit_message: None,
    };
    GatewayInfo {
        provider: ProviderInfo {
            provider: "whirl".to_owned(),
            orchestration: if runs_images { "docker" } else { "process" }.to_owned(),
            version: version.clone(),
        },
        version,
        arch: std::env::consts::ARCH.to_owned(),
    }
}

/// `GET /system/info`.
pub async fn system_info(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if let Err(answer) = system_caller(&state, &request) {
        return *answer;
    }
    HttpResponse::Ok().json(gateway_info(state.gateway.runs_images()))
}
