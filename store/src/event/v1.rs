//! Schema version 1 of the event payload. FROZEN: this enum and every type it holds are encoded
//! positionally by bincode, so a variant or field is never reordered, removed or changed here.
//! New variants go at the end; anything else is a new schema version (see `docs/store.md`).

use crate::model::{
    ActionDoc, ActivationDoc, ActivationId, ApiKeyDoc, ChangedBy, FeedDoc, FullyQualifiedName,
    JsonText, NamespaceDoc, PackageDoc, RuleDoc, RuleStatus, SemVer, TriggerDoc,
};
use serde::{Deserialize, Serialize};

/// An invocation the platform accepted (and must finish with exactly one `ActivationRecorded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationAccepted {
    pub activation_id: ActivationId,
    pub action: FullyQualifiedName,
    pub version: SemVer,
    /// The merged parameters, a JSON object.
    pub params: JsonText,
    pub blocking: bool,
    pub cause: Option<ActivationId>,
    pub by: ChangedBy,
}

/// Retention attested the end of the previous log generation and dropped old activations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotTaken {
    /// The generation this record starts being part of.
    pub generation: u64,
    /// The last record of the previous generation (its seq and record hash).
    pub previous_head_seq: u64,
    pub previous_head_hash: [u8; 32],
    /// Activations that ended before this time (unix ms) were dropped.
    pub cutoff_ms: u64,
    pub dropped_activations: u64,
    pub dropped_invocations: u64,
    /// Records copied into the new generation (this one excluded).
    pub kept_records: u64,
}

/// Every change of state in Whirl, as persisted (schema version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    NamespaceCreated {
        namespace: NamespaceDoc,
        by: ChangedBy,
    },
    ApiKeyIssued {
        key: ApiKeyDoc,
        by: ChangedBy,
    },
    ApiKeyRevoked {
        namespace: String,
        uuid: uuid::Uuid,
        by: ChangedBy,
    },
    ActionPut {
        action: ActionDoc,
        by: ChangedBy,
    },
    ActionDeleted {
        action: FullyQualifiedName,
        by: ChangedBy,
    },
    PackagePut {
        package: PackageDoc,
        by: ChangedBy,
    },
    PackageDeleted {
        namespace: String,
        name: String,
        by: ChangedBy,
    },
    TriggerPut {
        trigger: TriggerDoc,
        by: ChangedBy,
    },
    TriggerDeleted {
        namespace: String,
        name: String,
        by: ChangedBy,
    },
    RulePut {
        rule: RuleDoc,
        by: ChangedBy,
    },
    RuleStatusChanged {
        namespace: String,
        name: String,
        status: RuleStatus,
        by: ChangedBy,
    },
    RuleDeleted {
        namespace: String,
        name: String,
        by: ChangedBy,
    },
    FeedCreated {
        feed: FeedDoc,
        by: ChangedBy,
    },
    /// The feed has fired every occurrence up to this time (unix ms): resume after it.
    FeedFired {
        namespace: String,
        name: String,
        fired_up_to_ms: u64,
        by: ChangedBy,
    },
    FeedDeleted {
        namespace: String,
        name: String,
        by: ChangedBy,
    },
    InvocationAccepted(InvocationAccepted),
    ActivationRecorded(ActivationDoc),
    SnapshotTaken(SnapshotTaken),
}
