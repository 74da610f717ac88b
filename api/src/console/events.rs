//! `GET /console/api/events`: a server-sent event stream of the signed-in namespace, fed by a
//! subscription to the event log (like the API's log follower and the NATS activation
//! publisher). It sends
//!
//! - `event: ready` once, with the namespace and the seq the stream starts after;
//! - `event: activation` for every activation record of the namespace once it is durable (the
//!   list summary of `GET /activations`: name, id, start, end, duration, statusCode,
//!   annotations, cause);
//! - `event: entity` for every change of one of the namespace's entities (`{kind, name, event}`),
//!   so the console refreshes its lists;
//! - a comment every 15 s to keep the connection open.
//!
//! Every event carries the record's seq as its `id`; `?from=SEQ` resumes after a reconnect.
//! A stream ends when the process receives SIGTERM, so an open console never holds up the
//! server's graceful shutdown (which waits for open responses).
//! Nothing of another namespace is ever written to the stream. The key goes in the
//! `Authorization` header (the console reads the stream with `fetch`, not `EventSource`, so the
//! key never appears in a URL).

use super::{answer, caller};
use crate::error::Result;
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::ActivationSummary;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use store::{Committed, Event, EventLog, Subscription};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// How often an idle stream sends a comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Records read from the log per batch.
const BATCH: usize = 512;

/// `GET /console/api/events[?from=SEQ]`.
pub async fn stream(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let result = open(&request, &state);
    answer(&request, result)
}

fn open(request: &HttpRequest, state: &ApiState) -> Result<HttpResponse> {
    let caller = caller(state, request)?;
    let query = Query::of(request)?;
    let head = state.store.head_seq();
    let from = query.number("from")?.unwrap_or(head + 1).max(1);
    let namespace = caller.namespace.to_string();
    let ready = serde_json::json!({"namespace": namespace, "after": from - 1});
    let mut pending = VecDeque::new();
    pending.push_back(frame(from - 1, "ready", &ready.to_string()));
    tracing::debug!(namespace = %namespace, from, "console event stream opened");
    let feed = NamespaceFeed {
        subscription: state.store.log().subscribe(from),
        namespace,
        pending,
        ended: false,
        terminate: terminate_signal(),
    };
    let body = futures::stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), feed))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// One client's view of the log: the records of its namespace, as SSE frames.
struct NamespaceFeed {
    subscription: Subscription,
    namespace: String,
    pending: VecDeque<Bytes>,
    ended: bool,
    /// SIGTERM: the server is shutting down gracefully; the stream ends.
    terminate: Option<Signal>,
}

/// A receiver of SIGTERM (actix-server listens to it the same way for its graceful shutdown).
fn terminate_signal() -> Option<Signal> {
    match signal(SignalKind::terminate()) {
        Ok(terminate) => Some(terminate),
        Err(error) => {
            tracing::warn!(%error, "console event stream: cannot listen for SIGTERM");
            None
        }
    }
}

/// Resolves when SIGTERM arrives (never without a receiver).
async fn terminated(terminate: &mut Option<Signal>) {
    match terminate {
        Some(terminate) => {
            terminate.recv().await;
        }
        None => std::future::pending().await,
    }
}

impl NamespaceFeed {
    /// The next bytes to send; `None` ends the stream (the log closed or failed).
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some(chunk);
            }
            if self.ended {
                return None;
            }
            let next = tokio::select! {
                next = tokio::time::timeout(KEEP_ALIVE, self.subscription.next_batch_async(BATCH)) => next,
                () = terminated(&mut self.terminate) => return None,
            };
            match next {
                Err(_) => return Some(Bytes::from_static(b": keep-alive\n\n")),
                Ok(Ok(batch)) if batch.is_empty() => return None,
                Ok(Ok(batch)) => {
                    for record in &batch {
                        if let Some(chunk) = frame_of(record, &self.namespace) {
                            self.pending.push_back(chunk);
                        }
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, namespace = %self.namespace, "console event stream stopped");
                    let data = serde_json::json!({"error": error.to_string()}).to_string();
                    self.pending
                        .push_back(frame(self.subscription.next_seq(), "error", &data));
                    self.ended = true;
                }
            }
        }
    }
}

/// The frame of `record` for a client of `namespace`, if the record concerns it.
pub fn frame_of(record: &Committed, namespace: &str) -> Option<Bytes> {
    match &record.event {
        Event::ActivationRecorded(doc) if doc.namespace == namespace => {
            let data = serde_json::to_string(&ActivationSummary::from_doc(doc)).ok()?;
            Some(frame(record.seq, "activation", &data))
        }
        // Keys are left out: the console does not manage them.
        Event::ApiKeyIssued { .. } | Event::ApiKeyRevoked { .. } => None,
        event => {
            let entity = event.entity()?;
            if entity.namespace != namespace {
                return None;
            }
            let data = serde_json::json!({
                "kind": entity.kind.as_str(),
                "name": entity.name,
                "event": event.name(),
            });
            Some(frame(record.seq, "entity", &data.to_string()))
        }
    }
}

/// One SSE frame (`data` is one line of JSON).
fn frame(seq: u64, event: &str, data: &str) -> Bytes {
    Bytes::from(format!("id: {seq}\nevent: {event}\ndata: {data}\n\n"))
}
