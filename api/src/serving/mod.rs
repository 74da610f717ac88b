//! Serving the API over HTTP: on the platform thread itself ([`inline`], `--http-workers 0`,
//! the default) or on actix-web's worker threads (`--http-workers N`), and the handle that
//! stops either.

mod inline;

pub use inline::InlineHandle;

use crate::state::ApiState;
use actix_web::HttpServer;
use std::io;
use std::net::SocketAddr;

/// How the API is served.
#[derive(Debug, Clone, Copy)]
pub struct ServingOptions {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// actix-web worker threads; 0: serve on the platform thread.
    pub http_workers: usize,
    /// Stop on SIGTERM (gracefully), SIGINT and SIGQUIT.
    pub signals: bool,
}

/// Stops the HTTP server, whichever way it serves.
#[derive(Debug, Clone)]
pub enum ServerHandle {
    Inline(InlineHandle),
    Workers(actix_web::dev::ServerHandle),
}

impl ServerHandle {
    /// Stops accepting connections and ends the open ones: `graceful` lets requests in flight
    /// finish (up to 30 s). Returns once the server has stopped.
    pub async fn stop(&self, graceful: bool) {
        match self {
            ServerHandle::Inline(handle) => handle.stop(graceful).await,
            ServerHandle::Workers(handle) => handle.stop(graceful).await,
        }
    }
}

/// A started HTTP server: where it listens, its handle, and the task that ends when it stops.
pub(crate) struct Serving {
    pub address: SocketAddr,
    pub handle: ServerHandle,
    pub served: actix_rt::task::JoinHandle<io::Result<()>>,
}

/// Starts serving `state`'s API (from an actix system's thread).
pub(crate) fn start(state: ApiState, options: ServingOptions) -> io::Result<Serving> {
    if options.http_workers == 0 {
        let listener = inline::bind(options.listen)?;
        let address = listener.local_addr()?;
        let (handle, served) = inline::start(listener, state, options.signals)?;
        return Ok(Serving {
            address,
            handle: ServerHandle::Inline(handle),
            served,
        });
    }
    let mut server = HttpServer::new(move || crate::app(state.clone()))
        .workers(options.http_workers)
        .backlog(1024);
    if !options.signals {
        server = server.disable_signals();
    }
    let server = server.bind(options.listen)?;
    let address = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| io::Error::other("no address bound"))?;
    let server = server.run();
    let handle = ServerHandle::Workers(server.handle());
    Ok(Serving {
        address,
        handle,
        served: actix_rt::spawn(server),
    })
}
