//! The `function_name` label of the gateway metrics, in OpenFaaS's `<name>.<namespace>` form
//! (`figlet.openfaas-fn`), with a packaged action as `<package>/<name>.<namespace>`; and the
//! `code` label an activation's status counts under.

use store::ActivationStatus;

/// `function_name` of an action.
pub fn function_name(namespace: &str, package: Option<&str>, name: &str) -> String {
    match package {
        Some(package) => format!("{package}/{name}.{namespace}"),
        None => format!("{name}.{namespace}"),
    }
}

/// `function_name` of a fully qualified path (`ns/name`, `/ns/pkg/name`); `None` if it is not one.
pub fn function_name_of_path(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(namespace), Some(name), None, None) if !namespace.is_empty() && !name.is_empty() => {
            Some(function_name(namespace, None, name))
        }
        (Some(namespace), Some(package), Some(name), None)
            if !namespace.is_empty() && !package.is_empty() && !name.is_empty() =>
        {
            Some(function_name(namespace, Some(package), name))
        }
        _ => None,
    }
}

/// The HTTP-like `code` an activation counts under: 200 for success, 500 for an error of the
/// function (application or developer error: OpenFaaS's watchdog answers 500 for a failed
/// process), 502 for a whisk internal error (the platform could not run it).
pub fn status_code(status: ActivationStatus) -> &'static str {
    match status {
        ActivationStatus::Success => "200",
        ActivationStatus::ApplicationError | ActivationStatus::ActionDeveloperError => "500",
        ActivationStatus::WhiskInternalError => "502",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_openfaas_and_paths_parse_with_or_without_package() {
        assert_eq!(function_name("guest", None, "hello"), "hello.guest");
        assert_eq!(function_name("ns", Some("p"), "a"), "p/a.ns");
        assert_eq!(
            function_name_of_path("guest/hello").as_deref(),
            Some("hello.guest")
        );
        assert_eq!(function_name_of_path("/ns/p/a").as_deref(), Some("p/a.ns"));
        assert_eq!(function_name_of_path("ns"), None);
        assert_eq!(function_name_of_path("a/b/c/d"), None);
        assert_eq!(status_code(ActivationStatus::ApplicationError), "500");
    }
}
