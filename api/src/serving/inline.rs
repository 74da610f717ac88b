//! The API served on the platform thread (`--http-workers 0`, the default): an accept loop and
//! one task per connection, on the thread that also runs the controller, the invoker and the
//! launchers' pipes. A blocking invocation then crosses threads only to reach the event log:
//! with actix-web's worker threads, its request, its dispatch and its answer each woke another
//! thread (docs/benchmarks.md, "One thread for HTTP and the platform").
//!
//! What actix-web's `HttpServer` does for its workers is done here for the one loop: the same
//! HTTP/1.1 service and timeouts, a listen backlog of 1024, at most [`MAX_CONNECTIONS`] open
//! connections, a graceful stop (no new connections; idle keep-alive connections close; the
//! rest get [`SHUTDOWN_TIMEOUT`] to finish) and, when asked, SIGTERM (graceful) and SIGINT /
//! SIGQUIT (at once).

use crate::state::ApiState;
use actix_http::{HttpService, KeepAlive};
use actix_service::{map_config, Service, ServiceFactory};
use actix_web::dev::AppConfig;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

/// Connections served at once (actix-web's default per worker); more wait in the backlog.
pub(crate) const MAX_CONNECTIONS: usize = 25_000;
/// How long a graceful stop waits for the connections still serving a request.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Pending connections the kernel queues for the accept loop.
const BACKLOG: u32 = 1024;
/// After an accept error (out of file descriptors, say), the loop waits this long.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Stops an inline server (`Send`: usable from any thread).
#[derive(Debug, Clone)]
pub struct InlineHandle {
    stops: mpsc::UnboundedSender<Stop>,
}

#[derive(Debug)]
struct Stop {
    graceful: bool,
    done: oneshot::Sender<()>,
}

impl InlineHandle {
    /// Stops accepting, then ends the connections: gracefully (idle ones close, busy ones get
    /// [`SHUTDOWN_TIMEOUT`]) or at once. Returns when the server has stopped.
    pub async fn stop(&self, graceful: bool) {
        let (done, stopped) = oneshot::channel();
        if self.stops.send(Stop { graceful, done }).is_ok() {
            let _ = stopped.await;
        }
    }
}

/// Binds `address` with the server's backlog (and `SO_REUSEADDR`, as actix-web does).
pub(crate) fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Serves the API on `listener` from the current thread (an actix system's); `signals`: stop on
/// SIGTERM, SIGINT, SIGQUIT.
pub(crate) fn start(
    listener: TcpListener,
    state: ApiState,
    signals: bool,
) -> io::Result<(InlineHandle, actix_rt::task::JoinHandle<io::Result<()>>)> {
    let local = listener.local_addr()?;
    let (stops, requests) = mpsc::unbounded_channel();
    let handle = InlineHandle { stops };
    if signals {
        watch_signals(handle.clone())?;
    }
    let served = actix_rt::spawn(serve(listener, local, state, requests));
    Ok((handle, served))
}

async fn serve(
    listener: TcpListener,
    local: SocketAddr,
    state: ApiState,
    mut stops: mpsc::UnboundedReceiver<Stop>,
) -> io::Result<()> {
    let (closing, closing_signal) = watch::channel(false);
    let app = crate::app(state);
    let factory = HttpService::build()
        .keep_alive(KeepAlive::default())
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .local_addr(local)
        .graceful_shutdown_signal(move || {
            let mut closing = closing_signal.clone();
            async move {
                let _ = closing.wait_for(|closing| *closing).await;
            }
        })
        // The routes read neither the host name nor the local address from the app config.
        .finish(map_config(app, |_| AppConfig::default()))
        .tcp();
    let service = Rc::new(
        factory
            .new_service(())
            .await
            .map_err(|()| io::Error::other("cannot build the API's HTTP service"))?,
    );
    let mut connections = JoinSet::new();
    // Every handle dropped: the server runs on until the runtime ends (as actix-web's does).
    let mut handles = true;
    let stop = loop {
        tokio::select! {
            stop = stops.recv(), if handles => match stop {
                Some(stop) => break Some(stop),
                None => handles = false,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => match accepted {
                Ok((stream, _)) => {
                    let service = Rc::clone(&service);
                    connections.spawn_local(async move {
                        if let Err(error) = service.call(stream).await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    };
    drop(listener);
    let graceful = stop.as_ref().is_some_and(|stop| stop.graceful);
    tracing::info!(graceful, open = connections.len(), "API server stopping");
    if graceful {
        let _ = closing.send(true);
        let drained = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, drained)
            .await
            .is_err()
        {
            tracing::warn!(
                open = connections.len(),
                "connections still open after the shutdown timeout; closing them"
            );
        }
    }
    connections.shutdown().await;
    if let Some(stop) = stop {
        let _ = stop.done.send(());
    }
    Ok(())
}

/// SIGTERM stops the server gracefully, SIGINT and SIGQUIT at once (as actix-web's server does).
fn watch_signals(handle: InlineHandle) -> io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    actix_rt::spawn(async move {
        let graceful = tokio::select! {
            _ = terminate.recv() => true,
            _ = interrupt.recv() => false,
            _ = quit.recv() => false,
        };
        tracing::info!(graceful, "signal received; stopping");
        handle.stop(graceful).await;
    });
    Ok(())
}
