//! Row keys of the projection trees. Every tree holds its checkpoint under [`CHECKPOINT_KEY`] and
//! its rows under keys that start with another byte, so both live in one atomic batch.

use crate::model::{ActivationId, EntityKind};

/// The three projection trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeId {
    /// Entities by (namespace, kind, name).
    Entities = 0,
    /// Activations by id, by (namespace, start, id), and accepted invocations without a record.
    Activations = 1,
    /// API keys by uuid.
    ApiKeys = 2,
}

impl TreeId {
    pub const ALL: [TreeId; 3] = [TreeId::Entities, TreeId::Activations, TreeId::ApiKeys];

    /// The sled tree name.
    pub fn name(self) -> &'static str {
        match self {
            TreeId::Entities => "entities",
            TreeId::Activations => "activations",
            TreeId::ApiKeys => "api_keys",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Where each tree keeps its checkpoint (projection format + last applied seq).
pub const CHECKPOINT_KEY: &[u8] = &[0x00];

const ENTITY_ROW: u8 = 0x01;
const API_KEY_ROW: u8 = 0x01;
pub(crate) const ACTIVATION_BY_ID: u8 = b'i';
const ACTIVATION_BY_TIME: u8 = b't';
pub(crate) const PENDING_INVOCATION: u8 = b'p';

/// `0x01 namespace 0x00 kind-tag name`.
pub(crate) fn entity(namespace: &str, kind: EntityKind, name: &str) -> Vec<u8> {
    let mut key = entity_kind_prefix(namespace, kind);
    key.extend_from_slice(name.as_bytes());
    key
}

/// The prefix of every entity of one kind in one namespace.
pub(crate) fn entity_kind_prefix(namespace: &str, kind: EntityKind) -> Vec<u8> {
    let mut key = Vec::with_capacity(namespace.len() + 24);
    key.push(ENTITY_ROW);
    key.extend_from_slice(namespace.as_bytes());
    key.push(0);
    key.push(kind.tag());
    key
}

/// The prefix of every entity row.
pub(crate) fn all_entities_prefix() -> Vec<u8> {
    vec![ENTITY_ROW]
}

pub(crate) fn activation_by_id(id: &ActivationId) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(ACTIVATION_BY_ID);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `t namespace 0x00 start(be u64) id`.
pub(crate) fn activation_by_time(namespace: &str, start_ms: u64, id: &ActivationId) -> Vec<u8> {
    let mut key = activation_namespace_prefix(namespace);
    key.extend_from_slice(&start_ms.to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub(crate) fn activation_namespace_prefix(namespace: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(namespace.len() + 26);
    key.push(ACTIVATION_BY_TIME);
    key.extend_from_slice(namespace.as_bytes());
    key.push(0);
    key
}

/// Splits a by-time key after its namespace prefix into (start, id).
pub(crate) fn split_activation_time_suffix(suffix: &[u8]) -> Option<(u64, ActivationId)> {
    if suffix.len() != 24 {
        return None;
    }
    let mut start = [0u8; 8];
    start.copy_from_slice(&suffix[..8]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&suffix[8..]);
    Some((u64::from_be_bytes(start), ActivationId(id)))
}

pub(crate) fn pending_invocation(id: &ActivationId) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(PENDING_INVOCATION);
    key.extend_from_slice(id.as_bytes());
    key
}

pub(crate) fn api_key(uuid: &uuid::Uuid) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(API_KEY_ROW);
    key.extend_from_slice(uuid.as_bytes());
    key
}

/// A printable form of a key for error messages.
pub(crate) fn printable(key: &[u8]) -> String {
    key.iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}
