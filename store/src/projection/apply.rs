//! How each event changes the projection rows. The same function feeds the live projections and
//! a replay from zero, which is what makes "replay equals live" meaningful.

use super::entity_doc::{EntityDoc, FeedState};
use super::keys::{self, TreeId};
use super::rows::RowStore;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{ActivationDoc, EntityKind};
use serde::Serialize;

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
pub(crate) fn apply(rows: &mut impl RowStore, time_ms: u64, event: &Event) -> Result<()> {
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
            let id = doc.activation_id;
            rows.put(
                TreeId::Activations,
                keys::activation_by_id(&id),
                encode("an activation row", doc)?,
            );
            rows.put(
                TreeId::Activations,
                keys::activation_by_time(&doc.namespace, doc.start_ms, &id),
                doc.name.as_bytes().to_vec(),
            );
            rows.remove(TreeId::Activations, keys::pending_invocation(&id));
        }
        Event::SnapshotTaken(snapshot) => prune_activations(rows, snapshot.cutoff_ms)?,
    }
    Ok(())
}

/// Removes the activations that ended before `cutoff_ms`, as retention dropped them from the log.
fn prune_activations(rows: &mut impl RowStore, cutoff_ms: u64) -> Result<()> {
    let mut pruned = 0u64;
    for (key, value) in rows.scan_prefix(TreeId::Activations, &[keys::ACTIVATION_BY_ID])? {
        let Ok(doc) = bincode::deserialize::<ActivationDoc>(&value) else {
            return Err(Error::CorruptRow {
                tree: TreeId::Activations.name(),
                key: keys::printable(&key),
                reason: "does not decode as an activation".into(),
            });
        };
        if doc.end_ms < cutoff_ms {
            rows.remove(TreeId::Activations, key);
            rows.remove(
                TreeId::Activations,
                keys::activation_by_time(&doc.namespace, doc.start_ms, &doc.activation_id),
            );
            pruned += 1;
        }
    }
    tracing::debug!(cutoff_ms, pruned, "pruned activations after a snapshot");
    Ok(())
}
