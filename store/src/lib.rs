//! Whirl's store: the event model, the hash-chained event log on sled with group commit,
//! projections (read models) kept in step with the log, retention, and audit functions.
//!
//! No async runtime and no HTTP here; appends can still be awaited from tokio or actix because an
//! [`AppendTicket`](log::AppendTicket) is a future.
//!
//! The pieces: [`Event`] and the model documents ([`ActionDoc`], [`ActivationDoc`], ...); the
//! [`EventLog`] trait with [`SledEventLog`] (durable) and [`InMemoryEventLog`] (simulation);
//! [`Projections`] (queries, [`Projections::wait_applied`]); [`Store`] (a data directory: log,
//! projections, [`Store::retain`], [`Store::append_and_project`]); [`audit`] (verify, replay,
//! history, export, stats). The formats and guarantees are described in `docs/store.md`.
//!
//! ```
//! use std::time::Duration;
//! use store::{ChangedBy, Event, EventLog, NamespaceDoc, NamespaceLimits, Store, StoreOptions};
//!
//! # fn main() -> store::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| store::Error::InvalidArgument { what: "tempdir".into(), reason: e.to_string() })?;
//! let store = Store::open(dir.path(), StoreOptions::default())?;
//! let namespace = NamespaceDoc { name: "guest".into(), limits: NamespaceLimits::default(), created_ms: 0 };
//! // Durable once this returns (group commit), and readable from the projections.
//! store.append_and_project_blocking(vec![Event::NamespaceCreated { namespace, by: ChangedBy::Admin }], Duration::from_secs(5))?;
//! assert!(store.projections().namespace("guest")?.is_some());
//!
//! // From async code: `store.log().append(events).await` or `store.append_and_project(events).await`.
//! let head = store.log().head().map(|receipt| receipt.seq);
//! assert_eq!(head, Some(1));
//! # Ok(())
//! # }
//! ```

pub mod audit;
pub mod data_dir;
pub mod envelope;
mod error;
pub mod event;
pub mod latency;
pub mod log;
pub mod model;
pub mod projection;
pub mod time_format;

pub use data_dir::{log_dir, projections_dir, Store, StoreOptions};
pub use error::{Error, Result};
pub use event::{Event, InvocationAccepted, SnapshotTaken};
pub use latency::{HistogramSnapshot, LatencyHistogram};
pub use log::{
    AppendTicket, Clock, CommitMode, Committed, CommittedEvent, CommittedRecords, EventLog,
    InMemoryEventLog, LogOptions, LogWriterCounts, LogWriterStats, OnDurable, RawLog, Receipt,
    RetentionReport, SledEventLog, Subscription, SystemClock,
};
pub use model::*;
pub use projection::{ActivationQuery, EntityDoc, FeedState, ProjectionOptions, Projections};
