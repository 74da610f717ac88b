//! How each event changes the projection rows. The same function feeds the live projections and
//! a replay from zero, which is what makes "replay equals live" meaningful. Activations are
//! indexed (by id, by namespace and start time) with the seq of their record: the documents
//! stay in the log, which already holds them.

use super::entity_doc::{EntityDoc, FeedState};
use super::keys::{self, TreeId};
use super::rows::RowStore;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::EntityKind;
use serde::Serialize;
use std::collections::HashSet;

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>> {
    bincode::serialize(value).map_err(|source| Error::Encode {
        what: what.to_owned(),
        source,
    })
}

fn put_entity(
    rows: &mut impl RowStore,
    namespace: &str,
    name: &str,
    doc: &EntityDoc,
) -> Result<()> {
    let key = keys::entity(namespace, doc.kind(), name);
    rows.put(TreeId::Entities, key, encode("an entity row", doc)?);
    Ok(())
}

fn get_entity(rows: &impl RowStore, key: &[u8]) -> Result<Option<EntityDoc>> {
    match rows.get(TreeId::Entities, key)? {
        Some(bytes) => bincode::deserialize(&bytes)
            .map(Some)
            .map_err(|error| Error::CorruptRow {
                tree: TreeId::Entities.name(),
                key: keys::printable(key),
                reason: format!("does not decode as an entity: {error}"),
            }),
        None => Ok(None),
    }
}

/// Applies one committed event (`seq`, `time_ms`) to the rows.
pub(crate) fn apply(rows: &mut impl RowStore, seq: u64, time_ms: u64, event: &Event) -> Result<()> {
    match event {
        Event::NamespaceCreated { namespace, .. } => put_entity(
            rows,
            &namespace.name,
            &namespace.name,
            &EntityDoc::Namespace(namespace.clone()),
        )?,
        Event::ApiKeyIssued { key, .. } => {
            rows.put(
                TreeId::ApiKeys,
                keys::api_key(&key.uuid),
                encode("an api key row", key)?,
            );
        }
        Event::ApiKeyRevoked { uuid, .. } => rows.remove(TreeId::ApiKeys, keys::api_key(uuid)),
        Event::ActionPut { action, .. } => put_entity(
            rows,
            &action.namespace,
            &action.name_in_namespace(),
            &EntityDoc::Action(action.clone()),
        )?,
        Event::ActionDeleted { action, .. } => rows.remove(
            TreeId::Entities,
            keys::entity(
                &action.namespace,
                EntityKind::Action,
                &action.name_in_namespace(),
            ),
        ),
        Event::PackagePut { package, .. } => put_entity(
            rows,
            &package.namespace,
            &package.name,
            &EntityDoc::Package(package.clone()),
        )?,
        Event::PackageDeleted {
            namespace, name, ..
        } => rows.remove(
            TreeId::Entities,
            keys::entity(namespace, EntityKind::Package, name),
        ),
        Event::TriggerPut { trigger, .. } => put_entity(
            rows,
            &trigger.namespace,
            &trigger.name,
            &EntityDoc::Trigger(trigger.clone()),
        )?,
        Event::TriggerDeleted {
            namespace, name, ..
        } => rows.remove(
            TreeId::Entities,
            keys::entity(namespace, EntityKind::Trigger, name),
        ),
        Event::RulePut { rule, .. } => put_entity(
            rows,
            &rule.namespace,
            &rule.name,
            &EntityDoc::Rule(rule.clone()),
        )?,
        Event::RuleStatusChanged {
            namespace,
            name,
            status,
            ..
        } => {
            let key = keys::entity(namespace, EntityKind::Rule, name);
            match get_entity(rows, &key)? {
                Some(EntityDoc::Rule(mut rule)) => {
                    rule.status = *status;
                    rule.updated_ms = time_ms;
                    put_entity(rows, namespace, name, &EntityDoc::Rule(rule))?;
                }
                _ => {
                    tracing::warn!(%namespace, rule = %name, "status change of a rule that does not exist: ignored")
                }
            }
        }
        Event::RuleDeleted {
            namespace, name, ..
        } => rows.remove(
            TreeId::Entities,
            keys::entity(namespace, EntityKind::Rule, name),
        ),
        Event::FeedCreated { feed, .. } => put_entity(
            rows,
            &feed.namespace,
            &feed.name,
            &EntityDoc::Feed(FeedState {
                feed: feed.clone(),
                fired_up_to_ms: None,
            }),
        )?,
        Event::FeedFired {
            namespace,
            name,
            fired_up_to_ms,
            ..
        } => {
            let key = keys::entity(namespace, EntityKind::Feed, name);
            match get_entity(rows, &key)? {
                Some(EntityDoc::Feed(mut state)) => {
                    state.fired_up_to_ms =
                        Some(state.fired_up_to_ms.unwrap_or(0).max(*fired_up_to_ms));
                    put_entity(rows, namespace, name, &EntityDoc::Feed(state))?;
                }
                _ => {
                    tracing::warn!(%namespace, feed = %name, "progress of a feed that does not exist: ignored")
                }
            }
        }
        Event::FeedDeleted {
            namespace, name, ..
        } => rows.remove(
            TreeId::Entities,
            keys::entity(namespace, EntityKind::Feed, name),
        ),
        Event::InvocationAccepted(accepted) => rows.put(
            TreeId::Activations,
            keys::pending_invocation(&accepted.activation_id),
            encode("a pending invocation row", accepted)?,
        ),
        Event::ActivationRecorded(doc) => {
            // Index rows only: the document itself is read from the log at `seq`.
            let id = doc.activation_id;
            rows.put(
                TreeId::Activations,
                keys::activation_by_id(&id),
                keys::activation_by_id_value(seq),
            );
            rows.put(
                TreeId::Activations,
                keys::activation_by_time(&doc.namespace, doc.start_ms, seq),
                keys::activation_by_time_value(doc.start_ms, doc.end_ms, &doc.name),
            );
            rows.remove(TreeId::Activations, keys::pending_invocation(&id));
        }
        Event::SnapshotTaken(snapshot) => prune_activations(rows, snapshot.cutoff_ms)?,
    }
    Ok(())
}

/// Removes the activations that ended before `cutoff_ms`, as retention dropped their records
/// from the log: their by-time rows, and the by-id rows that point at those records.
fn prune_activations(rows: &mut impl RowStore, cutoff_ms: u64) -> Result<()> {
    let malformed = |key: &[u8], what: &str| Error::CorruptRow {
        tree: TreeId::Activations.name(),
        key: keys::printable(key),
        reason: format!("malformed activation {what} row"),
    };
    let mut dropped: HashSet<u64> = HashSet::new();
    for (key, value) in rows.scan_prefix(TreeId::Activations, &[keys::ACTIVATION_BY_TIME])? {
        let row =
            keys::decode_activation_by_time(&key, &value).ok_or_else(|| malformed(&key, "time"))?;
        if row.end_ms < cutoff_ms {
            dropped.insert(row.seq);
            rows.remove(TreeId::Activations, key);
        }
    }
    if !dropped.is_empty() {
        for (key, value) in rows.scan_prefix(TreeId::Activations, &[keys::ACTIVATION_BY_ID])? {
            let seq =
                keys::decode_activation_by_id_value(&value).ok_or_else(|| malformed(&key, "id"))?;
            if dropped.contains(&seq) {
                rows.remove(TreeId::Activations, key);
            }
        }
    }
    tracing::debug!(
        cutoff_ms,
        pruned = dropped.len(),
        "pruned activations after a snapshot"
    );
    Ok(())
}
