//! Reads of the projections: entities by namespace and name, activations by id and by namespace
//! and time (newest first, with OpenWhisk's name/since/upto/skip/limit filters; the documents are
//! read from the log at the seq the index holds), API keys and the invocations still waiting for
//! their activation record.

use super::entity_doc::{EntityDoc, FeedState};
use super::keys::{self, TreeId};
use super::logical_rows;
use super::Projections;
use crate::error::{Error, Result};
use crate::event::InvocationAccepted;
use crate::model::{
    ActionDoc, ActivationDoc, ActivationId, ApiKeyDoc, EntityKind, EntityRef, NamespaceDoc,
    PackageDoc, RuleDoc, TriggerDoc,
};
use serde::de::DeserializeOwned;

/// Filters of an activation listing, as `GET /namespaces/{ns}/activations` takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivationQuery {
    /// Only activations of this action (or trigger) name.
    pub name: Option<String>,
    /// Only activations that started at or after this time (unix ms).
    pub since_ms: Option<u64>,
    /// Only activations that started at or before this time (unix ms).
    pub upto_ms: Option<u64>,
    pub skip: usize,
    /// At most this many (0 = no limit).
    pub limit: usize,
}

impl Projections {
    fn tree(&self, tree: TreeId) -> &sled::Tree {
        &self.shared().trees[tree.index()]
    }

    fn decode<T: DeserializeOwned>(tree: TreeId, key: &[u8], bytes: &[u8]) -> Result<T> {
        bincode::deserialize(bytes).map_err(|error| Error::CorruptRow {
            tree: tree.name(),
            key: keys::printable(key),
            reason: error.to_string(),
        })
    }

