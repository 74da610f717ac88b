//! `GET /api/v1` (OpenWhisk's API description, no auth) and `GET /healthz`.

use actix_web::HttpResponse;
use serde_json::json;

/// OpenWhisk's `GET /api/v1` document.
pub async fn api_info() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "description": "Whirl: an OpenWhisk-compatible Function-as-a-Service platform",
        "api_version": "1.0.0",
        "api_version_path": "v1",
        "build": env!("CARGO_PKG_VERSION"),
        "buildno": env!("CARGO_PKG_VERSION"),
        "swagger_paths": { "ui": "/docs", "api-docs": "/api/v1/api-docs" },
    }))
}

/// Liveness.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("OK")
}
