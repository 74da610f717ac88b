//! Whirl's store: the event model, the hash-chained event log on sled with group commit,
//! projections (read models) kept in step with the log, retention, and audit functions.
//!
//! No async runtime and no HTTP here; appends can still be awaited from tokio or actix because an
//! [`AppendTicket`](log::AppendTicket) is a future.
//!
//! ```
//! use store::{ChangedBy, Event, EventLog, NamespaceDoc, NamespaceLimits, Store, StoreOptions};
//!
//! # fn main() -> store::Result<()> {
//! let dir = tempfile::tempdir().map_err(|e| store::Error::InvalidArgument { what: "tempdir".into(), reason: e.to_string() })?;
//! let store = Store::open(dir.path(), StoreOptions::default())?;
//! let namespace = NamespaceDoc { name: "guest".into(), limits: NamespaceLimits::default(), created_ms: 0 };
//! let receipts = store.log().append_blocking(vec![Event::NamespaceCreated { namespace, by: ChangedBy::Admin }])?;
//! store.projections().wait_applied(receipts[0].seq, std::time::Duration::from_secs(5))?;
//! assert!(store.projections().namespace("guest")?.is_some());
//! # Ok(())
//! # }
//! ```

pub mod audit;
pub mod data_dir;
pub mod envelope;
mod error;
pub mod event;
pub mod log;
pub mod model;
pub mod projection;
pub mod time_format;

pub use data_dir::{log_dir, projections_dir, Store, StoreOptions};
pub use error::{Error, Result};
pub use event::{Event, InvocationAccepted, SnapshotTaken};
pub use log::{
    AppendTicket, Clock, CommitMode, Committed, EventLog, InMemoryEventLog, LogOptions, RawLog,
    Receipt, RetentionReport, SledEventLog, Subscription, SystemClock,
};
pub use model::*;
pub use projection::ProjectionOptions;
pub use projection::{ActivationQuery, EntityDoc, Projections};
