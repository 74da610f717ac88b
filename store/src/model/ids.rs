//! Identifiers with a compact persisted form: activation ids (16 bytes, shown as 32 lowercase hex
//! characters), semantic versions and fully-qualified entity names.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why an identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct ParseIdError {
    /// What kind of identifier was being parsed.
    pub what: &'static str,
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// An activation id: 16 random bytes, written as 32 lowercase hex characters (OpenWhisk's format).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ActivationId(pub [u8; 16]);

impl ActivationId {
    /// A new activation id: time-ordered and unguessable (a UUID v7: the Unix time in
    /// milliseconds, then a counter and random bits). Ids made later sort after earlier ones, so
    /// the activation-by-id index grows at its end instead of rewriting pages all over.
    pub fn generate() -> Self {
        Self(*uuid::Uuid::now_v7().as_bytes())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for ActivationId {
    /// The 32 hex digits, encoded on the stack and written at once (an id is formatted several
    /// times per activation: a `{:02x}` per byte showed in profiles).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 32];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        f.pad(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for ActivationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivationId({self})")
    }
}

impl FromStr for ActivationId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = |reason| ParseIdError {
            what: "activation id",
            input: s.to_owned(),
            reason,
        };
        if s.len() != 32 {
            return Err(error("expected 32 lowercase hex characters"));
        }
        let mut bytes = [0u8; 16];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let high = hex_digit(chunk[0]).ok_or_else(|| error("not lowercase hex"))?;
            let low = hex_digit(chunk[1]).ok_or_else(|| error("not lowercase hex"))?;
            bytes[i] = (high << 4) | low;
        }
        Ok(Self(bytes))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl Serialize for ActivationId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for ActivationId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Self(<[u8; 16]>::deserialize(deserializer)?))
        }
    }
}

/// A semantic version `major.minor.patch`; OpenWhisk bumps the patch on every update.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SemVer {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl SemVer {
    /// The version of a newly created entity: `0.0.1`.
    pub const INITIAL: SemVer = SemVer {
        major: 0,
        minor: 0,
        patch: 1,
    };

    /// The version after an update: the patch number plus one.
    pub fn next_patch(self) -> Self {
        Self {
            patch: self.patch.saturating_add(1),
            ..self
        }
    }
}

impl Default for SemVer {
    fn default() -> Self {
        Self::INITIAL
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl fmt::Debug for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SemVer({self})")
    }
}

impl FromStr for SemVer {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = |reason| ParseIdError {
            what: "version",
            input: s.to_owned(),
            reason,
        };
        let mut parts = s.split('.');
        let mut next = || -> Result<u32, ParseIdError> {
            parts
                .next()
                .ok_or_else(|| error("expected major.minor.patch"))?
                .parse()
                .map_err(|_| error("each part must be a non-negative integer"))
        };
        let version = Self {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        if parts.next().is_some() {
            return Err(error("expected major.minor.patch"));
        }
        Ok(version)
    }
}

/// A fully-qualified entity name `/namespace[/package]/name`, as rules and sequences refer to actions.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FullyQualifiedName {
    pub namespace: String,
    pub package: Option<String>,
    pub name: String,
}

impl FullyQualifiedName {
    /// `/namespace/name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            package: None,
            name: name.into(),
        }
    }

    /// `/namespace/package/name`.
    pub fn in_package(
        namespace: impl Into<String>,
        package: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            package: Some(package.into()),
            name: name.into(),
        }
    }

    /// The name within the namespace: `package/name` or `name`.
    pub fn name_in_namespace(&self) -> String {
        match &self.package {
            Some(package) => format!("{package}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for FullyQualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/{}", self.namespace, self.name_in_namespace())
    }
}

impl fmt::Debug for FullyQualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FullyQualifiedName({self})")
    }
}

impl FromStr for FullyQualifiedName {
    type Err = ParseIdError;

    /// Parses `/ns/name`, `/ns/pkg/name`, `ns/name` or `ns/pkg/name`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = |reason| ParseIdError {
            what: "fully-qualified name",
            input: s.to_owned(),
            reason,
        };
        let parts: Vec<&str> = s.trim_start_matches('/').split('/').collect();
        if parts.iter().any(|part| part.is_empty()) {
            return Err(error("empty path segment"));
        }
        match parts.as_slice() {
            [namespace, name] => Ok(Self::new(*namespace, *name)),
            [namespace, package, name] => Ok(Self::in_package(*namespace, *package, *name)),
            _ => Err(error("expected /namespace/[package/]name")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn activation_id_round_trips_as_hex_and_as_16_bytes() {
        let id: ActivationId = "00112233445566778899aabbccddeeff".parse().unwrap();
        assert_eq!(id.to_string(), "00112233445566778899aabbccddeeff");
        assert_eq!(
            format!("[{id:>34}]"),
            "[  00112233445566778899aabbccddeeff]",
            "width and alignment apply"
        );
        assert_eq!(bincode::serialize(&id).unwrap().len(), 16);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"00112233445566778899aabbccddeeff\""
        );
        assert!("00112233445566778899AABBCCDDEEFF"
            .parse::<ActivationId>()
            .is_err());
        assert!("0011".parse::<ActivationId>().is_err());
    }

    #[test]
    fn generated_activation_ids_are_distinct_and_sort_in_the_order_made() {
        let ids: Vec<ActivationId> = (0..10_000).map(|_| ActivationId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort_by_key(|id| *id.as_bytes());
        assert_eq!(sorted, ids, "a later id sorts before an earlier one");
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        let text = ids[0].to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<ActivationId>().unwrap(), ids[0]);
    }

    #[test]
    fn semver_parses_prints_and_bumps() {
        let version: SemVer = "1.2.3".parse().unwrap();
        assert_eq!(version.next_patch().to_string(), "1.2.4");
        assert!("1.2".parse::<SemVer>().is_err());
        assert!("1.2.3.4".parse::<SemVer>().is_err());
    }

    #[test]
    fn fully_qualified_names_parse_with_and_without_package() {
        let plain: FullyQualifiedName = "/guest/hello".parse().unwrap();
        assert_eq!(plain, FullyQualifiedName::new("guest", "hello"));
        let packaged: FullyQualifiedName = "guest/utils/echo".parse().unwrap();
        assert_eq!(packaged.to_string(), "/guest/utils/echo");
        assert!("/guest".parse::<FullyQualifiedName>().is_err());
        assert!("/guest//x".parse::<FullyQualifiedName>().is_err());
    }
}
