//! New API keys: a uuid and a 64-character random secret (only its blake3 hash is stored).

use store::{ApiKeyDoc, KeyHash};

/// A freshly issued key: the document to persist and the secret to show once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub doc: ApiKeyDoc,
    pub secret: String,
}

impl IssuedKey {
    /// A new key for `namespace`.
    pub fn new(namespace: &str, now_ms: u64) -> Self {
        let secret = new_secret();
        Self {
            doc: ApiKeyDoc {
                uuid: uuid::Uuid::new_v4(),
                namespace: namespace.to_owned(),
                key_hash: KeyHash::of(&secret),
                issued_ms: now_ms,
            },
            secret,
        }
    }

    /// `uuid:key`, what clients put in Basic auth (and `guest.auth` holds).
    pub fn credentials(&self) -> String {
        format!("{}:{}", self.doc.uuid, self.secret)
    }
}

/// 64 lowercase hex characters from the operating system's random source (two v4 uuids).
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