    fn get_row<T: DeserializeOwned>(&self, tree: TreeId, key: &[u8]) -> Result<Option<T>> {
        match self
            .tree(tree)
            .get(key)
            .map_err(Error::storage("read a projection", self.path()))?
        {
            Some(bytes) => Ok(Some(Self::decode(tree, key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// The current state of one entity (API keys: see [`Projections::api_key`]).
    pub fn entity(&self, entity: &EntityRef) -> Result<Option<EntityDoc>> {
        self.get_row(
            TreeId::Entities,
            &keys::entity(&entity.namespace, entity.kind, &entity.name),
        )
    }

    pub fn namespace(&self, name: &str) -> Result<Option<NamespaceDoc>> {
        match self.entity(&EntityRef::new(name, EntityKind::Namespace, name))? {
            Some(EntityDoc::Namespace(doc)) => Ok(Some(doc)),
            _ => Ok(None),
        }
    }

    /// An action by its name in the namespace (`name` or `package/name`).
    pub fn action(&self, namespace: &str, name: &str) -> Result<Option<ActionDoc>> {
        match self.entity(&EntityRef::new(namespace, EntityKind::Action, name))? {
            Some(EntityDoc::Action(doc)) => Ok(Some(doc)),
            _ => Ok(None),
        }
    }

    pub fn package(&self, namespace: &str, name: &str) -> Result<Option<PackageDoc>> {
        match self.entity(&EntityRef::new(namespace, EntityKind::Package, name))? {
            Some(EntityDoc::Package(doc)) => Ok(Some(doc)),
            _ => Ok(None),
        }
    }

    pub fn trigger(&self, namespace: &str, name: &str) -> Result<Option<TriggerDoc>> {
        match self.entity(&EntityRef::new(namespace, EntityKind::Trigger, name))? {
            Some(EntityDoc::Trigger(doc)) => Ok(Some(doc)),
            _ => Ok(None),
        }
    }

    pub fn rule(&self, namespace: &str, name: &str) -> Result<Option<RuleDoc>> {
        match self.entity(&EntityRef::new(namespace, EntityKind::Rule, name))? {
            Some(EntityDoc::Rule(doc)) => Ok(Some(doc)),
            _ => Ok(None),
        }
    }

    pub fn feed(&self, namespace: &str, name: &str) -> Result<Option<FeedState>> {
        match self.entity(&EntityRef::new(namespace, EntityKind::Feed, name))? {
            Some(EntityDoc::Feed(state)) => Ok(Some(state)),
            _ => Ok(None),
        }
    }

    fn entities_with_prefix(
        &self,
        prefix: &[u8],
        skip: usize,
        limit: usize,
    ) -> Result<Vec<EntityDoc>> {
        let limit = if limit == 0 { usize::MAX } else { limit };
        self.tree(TreeId::Entities)
            .scan_prefix(prefix)
            .skip(skip)
            .take(limit)
            .map(|entry| {
                let (key, value) = entry.map_err(Error::storage("list entities", self.path()))?;
                Self::decode(TreeId::Entities, &key, &value)
            })
            .collect()
    }

    /// Entities of one kind in a namespace, in name order (`limit` 0 = all).
    pub fn list_entities(
        &self,
        namespace: &str,
        kind: EntityKind,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<EntityDoc>> {
        self.entities_with_prefix(&keys::entity_kind_prefix(namespace, kind), skip, limit)
    }

    /// How many entities of one kind a namespace holds.
    pub fn count_entities(&self, namespace: &str, kind: EntityKind) -> usize {
        self.tree(TreeId::Entities)
            .scan_prefix(keys::entity_kind_prefix(namespace, kind))
            .count()
    }

    /// The actions inside package `package` of `namespace`, in name order.
    pub fn list_package_actions(
        &self,
        namespace: &str,
        package: &str,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<ActionDoc>> {
        let mut prefix = keys::entity_kind_prefix(namespace, EntityKind::Action);
        prefix.extend_from_slice(package.as_bytes());
        prefix.push(b'/');
        Ok(self
            .entities_with_prefix(&prefix, skip, limit)?
            .into_iter()
            .filter_map(|doc| match doc {
                EntityDoc::Action(action) => Some(action),
                _ => None,
            })
            .collect())
    }

    /// Every entity of every namespace, in key order (namespace, kind, name).
    pub fn all_entities(&self) -> Result<Vec<EntityDoc>> {
        self.entities_with_prefix(&keys::all_entities_prefix(), 0, 0)
    }

    /// One activation record.
    pub fn activation(&self, id: &ActivationId) -> Result<Option<ActivationDoc>> {
        let key = keys::activation_by_id(id);
        let Some(value) = logical_rows::get(
            self.path(),
            self.tree(TreeId::Activations),
            TreeId::Activations,
            &key,
        )?
        else {
            return Ok(None);
        };
        let seq = keys::decode_activation_by_id_value(&value).ok_or_else(|| Error::CorruptRow {
            tree: TreeId::Activations.name(),
            key: keys::printable(&key),
            reason: "malformed activation id row".into(),
        })?;
        self.activation_at(seq, &key, |doc| doc.activation_id == *id)
    }

    /// The activation recorded at `seq` in the log, which must be the one the index row
    /// describes. `None` when the log no longer holds that seq (retention dropped it and the
    /// projection has not pruned it yet).
    fn activation_at(
        &self,
        seq: u64,
        row_key: &[u8],
        is_it: impl Fn(&ActivationDoc) -> bool,
    ) -> Result<Option<ActivationDoc>> {
        let records = &self.shared().records;
        let Some(record) = records.read_committed(seq, 1)?.into_iter().next() else {
            return Ok(None);
        };
        if record.seq != seq {
            return Ok(None);
        }
        match record.event {
            crate::event::Event::ActivationRecorded(doc) if is_it(&doc) => Ok(Some(doc)),
            other => Err(Error::CorruptRow {
                tree: TreeId::Activations.name(),
                key: keys::printable(row_key),
                reason: format!(
                    "points at record {seq}, which is another {}: the projections do not belong to this log",
                    other.name()
                ),
            }),
        }
    }

    /// The activations of a namespace matching `query`, newest first.
    pub fn list_activations(
        &self,
        namespace: &str,
        query: &ActivationQuery,
    ) -> Result<Vec<ActivationDoc>> {
        let limit = if query.limit == 0 {
            usize::MAX
        } else {
            query.limit
        };
        let wanted = query.skip.saturating_add(limit);
        let mut docs = Vec::new();
        for (key, start_ms, seq) in self
            .matching_activations(namespace, query, wanted)?
            .into_iter()
            .skip(query.skip)
        {
            let is_it =
                |doc: &ActivationDoc| doc.namespace == namespace && doc.start_ms == start_ms;
            match self.activation_at(seq, &key, is_it)? {
                Some(doc) => docs.push(doc),
                // Dropped by retention a moment ago: the projection prunes it next.
                None => continue,
            }
        }
        Ok(docs)
    }

    /// How many activations of a namespace match `query` (skip and limit ignored).
    pub fn count_activations(&self, namespace: &str, query: &ActivationQuery) -> Result<usize> {
        Ok(self
            .matching_activations(namespace, query, usize::MAX)?
            .len())
    }

    /// The by-time rows (key, start, seq) of up to `most` activations of a namespace matching
    /// `query`, newest first.
    fn matching_activations(
        &self,
        namespace: &str,
        query: &ActivationQuery,
        most: usize,
    ) -> Result<Vec<(Vec<u8>, u64, u64)>> {
        let prefix = keys::activation_namespace_prefix(namespace);
        let since = query.since_ms.unwrap_or(0);
        let upto = query.upto_ms.unwrap_or(u64::MAX);
        let mut low = prefix.clone();
        low.extend_from_slice(&since.to_be_bytes());
        let mut high = prefix.clone();
        high.extend_from_slice(&upto.to_be_bytes());
        high.extend_from_slice(&[0xff; 8]);
        let mut found = Vec::new();
        let rows = logical_rows::rows_in_range(
            self.path(),
            self.tree(TreeId::Activations),
            TreeId::Activations,
            &low,
            Some(&high),
            true,
        )?;
        for row in rows {
            if found.len() >= most {
                break;
            }
            let (key, value) = row?;
            let malformed = || Error::CorruptRow {
                tree: TreeId::Activations.name(),
                key: keys::printable(&key),
                reason: "malformed activation time row".into(),
            };
            let row = keys::decode_activation_by_time(&key, &value).ok_or_else(malformed)?;
            if let Some(wanted) = &query.name {
                if row.name != wanted.as_bytes() {
                    continue;
                }
            }
            let (start_ms, seq) = (row.start_ms, row.seq);
            found.push((key, start_ms, seq));
        }
        Ok(found)
    }

    /// An API key by its uuid.
    pub fn api_key(&self, uuid: &uuid::Uuid) -> Result<Option<ApiKeyDoc>> {
        self.get_row(TreeId::ApiKeys, &keys::api_key(uuid))
    }

    /// Every API key (to fill an in-memory auth cache).
    pub fn api_keys(&self) -> Result<Vec<ApiKeyDoc>> {
        self.tree(TreeId::ApiKeys)
            .scan_prefix([0x01])
            .map(|entry| {
                let (key, value) = entry.map_err(Error::storage("list api keys", self.path()))?;
                Self::decode(TreeId::ApiKeys, &key, &value)
            })
            .collect()
    }

    /// Accepted invocations that have no activation record yet (to finish after a restart).
    pub fn pending_invocations(&self) -> Result<Vec<InvocationAccepted>> {
        self.tree(TreeId::Activations)
            .scan_prefix([keys::PENDING_INVOCATION])
            .map(|entry| {
                let (key, value) =
                    entry.map_err(Error::storage("list pending invocations", self.path()))?;
                Self::decode(TreeId::Activations, &key, &value)
            })
            .collect()
    }
}
