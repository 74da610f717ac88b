//! The requests every entity noun shares (put, get, delete), with wsk's wording
//! (`ok: created trigger t`, `ok: got rule r`, `ok: deleted package p`) or raw JSON with `--json`.

use super::client::{ApiClient, ApiResponse, Method};
use super::client_error::ClientError;
use super::names::QualifiedName;
use super::output;
use serde::Serialize;

/// One kind of entity: its name in messages and its API collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noun {
    /// `action`, `trigger`, `rule`, `package`.
    pub singular: &'static str,
    /// `actions`, `triggers`, `rules`, `packages`.
    pub collection: &'static str,
}

pub const ACTION: Noun = Noun {
    singular: "action",
    collection: "actions",
};
pub const TRIGGER: Noun = Noun {
    singular: "trigger",
    collection: "triggers",
};
pub const RULE: Noun = Noun {
    singular: "rule",
    collection: "rules",
};
pub const PACKAGE: Noun = Noun {
    singular: "package",
    collection: "packages",
};

/// Whether a `PUT` creates (409 when it exists) or updates (`overwrite=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    Create,
    Update,
}

impl PutMode {
    fn verb(self) -> &'static str {
        match self {
            PutMode::Create => "create",
            PutMode::Update => "update",
        }
    }
}

/// `PUT` an entity; prints `ok: created <noun> <name>` (or `what` instead of the noun, e.g.
/// `binding`).
pub fn put(
    client: &ApiClient,
    json: bool,
    noun: Noun,
    name: &QualifiedName,
    body: &impl Serialize,
    mode: PutMode,
    what: Option<&str>,
) -> Result<ApiResponse, ClientError> {
    let body = serde_json::to_value(body).map_err(|e| ClientError::input_plain(e.to_string()))?;
    let what = what.unwrap_or(noun.singular);
    let verb = mode.verb();
    let response = client
        .call(
            Method::Put,
            &name.api_path(noun.collection),
            format!("Unable to {verb} {what} '{}'", name.short()),
            noun.singular,
        )
        .query("overwrite", mode == PutMode::Update)
        .json(body)
        .send()?;
    if json {
        output::print_body(&response.text);
    } else {
        output::ok(&format!("{verb}d {what} {}", name.short()));
    }
    Ok(response)
}

/// `GET` an entity and print it (`ok: got <noun> <name>` and the JSON).
pub fn get(
    client: &ApiClient,
    json: bool,
    noun: Noun,
    name: &QualifiedName,
) -> Result<ApiResponse, ClientError> {
    let response = client
        .call(
            Method::Get,
            &name.api_path(noun.collection),
            format!("Unable to get {} '{}'", noun.singular, name.short()),
            noun.singular,
        )
        .send()?;
    if !json {
        output::ok(&format!("got {} {}", noun.singular, name.short()));
    }
    output::print_body(&response.text);
    Ok(response)
}

/// `DELETE` an entity (`ok: deleted <noun> <name>`).
pub fn delete(
    client: &ApiClient,
    json: bool,
    noun: Noun,
    name: &QualifiedName,
    force: bool,
) -> Result<(), ClientError> {
    let mut call = client.call(
        Method::Delete,
        &name.api_path(noun.collection),
        format!("Unable to delete {} '{}'", noun.singular, name.short()),
        noun.singular,
    );
    if force {
        call = call.query("force", true);
    } else if noun == PACKAGE {
        call = call.hint_on(
            409,
            format!(
                "the package still holds actions: delete them first, or delete it with them: \
                 `whirl package delete {name} --force`"
            ),
        );
    }
    let response = call.send()?;
    if json {
        output::print_body(&response.text);
    } else {
        output::ok(&format!("deleted {} {}", noun.singular, name.short()));
    }
    Ok(())
}

/// `GET` a namespace's collection (`/NAMESPACE` or nothing for the caller's), with paging.
pub fn list(
    client: &ApiClient,
    noun: Noun,
    namespace: Option<&str>,
    limit: u32,
    skip: u32,
) -> Result<ApiResponse, ClientError> {
    let namespace = match namespace {
        None => super::names::DEFAULT_NAMESPACE,
        Some(text) => match text.strip_prefix('/').unwrap_or(text) {
            ns if !ns.is_empty() && !ns.contains('/') => ns,
            _ => {
                return Err(ClientError::input(
                    format!("'{text}' is not a namespace"),
                    format!(
                        "write it as /NAMESPACE, e.g. `whirl {} list /guest`",
                        noun.singular
                    ),
                ))
            }
        },
    };
    client
        .call(
            Method::Get,
            &super::names::collection_path(namespace, noun.collection),
            format!("Unable to list {}", noun.collection),
            noun.singular,
        )
        .query("limit", limit)
        .query("skip", skip)
        .send()
}
