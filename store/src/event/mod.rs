//! The event model: the `Event` enum (the payload of a log record), what each event is about, and
//! the encoding of payloads per schema version.
//!
//! `v1` is the current and only schema version. Decoding goes through [`decode_payload`], the single
//! place where an older version would be upcast to the current `Event`.

pub mod v1;
mod variant_names;

pub use v1::{Event, InvocationAccepted, SnapshotTaken};

use crate::model::{ChangedBy, EntityKind, EntityRef};

/// The schema version this build writes.
pub const CURRENT_SCHEMA_VERSION: u16 = 1;

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("schema version {version} is unknown (this Whirl reads versions 1 to {CURRENT_SCHEMA_VERSION})")]
    UnknownVersion { version: u16 },
    #[error("payload does not decode as a schema-{version} event: {source}")]
    Undecodable {
        version: u16,
        #[source]
        source: bincode::Error,
    },
    #[error("payload has {extra} trailing bytes after the event")]
    TrailingBytes { extra: usize },
}

/// Encodes `event` as a payload of [`CURRENT_SCHEMA_VERSION`].
pub fn encode_payload(event: &Event) -> Result<Vec<u8>, bincode::Error> {
    bincode::serialize(event)
}

/// Decodes a payload of schema `version` into the current `Event`, upcasting older versions.
pub fn decode_payload(version: u16, payload: &[u8]) -> Result<Event, PayloadError> {
    match version {
        1 => {
            let mut reader = payload;
            let event: Event = bincode::deserialize_from(&mut reader)
                .map_err(|source| PayloadError::Undecodable { version, source })?;
            if !reader.is_empty() {
                return Err(PayloadError::TrailingBytes {
                    extra: reader.len(),
                });
            }
            Ok(event)
        }
        version => Err(PayloadError::UnknownVersion { version }),
    }
}

/// Whether a payload of schema `version` holds an activation's event ([`Event::is_activation`]),
/// read from its variant tag alone (bincode writes a variant's index as a little-endian u32
/// first); `None` when the tag cannot tell (another schema version, a payload too short).
pub fn payload_is_activation(version: u16, payload: &[u8]) -> Option<bool> {
    if version != CURRENT_SCHEMA_VERSION {
        return None;
    }
    let tag = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?);
    Some(activation_tags().contains(&tag))
}

/// The variant indexes of `InvocationAccepted` and `ActivationRecorded` in the current schema.
fn activation_tags() -> &'static [u32; 2] {
    static TAGS: std::sync::OnceLock<[u32; 2]> = std::sync::OnceLock::new();
    TAGS.get_or_init(|| {
        let index = |name: &str| {
            Event::variant_names()
                .iter()
                .position(|known| *known == name)
                .and_then(|at| u32::try_from(at).ok())
                .unwrap_or(u32::MAX)
        };
        [index("InvocationAccepted"), index("ActivationRecorded")]
    })
}

