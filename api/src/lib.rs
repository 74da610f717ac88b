//! Whirl's public HTTP surface: the OpenWhisk REST API (actions, packages, triggers, rules,
//! activations, namespaces, limits), web actions, the operator's routes, the OpenAPI document.
//!
//! `api` owns the wire shapes ([`wire`], shared with the `whirl` CLI) and maps them onto the
//! platform: the store's projections for reads, the event log for changes, the controller actor for
//! invocations. [`Platform`] starts the whole single-process platform (store, process driver,
//! controller, invoker, HTTP server) the way `whirl serve` and the tests run it.

mod access;
pub mod admin;
pub mod auth;
mod bootstrap;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod console;
mod error;
pub mod feeds;
mod follower;
mod handlers;
mod info;
pub mod invoke;
mod invoker_node;
pub mod metrics;
pub mod middleware;
pub mod names;
pub mod nats;
pub mod openapi;
pub mod openfaas;
mod platform;
pub mod provisioning;
mod query;
pub mod queue;
pub mod routes;
pub mod serving;
mod state;
pub mod web_actions;
pub mod wire;

pub use config::ApiConfig;
pub use error::{Error, Result};
pub use invoker_node::InvokerNode;
pub use platform::{Backend, GuestKey, Platform, PlatformOptions};
pub use state::ApiState;

use actix_web::{web, App};

/// Builds the routes of one actix-web app (each worker builds its own; the state is shared).
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        let body_limit = state.config.max_body_bytes();
        cfg.app_data(web::Data::new(state))
            .app_data(web::PayloadConfig::new(body_limit))
            .route("/healthz", web::get().to(info::healthz));
        routes::register(cfg);
        cfg.default_service(web::to(middleware::no_route));
    }
}

/// The app of one worker: the routes under the request-id / CORS / error-body middleware.
pub fn app(
    state: ApiState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
        .configure(configure(state))
}
