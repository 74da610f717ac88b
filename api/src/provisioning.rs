//! Namespaces and their keys as the operator makes them: the events that create a namespace with
//! its first key, and the listing of namespaces with their keys. Shared by the admin routes, the
//! offline `whirl admin` commands and the guest namespace `whirl serve` creates on first start.

use crate::auth::IssuedKey;
use crate::error::{Error, Result};
use crate::names::check_name;
use crate::wire::{IssuedNamespaceKey, NamespaceListing, NamespaceThrottles};
use store::{ChangedBy, EntityDoc, Event, NamespaceDoc, NamespaceLimits, Projections};

/// The events creating `name` (with `limits`) and its first key, and the key to show once.
/// Refuses a name that breaks the entity-name rule or a namespace that already exists.
pub fn create_namespace_events(
    projections: &Projections,
    name: &str,
    limits: NamespaceLimits,
    now_ms: u64,
    by: ChangedBy,
) -> Result<(Vec<Event>, IssuedKey)> {
    check_name("namespace", name)?;
    if projections
        .namespace(name)
        .map_err(Error::store("read a namespace"))?
        .is_some()
    {
        return Err(Error::ConflictDetail(format!(
            "The namespace '{name}' already exists."
        )));
    }
    let key = IssuedKey::new(name, now_ms);
    let events = vec![
        Event::NamespaceCreated {
            namespace: NamespaceDoc {
                name: name.to_owned(),
                limits,
                created_ms: now_ms,
            },
            by,
        },
        Event::ApiKeyIssued {
            key: key.doc.clone(),
            by,
        },
    ];
    Ok((events, key))
}

/// The answer for an issued key.
pub fn issued(key: &IssuedKey) -> IssuedNamespaceKey {
    IssuedNamespaceKey {
        namespace: key.doc.namespace.clone(),
        uuid: key.doc.uuid.to_string(),
        key: key.secret.clone(),
    }
}

/// Every namespace with the uuids of its keys.
pub fn list_namespaces(projections: &Projections) -> Result<Vec<NamespaceListing>> {
    let keys = projections
        .api_keys()
        .map_err(Error::store("list the api keys"))?;
    let entities = projections
        .all_entities()
        .map_err(Error::store("list the entities"))?;
    Ok(entities
        .into_iter()
        .filter_map(|doc| match doc {
            EntityDoc::Namespace(namespace) => Some(namespace),
            _ => None,
        })
        .map(|namespace| NamespaceListing {
            keys: keys
                .iter()
                .filter(|key| key.namespace == namespace.name)
                .map(|key| key.uuid.to_string())
                .collect(),
            limits: NamespaceThrottles::from(namespace.limits),
            created: namespace.created_ms,
            namespace: namespace.name,
        })
        .collect())
}

/// The controller's view of a namespace's limits.
pub fn throttle_limits(limits: NamespaceLimits) -> actors::core::throttle::NamespaceLimits {
    actors::core::throttle::NamespaceLimits {
        invocations_per_minute: limits.invocations_per_minute,
        concurrent_invocations: limits.concurrent_invocations,
        fires_per_minute: limits.fires_per_minute,
    }
}
