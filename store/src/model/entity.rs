//! `EntityKind` and `EntityRef`: how an entity is addressed (`namespace/kind/name`) by projections
//! and by `whirl log history`.

use super::ParseIdError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kinds of entity the log records changes of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKind {
    Namespace,
    ApiKey,
    Action,
    Package,
    Trigger,
    Rule,
    Feed,
}

impl EntityKind {
    /// Every kind, in key order.
    pub const ALL: [EntityKind; 7] = [
        EntityKind::Namespace,
        EntityKind::ApiKey,
        EntityKind::Action,
        EntityKind::Package,
        EntityKind::Trigger,
        EntityKind::Rule,
        EntityKind::Feed,
    ];

    /// The plural, lowercase name used in paths (`actions`, `keys`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Namespace => "namespaces",
            EntityKind::ApiKey => "keys",
            EntityKind::Action => "actions",
            EntityKind::Package => "packages",
            EntityKind::Trigger => "triggers",
            EntityKind::Rule => "rules",
            EntityKind::Feed => "feeds",
        }
    }

    /// One byte identifying the kind inside projection keys.
    pub(crate) fn tag(self) -> u8 {
        match self {
            EntityKind::Namespace => b'n',
            EntityKind::ApiKey => b'k',
            EntityKind::Action => b'a',
            EntityKind::Package => b'p',
            EntityKind::Trigger => b't',
            EntityKind::Rule => b'r',
            EntityKind::Feed => b'f',
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = ParseIdError;

    /// Accepts the plural or singular name: `actions`, `action`, `keys`, `key`, ...
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let singular = s.strip_suffix('s').unwrap_or(s);
        EntityKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().trim_end_matches('s') == singular)
            .ok_or_else(|| ParseIdError {
                what: "entity kind",
                input: s.to_owned(),
                reason:
                    "expected one of namespaces, keys, actions, packages, triggers, rules, feeds",
            })
    }
}

/// One entity: `namespace/kind/name`, where an action in a package is named `package/action`
/// and an API key is named by its uuid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    pub namespace: String,
    pub kind: EntityKind,
    pub name: String,
}

impl EntityRef {
    pub fn new(namespace: impl Into<String>, kind: EntityKind, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

impl FromStr for EntityRef {
    type Err = ParseIdError;

    /// Parses `namespace/kind/name` (the name may itself hold one `/`: `ns/actions/pkg/action`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim_start_matches('/').splitn(3, '/');
        let (Some(namespace), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseIdError {
                what: "entity",
                input: s.to_owned(),
                reason: "expected namespace/kind/name, e.g. guest/actions/hello",
            });
        };
        if namespace.is_empty() || name.is_empty() {
            return Err(ParseIdError {
                what: "entity",
                input: s.to_owned(),
                reason: "namespace and name must not be empty",
            });
        }
        Ok(Self::new(namespace, kind.parse()?, name))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entity_refs_parse_kinds_in_either_number() {
        let action: EntityRef = "guest/action/utils/echo".parse().unwrap();
        assert_eq!(
            action,
            EntityRef::new("guest", EntityKind::Action, "utils/echo")
        );
        assert_eq!(action.to_string(), "guest/actions/utils/echo");
        let rule: EntityRef = "/guest/rules/r1".parse().unwrap();
        assert_eq!(rule.kind, EntityKind::Rule);
        assert!("guest/widgets/x".parse::<EntityRef>().is_err());
        assert!("guest/actions".parse::<EntityRef>().is_err());
    }
}
