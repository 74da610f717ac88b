//! Which namespace a function of `/function/{name}` lives in. OpenFaaS names a function in another
//! namespace `name.namespace`; Whirl reads the name the same way, but since an OpenWhisk action
//! name may itself contain dots, an action called exactly `name` in the default namespace wins.
//!
//! 1. `name` is an action of the default namespace (`guest` unless configured) → that action;
//! 2. else `name` = `function.namespace` split at its LAST dot → `function` in `namespace`;
//! 3. else not found.

/// Where to look for the function a path names, in order.
pub fn candidates<'a>(name: &'a str, default_namespace: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut found = vec![(default_namespace, name)];
    if let Some((function, namespace)) = name.rsplit_once('.') {
        if !function.is_empty() && !namespace.is_empty() {
            found.push((namespace, function));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dotted_name_is_tried_as_is_then_as_function_dot_namespace() {
        assert_eq!(candidates("figlet", "guest"), vec![("guest", "figlet")]);
        assert_eq!(
            candidates("figlet.dev", "guest"),
            vec![("guest", "figlet.dev"), ("dev", "figlet")]
        );
        assert_eq!(
            candidates("a.b.c", "guest"),
            vec![("guest", "a.b.c"), ("c", "a.b")]
        );
        assert_eq!(
            candidates("trailing.", "guest"),
            vec![("guest", "trailing.")]
        );
    }
}
