//! `GET /api/v1` (OpenWhisk's API description, no auth) and `GET /healthz`.

use crate::wire::{ApiInfo, SwaggerPaths};
use actix_web::HttpResponse;

/// OpenWhisk's `GET /api/v1` document.
pub fn api_info_document() -> ApiInfo {
    ApiInfo {
        description: "Whirl: an OpenWhisk-compatible Function-as-a-Service platform".into(),
        api_version: "1.0.0".into(),
        api_version_path: "v1".into(),
        build: env!("CARGO_PKG_VERSION").into(),
        buildno: env!("CARGO_PKG_VERSION").into(),
        swagger_paths: SwaggerPaths {
            ui: "/docs".into(),
            api_docs: "/api/v1/api-docs".into(),
        },
    }
}

/// `GET /api/v1`.
pub async fn api_info() -> HttpResponse {
    HttpResponse::Ok().json(api_info_document())
}

/// Liveness.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("OK")
}
