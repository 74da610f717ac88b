//! Row keys of the projection trees. Every tree holds its checkpoint under [`CHECKPOINT_KEY`] and
//! its rows under keys that start with another byte, so both live in one atomic batch.

use super::varint;
use crate::model::{ActivationId, EntityKind};

/// The three projection trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeId {
    /// Entities by (namespace, kind, name).
    Entities = 0,
    /// Activations by id and by (namespace, start, seq), pointing at their records in the log,
    /// and accepted invocations without a record.
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
pub(crate) const ACTIVATION_BY_TIME: u8 = b't';
pub(crate) const PENDING_INVOCATION: u8 = b'p';

/// The regions stored packed in pages (see `pages`): the two activation indexes, one row per
/// activation each. Every other row is one sled key.
pub(crate) const PAGED_REGIONS: [(TreeId, &[u8]); 2] = [
    (TreeId::Activations, &[ACTIVATION_BY_ID]),
    (TreeId::Activations, &[ACTIVATION_BY_TIME]),
];

/// The paged region `key` of `tree` belongs to, if any.
pub(crate) fn paged_region(tree: TreeId, key: &[u8]) -> Option<&'static [u8]> {
    paged_region_index(tree, key).map(|index| PAGED_REGIONS[index].1)
}

/// The index in [`PAGED_REGIONS`] of the paged region `key` of `tree` belongs to, if any.
pub(crate) fn paged_region_index(tree: TreeId, key: &[u8]) -> Option<usize> {
    PAGED_REGIONS
        .iter()
        .position(|(region_tree, region)| *region_tree == tree && key.starts_with(region))
}

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

/// `t namespace 0x00 start(be u64) seq(be u64)`: one row per activation record, newest last.
pub(crate) fn activation_by_time(namespace: &str, start_ms: u64, seq: u64) -> Vec<u8> {
    let mut key = activation_namespace_prefix(namespace);
    key.extend_from_slice(&start_ms.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

pub(crate) fn activation_namespace_prefix(namespace: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(namespace.len() + 26);
    key.push(ACTIVATION_BY_TIME);
    key.extend_from_slice(namespace.as_bytes());
    key.push(0);
    key
}

/// The value of a by-id row: the seq of the `ActivationRecorded` record in the log (LEB128).
pub(crate) fn activation_by_id_value(seq: u64) -> Vec<u8> {
    let mut value = Vec::with_capacity(4);
    varint::put(&mut value, seq);
    value
}

/// The seq a by-id row points at.
pub(crate) fn decode_activation_by_id_value(value: &[u8]) -> Option<u64> {
    match varint::take(value)? {
        (seq, []) => Some(seq),
        _ => None,
    }
}

/// What a by-time row says: which record (its seq), when the activation started and ended (for
/// retention) and its name (for the name filter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActivationTimeRow<'a> {
    pub(crate) start_ms: u64,
    pub(crate) seq: u64,
    pub(crate) end_ms: u64,
    pub(crate) name: &'a [u8],
}

/// The value of a by-time row: `end - start` (LEB128, wrapping) then the name.
pub(crate) fn activation_by_time_value(start_ms: u64, end_ms: u64, name: &str) -> Vec<u8> {
    let mut value = Vec::with_capacity(2 + name.len());
    varint::put(&mut value, end_ms.wrapping_sub(start_ms));
    value.extend_from_slice(name.as_bytes());
    value
}

/// Reads a by-time row (key and value); `None` if malformed.
pub(crate) fn decode_activation_by_time<'a>(
    key: &[u8],
    value: &'a [u8],
) -> Option<ActivationTimeRow<'a>> {
    let suffix = key.get(key.len().checked_sub(16)?..)?;
    let start_ms = u64::from_be_bytes(suffix[..8].try_into().ok()?);
    let seq = u64::from_be_bytes(suffix[8..].try_into().ok()?);
    let (duration, name) = varint::take(value)?;
    Some(ActivationTimeRow {
        start_ms,
        seq,
        end_ms: start_ms.wrapping_add(duration),
        name,
    })
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
