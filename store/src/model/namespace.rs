//! Namespaces and their API keys. A key is a 64-character random secret: only its blake3 hash is
//! persisted, and checking a key costs one hash, not a key derivation.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Per-namespace overrides of the system limits (`None` = the system default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceLimits {
    pub invocations_per_minute: Option<u32>,
    pub concurrent_invocations: Option<u32>,
    pub fires_per_minute: Option<u32>,
}

/// A namespace: the unit of ownership of actions, packages, triggers, rules, feeds and activations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceDoc {
    pub name: String,
    pub limits: NamespaceLimits,
    pub created_ms: u64,
}

/// The blake3 hash of an API key's secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        Self(*blake3::hash(secret.as_bytes()).as_bytes())
    }

    /// Whether `secret` hashes to this value (constant-time comparison).
    pub fn matches(&self, secret: &str) -> bool {
        blake3::hash(secret.as_bytes()) == blake3::Hash::from(self.0)
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", blake3::Hash::from(self.0).to_hex())
    }
}

impl Serialize for KeyHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&blake3::Hash::from(self.0).to_hex())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for KeyHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            let hash = blake3::Hash::from_hex(&text).map_err(serde::de::Error::custom)?;
            Ok(Self(*hash.as_bytes()))
        } else {
            Ok(Self(<[u8; 32]>::deserialize(deserializer)?))
        }
    }
}

/// An API key as persisted: its uuid (the Basic-auth user), its namespace and the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyDoc {
    pub uuid: uuid::Uuid,
    pub namespace: String,
    pub key_hash: KeyHash,
    pub issued_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_matches_only_its_secret() {
        let secret = "a".repeat(64);
        let hash = KeyHash::of(&secret);
        assert!(hash.matches(&secret));
        assert!(!hash.matches(&"b".repeat(64)));
    }
}
