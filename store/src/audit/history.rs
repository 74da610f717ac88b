//! `history`: every change of one entity, in log order: when, by whom, which event, and which
//! fields changed (a diff of the entity's JSON form before and after).

use super::progress::{self, Progress};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::log::Committed;
use crate::model::{ChangedBy, EntityRef};
use serde_json::Value;

/// One field that changed; `None` means absent (before creation, after deletion).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// Dotted path into the entity's JSON form, e.g. `exec.code` or `limits.timeout_ms`.
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// One change of the entity.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub seq: u64,
    pub time_ms: u64,
    pub by: ChangedBy,
    pub event: &'static str,
    pub changes: Vec<FieldChange>,
}

/// The history of `entity` in `records` (the whole log, from seq 1).
pub fn entity_history(
    records: impl Iterator<Item = Result<Committed>>,
    entity: &EntityRef,
    total: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<HistoryEntry>> {
    let mut state: Option<Value> = None;
    let mut entries = Vec::new();
    for (done, record) in records.enumerate() {
        let record = record?;
        progress::report(progress, "history", done as u64 + 1, total);
        if record.event.entity().as_ref() != Some(entity) {
            continue;
        }
        let after = next_state(state.as_ref(), &record.event)?;
        let mut changes = Vec::new();
        match (&state, &after) {
            // A creation or a deletion is one change of the whole entity, not one per field.
            (None, _) | (_, None) => {
                if state != after {
                    changes.push(FieldChange {
                        path: if state.is_none() {
                            "(created)".into()
                        } else {
                            "(deleted)".into()
                        },
                        before: state.clone(),
                        after: after.clone(),
                    })
                }
            }
            (Some(before), Some(now)) => diff("", Some(before), Some(now), &mut changes),
        }
        entries.push(HistoryEntry {
            seq: record.seq,
            time_ms: record.time_ms,
            by: record.event.changed_by(),
            event: record.event.name(),
            changes,
        });
        state = after;
    }
    Ok(entries)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|error| Error::InvalidArgument {
        what: "entity document".into(),
        reason: format!("cannot be shown as JSON: {error}"),
    })
}

/// The entity's JSON form after `event`.
fn next_state(before: Option<&Value>, event: &Event) -> Result<Option<Value>> {
    let mut patched = before.cloned();
    Ok(match event {
        Event::NamespaceCreated { namespace, .. } => Some(to_json(namespace)?),
        Event::ApiKeyIssued { key, .. } => Some(to_json(key)?),
        Event::ActionPut { action, .. } => Some(to_json(action)?),
        Event::PackagePut { package, .. } => Some(to_json(package)?),
        Event::TriggerPut { trigger, .. } => Some(to_json(trigger)?),
        Event::RulePut { rule, .. } => Some(to_json(rule)?),
        Event::FeedCreated { feed, .. } => Some(to_json(feed)?),
        Event::RuleStatusChanged { status, .. } => {
            if let Some(Value::Object(fields)) = patched.as_mut() {
                fields.insert("status".into(), to_json(status)?);
            }
            patched
        }
        Event::FeedFired { fired_up_to_ms, .. } => {
            if let Some(Value::Object(fields)) = patched.as_mut() {
                fields.insert("fired_up_to_ms".into(), Value::from(*fired_up_to_ms));
            }
            patched
        }
        Event::ApiKeyRevoked { .. }
        | Event::ActionDeleted { .. }
        | Event::PackageDeleted { .. }
        | Event::TriggerDeleted { .. }
        | Event::RuleDeleted { .. }
        | Event::FeedDeleted { .. } => None,
        Event::InvocationAccepted(_) | Event::ActivationRecorded(_) | Event::SnapshotTaken(_) => {
            patched
        }
    })
}

/// Collects the leaf fields that differ between `before` and `after`.
fn diff(path: &str, before: Option<&Value>, after: Option<&Value>, changes: &mut Vec<FieldChange>) {
    match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(&child, old.get(key), new.get(key), changes);
            }
        }
        (Some(Value::Object(old)), None) if !old.is_empty() => {
            for (key, value) in old {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(&child, Some(value), None, changes);
            }
        }
        (None, Some(Value::Object(new))) if !new.is_empty() => {
            for (key, value) in new {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(&child, None, Some(value), changes);
            }
        }
        (old, new) if old != new => changes.push(FieldChange {
            path: if path.is_empty() {
                "(entity)".into()
            } else {
                path.to_owned()
            },
            before: old.cloned(),
            after: new.cloned(),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_changed_added_and_removed_leaves() {
        let before =
            json!({"version": "0.0.1", "exec": {"code": "a", "kind": "python:3"}, "gone": 1});
        let after =
            json!({"version": "0.0.2", "exec": {"code": "b", "kind": "python:3"}, "new": true});
        let mut changes = Vec::new();
        diff("", Some(&before), Some(&after), &mut changes);
        let paths: Vec<&str> = changes.iter().map(|change| change.path.as_str()).collect();
        assert_eq!(paths, ["exec.code", "gone", "new", "version"]);
        assert_eq!(changes[0].before, Some(json!("a")));
        assert_eq!(changes[2].before, None);
    }
}
