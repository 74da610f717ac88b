//! The persisted documents every Whirl crate uses: namespaces and keys, actions, packages, triggers,
//! rules, feeds and activations.
//!
//! These types are encoded with bincode inside events, which is positional: never reorder or remove
//! fields or enum variants; see `docs/store.md` ("Evolving the schema").

mod action;
mod activation;
mod changed_by;
mod entity;
mod feed;
mod ids;
mod json_text;
mod namespace;
mod package;
mod trigger;

pub use action::{ActionDoc, ActionLimits, Exec};
pub use activation::{ActivationDoc, ActivationStatus};
pub use changed_by::ChangedBy;
pub use entity::{EntityKind, EntityRef};
pub use feed::{AlarmSchedule, FeedDoc, FeedSource};
pub use ids::{ActivationId, FullyQualifiedName, ParseIdError, SemVer};
pub use json_text::{push_json_string, JsonText};
pub use namespace::{ApiKeyDoc, KeyHash, NamespaceDoc, NamespaceLimits};
pub use package::{PackageBinding, PackageDoc};
pub use trigger::{RuleDoc, RuleStatus, TriggerDoc};
