//! Who may reach what: the namespace a request addresses (`_` = the caller's), and lookups of
//! packages and actions that follow package bindings and let other namespaces read public packages
//! (and invoke their actions), and nothing else of another namespace.

use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::ApiState;
use crate::wire::{from_json_text, merged, KeyValue};
use actix_web::HttpRequest;
use std::sync::Arc;
use store::{ActionDoc, FullyQualifiedName, PackageDoc};

/// A path parameter of the matched route.
pub fn path_param<'a>(request: &'a HttpRequest, name: &'static str) -> Result<&'a str> {
    request
        .match_info()
        .get(name)
        .ok_or(Error::internal("read a path parameter", name))
}

/// An authenticated request to one namespace.
#[derive(Debug, Clone)]
pub struct Scope {
    pub caller: Caller,
    /// The namespace addressed (`_` resolved).
    pub namespace: String,
}

impl Scope {
    /// Authenticates `request` and resolves its `{ns}` path parameter.
    pub fn of(state: &ApiState, request: &HttpRequest) -> Result<Self> {
        let caller = state.authenticate(request)?;
        let namespace = match path_param(request, "ns")? {
            "_" => caller.namespace.to_string(),
            other => other.to_owned(),
        };
        Ok(Self { caller, namespace })
    }

    /// Whether the namespace is the caller's own.
    pub fn own(&self) -> bool {
        *self.caller.namespace == *self.namespace
    }

    /// Refuses anything but the caller's own namespace (writes, triggers, rules, activations).
    pub fn require_own(&self) -> Result<()> {
        if self.own() {
            Ok(())
        } else {
            Err(Error::Forbidden(self.namespace.clone()))
        }
    }
}

/// A package as a caller may read it, with the parameters its actions inherit and the package its
/// actions really live in (the bound package for a binding).
#[derive(Debug, Clone)]
pub struct ReadablePackage {
    pub doc: PackageDoc,
    /// Where its actions live: itself, or the package it binds.
    pub home: PackageDoc,
    /// The bound package's parameters with the binding's on top (a package: its own).
    pub parameters: Vec<KeyValue>,
}

fn read_package(state: &ApiState, namespace: &str, name: &str) -> Result<Option<PackageDoc>> {
    let doc =
        state
            .caches
            .packages
            .get(state.store.projections(), namespace, name, |projections| {
                projections.package(namespace, name)
            })?;
    Ok(doc.map(|doc| (*doc).clone()))
}

fn read_action(state: &ApiState, namespace: &str, name: &str) -> Result<Option<Arc<ActionDoc>>> {
    state
        .caches
        .actions
        .get(state.store.projections(), namespace, name, |projections| {
            projections.action(namespace, name)
        })
}

/// The package `namespace/name` as `caller_namespace` may read it: its own, or public; a binding
/// resolves to the package it binds (which its owner must be able to read).
pub fn readable_package(
    state: &ApiState,
    caller_namespace: &str,
    namespace: &str,
    name: &str,
) -> Result<ReadablePackage> {
    let own = caller_namespace == namespace;
    let doc = match read_package(state, namespace, name)? {
        Some(doc) if own || doc.publish => doc,
        Some(_) => return Err(Error::Forbidden(namespace.to_owned())),
        None if own => return Err(Error::NotFound),
        None => return Err(Error::Forbidden(namespace.to_owned())),
    };
    let own_parameters = from_json_text(&doc.parameters);
    let Some(binding) = doc.binding.clone() else {
        return Ok(ReadablePackage {
            home: doc.clone(),
            doc,
            parameters: own_parameters,
        });
    };
    let home = match read_package(state, &binding.namespace, &binding.name)? {
        Some(home) if home.binding.is_none() && (home.namespace == namespace || home.publish) => home,
        _ => {
            return Err(Error::NotFoundNamed(format!(
                "The package binding '{namespace}/{name}' refers to '/{}/{}', which does not exist or is not public.",
                binding.namespace, binding.name
            )))
        }
    };
    let parameters = merged(&from_json_text(&home.parameters), &own_parameters);
    Ok(ReadablePackage {
        doc,
        home,
        parameters,
    })
}

/// An action as a caller may run or read it, with the parameters it inherits from its package.
#[derive(Debug, Clone)]
pub struct ResolvedAction {
    pub doc: Arc<ActionDoc>,
    /// The package's (or binding's) parameters, then the action's: what a request overrides.
    pub parameters: Vec<KeyValue>,
    /// The name the caller used (`/ns/binding/a` stays the binding's name).
    pub name: FullyQualifiedName,
}

/// The action `name` as `caller_namespace` may reach it: an action of its own namespace, or an
/// action in a package it may read (its own, public, or bound).
pub fn resolve_action(
    state: &ApiState,
    caller_namespace: &str,
    name: &FullyQualifiedName,
) -> Result<ResolvedAction> {
    let own = caller_namespace == name.namespace;
    let (doc, package_parameters) = match &name.package {
        None => {
            if !own {
                return Err(Error::Forbidden(name.namespace.clone()));
            }
            let doc = read_action(state, &name.namespace, &name.name)?.ok_or(Error::NotFound)?;
            (doc, Vec::new())
        }
        Some(package) => {
            let package = readable_package(state, caller_namespace, &name.namespace, package)?;
            let doc = read_action(
                state,
                &package.home.namespace,
                &format!("{}/{}", package.home.name, name.name),
            )?
            .ok_or(Error::NotFound)?;
            (doc, package.parameters)
        }
    };
    let parameters = merged(&package_parameters, &from_json_text(&doc.parameters));
    Ok(ResolvedAction {
        doc,
        parameters,
        name: name.clone(),
    })
}

/// The fully-qualified name of the action a `/namespaces/{ns}/actions/...` route addresses.
pub fn action_name_of(request: &HttpRequest, namespace: &str) -> Result<FullyQualifiedName> {
    let name = path_param(request, "name")?;
    crate::names::check_name("action", name)?;
    match request.match_info().get("pkg") {
        Some(package) => {
            crate::names::check_name("package", package)?;
            Ok(FullyQualifiedName::in_package(namespace, package, name))
        }
        None => Ok(FullyQualifiedName::new(namespace, name)),
    }
}
