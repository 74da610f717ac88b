//! Whirl's public HTTP surface. `api` owns the wire shapes (the JSON users and their tools send
//! and receive) and maps them onto the platform: the store's projections for reads, the event log
//! for changes, the controller actor for invocations. The store knows nothing about HTTP; this crate
//! knows nothing about sled or containers.

mod info;
mod state;
pub mod wire;

pub use state::ApiState;

use actix_web::{web, App, HttpServer};

/// Builds the routes of one actix-web app (each worker builds its own; the state is shared).
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .route("/healthz", web::get().to(info::healthz))
            .route("/api/v1", web::get().to(info::api_info));
    }
}

/// Serves the API on `listen` until the server is stopped.
pub async fn serve(state: ApiState, listen: std::net::SocketAddr) -> std::io::Result<()> {
    let server = HttpServer::new(move || App::new().configure(configure(state.clone())))
        .bind(listen)?
        .run();
    tracing::info!(%listen, "API listening");
    server.await
}
