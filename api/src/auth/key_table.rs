//! `KeyTable`: every API key by uuid, in memory, filled from the key projection and kept in step
//! with the log by the follower; and `Caller`, who a request authenticated as.

use super::parse_basic;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use store::{ApiKeyDoc, Event, KeyHash, Projections};

/// Who a request authenticated as.
#[derive(Debug, Clone)]
pub struct Caller {
    pub uuid: uuid::Uuid,
    /// The key's namespace: the only one it writes to.
    pub namespace: Arc<str>,
    /// `uuid:key`, handed to actions as `__OW_API_KEY`.
    pub credentials: String,
}

#[derive(Debug, Clone)]
struct KeyEntry {
    namespace: Arc<str>,
    hash: KeyHash,
}

/// The API keys, by uuid.
#[derive(Debug, Default)]
pub struct KeyTable {
    keys: RwLock<HashMap<uuid::Uuid, KeyEntry>>,
}

impl KeyTable {
    /// The keys the projection holds now.
    pub fn load(projections: &Projections) -> store::Result<Self> {
        let table = Self::default();
        for key in projections.api_keys()? {
            table.insert(&key);
        }
        Ok(table)
    }

    /// Adds (or replaces) one key.
    pub fn insert(&self, key: &ApiKeyDoc) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                key.uuid,
                KeyEntry {
                    namespace: Arc::from(key.namespace.as_str()),
                    hash: key.key_hash,
                },
            );
    }

    /// Applies one committed event (key issued or revoked); other events are ignored.
    pub fn apply(&self, event: &Event) {
        match event {
            Event::ApiKeyIssued { key, .. } => self.insert(key),
            Event::ApiKeyRevoked { uuid, .. } => {
                self.keys
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(uuid);
            }
            _ => {}
        }
    }

    /// How many keys the table holds.
    pub fn len(&self) -> usize {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The caller of a request with this `Authorization` header value.
    pub fn authenticate(&self, header: Option<&[u8]>) -> Result<Caller> {
        let header = header.ok_or(Error::AuthenticationMissing)?;
        let (uuid, secret) = parse_basic(header)?;
        let namespace = {
            let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
            let entry = keys.get(&uuid);
            // Hash even for an unknown uuid, so both refusals cost the same.
            let matches = match entry {
                Some(entry) => entry.hash.matches(&secret),
                None => {
                    let _ = KeyHash::of(&secret);
                    false
                }
            };
            match (entry, matches) {
                (Some(entry), true) => entry.namespace.clone(),
                _ => return Err(Error::AuthenticationInvalid("unknown uuid or wrong key")),
            }
        };
        let mut credentials = String::with_capacity(37 + secret.len());
        credentials.push_str(
            uuid.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
        credentials.push(':');
        credentials.push_str(&secret);
        Ok(Caller {
            uuid,
            namespace,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::IssuedKey;
    use base64::Engine;

    fn header(credentials: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
        .into_bytes()
    }

    #[test]
    fn a_key_authenticates_as_its_namespace_and_only_with_its_secret() {
        let table = KeyTable::default();
        let key = IssuedKey::new("alice", 0);
        table.insert(&key.doc);
        let caller = table
            .authenticate(Some(&header(&key.credentials())))
            .unwrap();
        assert_eq!(&*caller.namespace, "alice");
        assert_eq!(caller.credentials, key.credentials());
        let wrong = format!("{}:{}", key.doc.uuid, "0".repeat(64));
        assert!(matches!(
            table.authenticate(Some(&header(&wrong))),
            Err(Error::AuthenticationInvalid(_))
        ));
        assert!(matches!(
            table.authenticate(None),
            Err(Error::AuthenticationMissing)
        ));
        table.apply(&Event::ApiKeyRevoked {
            namespace: "alice".into(),
            uuid: key.doc.uuid,
            by: store::ChangedBy::Admin,
        });
        assert!(table
            .authenticate(Some(&header(&key.credentials())))
            .is_err());
    }
}
