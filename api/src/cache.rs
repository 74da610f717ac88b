//! `EntityCache`: actions and packages by namespace and name, in memory, for the invocation hot
//! path (a projection read costs a sled lookup whose tail reaches a millisecond under load).
//!
//! Every entry carries the log seq it reflects, and an entry only ever moves forward: the log
//! follower and the API's own writes apply changes with their seq, and a miss reads the projection
//! with the seq applied *before* the read (the row reflects at least that). So a late, older change
//! never overwrites a newer one, and after a write returns, the cache already holds it. Absent
//! entities are cached too (as `None`), and the table is cleared when it outgrows its bound.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use store::{ActionDoc, Event, PackageDoc, Projections};

/// Entries kept before the table is cleared.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Entry<T> {
    seq: u64,
    doc: Option<Arc<T>>,
}

/// One kind of entity by namespace, then name.
#[derive(Debug)]
pub struct EntityCache<T> {
    entries: RwLock<HashMap<String, HashMap<String, Entry<T>>>>,
    len: std::sync::atomic::AtomicUsize,
}

impl<T> Default for EntityCache<T> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            len: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl<T> EntityCache<T> {
    /// Records that at `seq` the entity became `doc` (`None`: deleted), unless a newer state is held.
    pub fn set(&self, namespace: &str, name: &str, seq: u64, doc: Option<Arc<T>>) {
        use std::sync::atomic::Ordering;
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.len.load(Ordering::Relaxed) >= MAX_ENTRIES {
            entries.clear();
            self.len.store(0, Ordering::Relaxed);
        }
        let names = entries.entry(namespace.to_owned()).or_default();
        match names.get_mut(name) {
            Some(entry) if entry.seq > seq => {}
            Some(entry) => *entry = Entry { seq, doc },
            None => {
                names.insert(name.to_owned(), Entry { seq, doc });
                self.len.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn cached(&self, namespace: &str, name: &str) -> Option<Option<Arc<T>>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(namespace)?
            .get(name)
            .map(|entry| entry.doc.clone())
    }

    /// The entity, from the cache or else from `read` (the projection), then cached.
    pub fn get(
        &self,
        projections: &Projections,
        namespace: &str,
        name: &str,
        read: impl FnOnce(&Projections) -> store::Result<Option<T>>,
    ) -> Result<Option<Arc<T>>> {
        if let Some(doc) = self.cached(namespace, name) {
            return Ok(doc);
        }
        let seq = projections.applied_seq();
        let doc = read(projections)
            .map_err(Error::store("read an entity"))?
            .map(Arc::new);
        self.set(namespace, name, seq, doc.clone());
        Ok(doc)
    }
}

/// The caches the invocation path reads.
#[derive(Debug, Default)]
pub struct EntityCaches {
    pub actions: EntityCache<ActionDoc>,
    pub packages: EntityCache<PackageDoc>,
}

impl EntityCaches {
    /// Applies one committed event at `seq`.
    pub fn apply(&self, seq: u64, event: &Event) {
        match event {
            Event::ActionPut { action, .. } => self.actions.set(
                &action.namespace,
                &action.name_in_namespace(),
                seq,
                Some(Arc::new(action.clone())),
            ),
            Event::ActionDeleted { action, .. } => {
                self.actions
                    .set(&action.namespace, &action.name_in_namespace(), seq, None)
            }
            Event::PackagePut { package, .. } => self.packages.set(
                &package.namespace,
                &package.name,
                seq,
                Some(Arc::new(package.clone())),
            ),
            Event::PackageDeleted {
                namespace, name, ..
            } => self.packages.set(namespace, name, seq, None),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_change_never_overwrites_a_newer_one() {
        let cache: EntityCache<u32> = EntityCache::default();
        cache.set("ns", "a", 5, Some(Arc::new(5)));
        cache.set("ns", "a", 3, Some(Arc::new(3)));
        assert_eq!(cache.cached("ns", "a"), Some(Some(Arc::new(5))));
        cache.set("ns", "a", 7, None);
        assert_eq!(cache.cached("ns", "a"), Some(None));
        cache.set("ns", "a", 6, Some(Arc::new(6)));
        assert_eq!(cache.cached("ns", "a"), Some(None));
        assert_eq!(cache.cached("ns", "b"), None);
    }
}
