//! Entity names as users type them (`hello`, `pkg/hello`, `/ns/hello`, `/ns/pkg/hello`; `_` is the
//! caller's default namespace, as in wsk) and as they appear in API paths (percent-encoded).

use super::client_error::ClientError;
use std::fmt;

/// The caller's default namespace.
pub const DEFAULT_NAMESPACE: &str = "_";

/// A possibly qualified entity name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    pub namespace: String,
    pub package: Option<String>,
    pub name: String,
}

impl QualifiedName {
    /// Parses an action name, which may sit in a package.
    pub fn action(text: &str) -> Result<Self, ClientError> {
        Self::parse(text, true, "action")
    }

    /// Parses the name of an entity that cannot sit in a package (trigger, rule, package).
    pub fn top_level(text: &str, noun: &str) -> Result<Self, ClientError> {
        Self::parse(text, false, noun)
    }

    fn parse(text: &str, packaged: bool, noun: &str) -> Result<Self, ClientError> {
        let text = text.trim();
        let bad = |why: &str| {
            let forms = if packaged {
                "NAME, PACKAGE/NAME, /NAMESPACE/NAME or /NAMESPACE/PACKAGE/NAME"
            } else {
                "NAME or /NAMESPACE/NAME"
            };
            ClientError::input(
                format!("'{text}' is not a valid {noun} name: {why}"),
                format!("write a {noun} name as {forms}"),
            )
        };
        let (explicit_namespace, rest) = match text.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.iter().any(|p| p.trim().is_empty()) {
            return Err(bad("it has an empty part"));
        }
        let (namespace, package, name) = match (explicit_namespace, parts.as_slice()) {
            (false, [name]) => (DEFAULT_NAMESPACE, None, *name),
            (false, [package, name]) if packaged => (DEFAULT_NAMESPACE, Some(*package), *name),
            (true, [namespace, name]) => (*namespace, None, *name),
            (true, [namespace, package, name]) if packaged => (*namespace, Some(*package), *name),
            (true, [_]) => return Err(bad("it names only a namespace")),
            _ => return Err(bad("it has too many parts")),
        };
        Ok(QualifiedName {
            namespace: namespace.to_string(),
            package: package.map(str::to_string),
            name: name.to_string(),
        })
    }

    /// The API path of this entity in `collection` (`actions`, `triggers`, ...), encoded.
    pub fn api_path(&self, collection: &str) -> String {
        let mut path = format!(
            "/namespaces/{}/{collection}/",
            encode_segment(&self.namespace)
        );
        if let Some(package) = &self.package {
            path.push_str(&encode_segment(package));
            path.push('/');
        }
        path.push_str(&encode_segment(&self.name));
        path
    }

    /// The name within its namespace: `pkg/name` or `name` (how wsk names it in `ok:` lines).
    pub fn short(&self) -> String {
        match &self.package {
            Some(package) => format!("{package}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for QualifiedName {
    /// `/ns/pkg/name` or `/ns/name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/{}", self.namespace, self.short())
    }
}

/// The API path of a namespace's collection (`/namespaces/_/actions`).
pub fn collection_path(namespace: &str, collection: &str) -> String {
    format!("/namespaces/{}/{collection}", encode_segment(namespace))
}

/// Percent-encodes one path segment (entity names may hold spaces, `&` and `@`).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_like_wsk() {
        let n = QualifiedName::action("hello").unwrap();
        assert_eq!(
            (n.namespace.as_str(), n.package.as_deref(), n.name.as_str()),
            ("_", None, "hello")
        );
        assert_eq!(n.to_string(), "/_/hello");
        let n = QualifiedName::action("pkg/hello").unwrap();
        assert_eq!(n.to_string(), "/_/pkg/hello");
        assert_eq!(n.short(), "pkg/hello");
        let n = QualifiedName::action("/guest/hello").unwrap();
        assert_eq!(n.to_string(), "/guest/hello");
        let n = QualifiedName::action("/guest/pkg/hello").unwrap();
        assert_eq!(n.package.as_deref(), Some("pkg"));
    }

    #[test]
    fn bad_names_are_refused_with_the_forms_that_work() {
        for bad in ["", "/guest", "a//b", "/a/b/c/d", "a/b/c"] {
            let err = QualifiedName::action(bad).unwrap_err();
            assert!(err.hint().unwrap().contains("PACKAGE/NAME"), "{bad}");
        }
        assert!(QualifiedName::top_level("pkg/t", "trigger").is_err());
        assert_eq!(
            QualifiedName::top_level("/ns/t", "trigger")
                .unwrap()
                .to_string(),
            "/ns/t"
        );
    }

    #[test]
    fn paths_are_encoded() {
        let n = QualifiedName::action("/my ns/p&q/a b@c").unwrap();
        assert_eq!(
            n.api_path("actions"),
            "/namespaces/my%20ns/actions/p%26q/a%20b@c"
        );
        assert_eq!(collection_path("_", "rules"), "/namespaces/_/rules");
    }
}
