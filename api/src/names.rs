//! Names: OpenWhisk's entity-name rule, the `_` namespace, and fully-qualified names as rules and
//! sequences write them (`/_/pkg/a`, `/ns/a`, `a`).

use crate::error::{Error, Result};
use store::FullyQualifiedName;

/// The longest entity name.
pub const MAX_NAME_LENGTH: usize = 256;

/// One name without its anchors (`NAME_PATTERN`'s body).
macro_rules! segment {
    () => {
        "[A-Za-z0-9_]([A-Za-z0-9_@ .&-]{0,254}[A-Za-z0-9_@.&-])?"
    };
}
/// `is_valid_name` as a regular expression, for the OpenAPI document (a name is one segment).
pub const NAME_PATTERN: &str = concat!("^", segment!(), "$");

/// What `parse_qualified` takes, as a regular expression: `/ns/name`, `/ns/pkg/name`, `name` or
/// `pkg/name`, each segment a name.
pub const QUALIFIED_NAME_PATTERN: &str = concat!(
    "^(",
    "/",
    segment!(),
    "/",
    segment!(),
    "(/",
    segment!(),
    ")?",
    "|",
    segment!(),
    "(/",
    segment!(),
    ")?",
    ")$"
);

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `name` follows `\A([\w]|[\w][\w@ .&-]{0,254}[\w@.&-])\z`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !word(first) || name.len() > MAX_NAME_LENGTH {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    match rest.split_last() {
        None => true,
        Some((last, middle)) => {
            middle
                .iter()
                .all(|&c| word(c) || matches!(c, '@' | ' ' | '.' | '&' | '-'))
                && (word(*last) || matches!(*last, '@' | '.' | '&' | '-'))
        }
    }
}

/// Checks an entity (or namespace) name; `what` names it in the message.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    if is_valid_name(name) {
        return Ok(());
    }
    Err(Error::bad(format!(
        "The {what} name '{name}' is not valid: a name is 1 to {MAX_NAME_LENGTH} characters of letters, digits, '_', '@', '.', '&', '-' and spaces, starts with a letter, digit or '_', and does not end with a space."
    )))
}

/// The namespace a path means: `_` is the caller's.
pub fn resolve_namespace<'a>(path_namespace: &'a str, caller_namespace: &'a str) -> &'a str {
    if path_namespace == "_" {
        caller_namespace
    } else {
        path_namespace
    }
}

/// Parses a fully-qualified name as a rule or sequence gives it: `/ns/name`, `/ns/pkg/name`, or a
/// bare `name` / `pkg/name` (in the caller's namespace); `_` is the caller's namespace.
pub fn parse_qualified(
    what: &str,
    text: &str,
    caller_namespace: &str,
) -> Result<FullyQualifiedName> {
    let invalid = |reason: &str| {
        Error::bad(format!(
            "The {what} '{text}' is not a valid name: {reason} (expected /namespace/[package/]name)."
        ))
    };
    let absolute = text.starts_with('/');
    let parts: Vec<&str> = text.trim_start_matches('/').split('/').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return Err(invalid("it has an empty segment"));
    }
    let name = match (absolute, parts.as_slice()) {
        (true, [namespace, name]) => FullyQualifiedName::new(*namespace, *name),
        (true, [namespace, package, name]) => {
            FullyQualifiedName::in_package(*namespace, *package, *name)
        }
        (false, [name]) => FullyQualifiedName::new(caller_namespace, *name),
        (false, [package, name]) => {
            FullyQualifiedName::in_package(caller_namespace, *package, *name)
        }
        _ => return Err(invalid("too many or too few segments")),
    };
    let mut name = name;
    if name.namespace == "_" {
        name.namespace = caller_namespace.to_owned();
    }
    for part in [
        Some(&name.namespace),
        name.package.as_ref(),
        Some(&name.name),
    ]
    .into_iter()
    .flatten()
    {
        if !is_valid_name(part) {
            return Err(invalid(&format!("'{part}' breaks the entity-name rule")));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_patterns_agree_with_the_checks() {
        let name = regex::Regex::new(NAME_PATTERN).unwrap();
        let qualified = regex::Regex::new(QUALIFIED_NAME_PATTERN).unwrap();
        let long = "a".repeat(MAX_NAME_LENGTH);
        let too_long = "a".repeat(MAX_NAME_LENGTH + 1);
        let samples = [
            "a", "_", "hello", "a b", "a.b", "a-b&c@d", "x-", "9", "", " a", "a ", "-a", ".a",
            "a/b", "a\\b", "a\u{e9}", "é", "a\tb", &long, &too_long,
        ];
        for sample in samples {
            assert_eq!(name.is_match(sample), is_valid_name(sample), "{sample:?}");
        }
        let qualified_samples = [
            "a",
            "p/a",
            "/ns/a",
            "/ns/p/a",
            "/_/a",
            "/_/p/a",
            "",
            "/",
            "/a",
            "a/",
            "//a",
            "/ns//a",
            "p/q/a",
            "/ns/p/q/a",
            "/ns/ a",
            "/ns/a ",
            "a b/c",
            &long,
            &too_long,
        ];
        for sample in qualified_samples {
            assert_eq!(
                qualified.is_match(sample),
                parse_qualified("rule's trigger", sample, "guest").is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn the_entity_name_rule() {
        for good in ["a", "_", "hello", "a b", "a.b", "a-b&c@d", "x-", "9"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", " a", "a ", "-a", "a/b", "a?b", "é", &"a".repeat(257)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert!(is_valid_name(&"a".repeat(256)));
    }

    #[test]
    fn qualified_names_resolve_the_underscore_namespace() {
        let name = parse_qualified("action", "/_/pkg/a", "guest").unwrap();
        assert_eq!(name.to_string(), "/guest/pkg/a");
        assert_eq!(
            parse_qualified("trigger", "t", "guest")
                .unwrap()
                .to_string(),
            "/guest/t"
        );
        assert_eq!(
            parse_qualified("action", "/other/a", "guest")
                .unwrap()
                .to_string(),
            "/other/a"
        );
        assert!(parse_qualified("action", "/a", "guest").is_err());
        assert!(parse_qualified("action", "/a/b/c/d", "guest").is_err());
        assert!(parse_qualified("action", "/guest/bad name ", "guest").is_err());
    }
}
