//! `ApiState`: what every handler reaches — the store (projections and log) and the controller.

use actix::Addr;
use actors::controller_actor::ControllerActor;
use store::Store;

/// Shared by every worker of the HTTP server.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub controller: Addr<ControllerActor>,
}