impl Event {
    /// The names of every variant of the current schema, in encoding order.
    pub fn variant_names() -> &'static [&'static str] {
        variant_names::of::<Event>()
    }

    /// Whether the event is part of an activation's life (`InvocationAccepted`,
    /// `ActivationRecorded`): the bulk of a busy log, which readers of entities skip.
    pub fn is_activation(&self) -> bool {
        matches!(
            self,
            Event::InvocationAccepted(_) | Event::ActivationRecorded(_)
        )
    }

    /// The variant's name, e.g. `ActionPut`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::NamespaceCreated { .. } => "NamespaceCreated",
            Event::ApiKeyIssued { .. } => "ApiKeyIssued",
            Event::ApiKeyRevoked { .. } => "ApiKeyRevoked",
            Event::ActionPut { .. } => "ActionPut",
            Event::ActionDeleted { .. } => "ActionDeleted",
            Event::PackagePut { .. } => "PackagePut",
            Event::PackageDeleted { .. } => "PackageDeleted",
            Event::TriggerPut { .. } => "TriggerPut",
            Event::TriggerDeleted { .. } => "TriggerDeleted",
            Event::RulePut { .. } => "RulePut",
            Event::RuleStatusChanged { .. } => "RuleStatusChanged",
            Event::RuleDeleted { .. } => "RuleDeleted",
            Event::FeedCreated { .. } => "FeedCreated",
            Event::FeedFired { .. } => "FeedFired",
            Event::FeedDeleted { .. } => "FeedDeleted",
            Event::InvocationAccepted(_) => "InvocationAccepted",
            Event::ActivationRecorded(_) => "ActivationRecorded",
            Event::SnapshotTaken(_) => "SnapshotTaken",
        }
    }

    /// Who caused the event; activation records and snapshots are the system's.
    pub fn changed_by(&self) -> ChangedBy {
        match self {
            Event::NamespaceCreated { by, .. }
            | Event::ApiKeyIssued { by, .. }
            | Event::ApiKeyRevoked { by, .. }
            | Event::ActionPut { by, .. }
            | Event::ActionDeleted { by, .. }
            | Event::PackagePut { by, .. }
            | Event::PackageDeleted { by, .. }
            | Event::TriggerPut { by, .. }
            | Event::TriggerDeleted { by, .. }
            | Event::RulePut { by, .. }
            | Event::RuleStatusChanged { by, .. }
            | Event::RuleDeleted { by, .. }
            | Event::FeedCreated { by, .. }
            | Event::FeedFired { by, .. }
            | Event::FeedDeleted { by, .. } => *by,
            Event::InvocationAccepted(accepted) => accepted.by,
            Event::ActivationRecorded(_) | Event::SnapshotTaken(_) => ChangedBy::System,
        }
    }

    /// The entity this event changes, if it changes one (invocations, activations and snapshots do not).
    pub fn entity(&self) -> Option<EntityRef> {
        let entity = match self {
            Event::NamespaceCreated { namespace, .. } => {
                EntityRef::new(&namespace.name, EntityKind::Namespace, &namespace.name)
            }
            Event::ApiKeyIssued { key, .. } => {
                EntityRef::new(&key.namespace, EntityKind::ApiKey, key.uuid.to_string())
            }
            Event::ApiKeyRevoked {
                namespace, uuid, ..
            } => EntityRef::new(namespace, EntityKind::ApiKey, uuid.to_string()),
            Event::ActionPut { action, .. } => EntityRef::new(
                &action.namespace,
                EntityKind::Action,
                action.name_in_namespace(),
            ),
            Event::ActionDeleted { action, .. } => EntityRef::new(
                &action.namespace,
                EntityKind::Action,
                action.name_in_namespace(),
            ),
            Event::PackagePut { package, .. } => {
                EntityRef::new(&package.namespace, EntityKind::Package, &package.name)
            }
            Event::PackageDeleted {
                namespace, name, ..
            } => EntityRef::new(namespace, EntityKind::Package, name),
            Event::TriggerPut { trigger, .. } => {
                EntityRef::new(&trigger.namespace, EntityKind::Trigger, &trigger.name)
            }
            Event::TriggerDeleted {
                namespace, name, ..
            } => EntityRef::new(namespace, EntityKind::Trigger, name),
            Event::RulePut { rule, .. } => {
                EntityRef::new(&rule.namespace, EntityKind::Rule, &rule.name)
            }
            Event::RuleStatusChanged {
                namespace, name, ..
            }
            | Event::RuleDeleted {
                namespace, name, ..
            } => EntityRef::new(namespace, EntityKind::Rule, name),
            Event::FeedCreated { feed, .. } => {
                EntityRef::new(&feed.namespace, EntityKind::Feed, &feed.name)
            }
            Event::FeedFired {
                namespace, name, ..
            }
            | Event::FeedDeleted {
                namespace, name, ..
            } => EntityRef::new(namespace, EntityKind::Feed, name),
            Event::InvocationAccepted(_)
            | Event::ActivationRecorded(_)
            | Event::SnapshotTaken(_) => return None,
        };
        Some(entity)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn variant_names_come_from_the_enum_in_order() {
        let names = Event::variant_names();
        assert_eq!(names.first(), Some(&"NamespaceCreated"));
        assert_eq!(names.last(), Some(&"SnapshotTaken"));
        assert_eq!(names.len(), 18);
    }

    #[test]
    fn the_variant_tag_tells_an_activation_payload() {
        let feed = encode_payload(&Event::FeedDeleted {
            namespace: "n".into(),
            name: "f".into(),
            by: ChangedBy::Admin,
        })
        .unwrap();
        assert_eq!(payload_is_activation(1, &feed), Some(false));
        let names = Event::variant_names();
        for (at, name) in names.iter().enumerate() {
            let tag = u32::try_from(at).unwrap().to_le_bytes();
            let activation = matches!(*name, "InvocationAccepted" | "ActivationRecorded");
            assert_eq!(payload_is_activation(1, &tag), Some(activation), "{name}");
        }
        assert_eq!(payload_is_activation(2, &feed), None);
        assert_eq!(payload_is_activation(1, &[1, 0]), None);
    }

    #[test]
    fn unknown_versions_and_trailing_bytes_are_errors() {
        let event = Event::FeedDeleted {
            namespace: "n".into(),
            name: "f".into(),
            by: ChangedBy::Admin,
        };
        let mut payload = encode_payload(&event).unwrap();
        assert_eq!(decode_payload(1, &payload).unwrap(), event);
        assert!(matches!(
            decode_payload(2, &payload),
            Err(PayloadError::UnknownVersion { version: 2 })
        ));
        payload.push(0);
        assert!(matches!(
            decode_payload(1, &payload),
            Err(PayloadError::TrailingBytes { extra: 1 })
        ));
        assert!(matches!(
            decode_payload(1, &[200, 0, 0, 0]),
            Err(PayloadError::Undecodable { .. })
        ));
    }
}
