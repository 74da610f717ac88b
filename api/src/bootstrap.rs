//! What `whirl serve` sets up on start through ordinary events: the catalog (`/whisk.system/utils`
//! and the alarm feed actions of `/whisk.system/alarms`, by `System`, when missing), the guest namespace with its key in `<data-dir>/guest.auth` (on
//! first start), and the controller's per-namespace throttle limits.

use crate::catalog::{
    ALARMS_PACKAGE, ALARM_FEEDS, ALARM_FEED_CODE, NATS_FEEDS, NATS_PACKAGE, SYSTEM_NAMESPACE,
    UTILS, UTILS_PACKAGE,
};
use crate::error::{Error, Result};
use crate::provisioning::{create_namespace_events, throttle_limits};
use crate::state::ApiState;
use crate::wire::{to_json_text, KeyValue};
use actors::controller_actor::SetNamespaceLimits;
use std::io::Write;
use std::path::{Path, PathBuf};
use store::{
    ActionDoc, ActionLimits, ChangedBy, EntityDoc, Event, Exec, NamespaceDoc, NamespaceLimits,
    PackageDoc, SemVer,
};

/// The guest key created on this start.
#[derive(Debug, Clone)]
pub struct GuestKey {
    /// `uuid:key`.
    pub credentials: String,
    /// Where it was written (`<data-dir>/guest.auth`).
    pub path: PathBuf,
}

/// The namespace `whirl serve` creates on first start.
pub const GUEST_NAMESPACE: &str = "guest";

/// Writes `contents` to `path`, readable only by its owner.
pub fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Creates the guest namespace and its key if it does not exist yet.
pub async fn ensure_guest(state: &ApiState, data_dir: &Path) -> Result<Option<GuestKey>> {
    let _writing = state.write_lock().await;
    let projections = state.store.projections();
    if projections
        .namespace(GUEST_NAMESPACE)
        .map_err(Error::store("read the guest namespace"))?
        .is_some()
    {
        return Ok(None);
    }
    let (events, key) = create_namespace_events(
        projections,
        GUEST_NAMESPACE,
        NamespaceLimits::default(),
        state.now_ms(),
        ChangedBy::System,
    )?;
    state.commit(events).await?;
    let path = data_dir.join("guest.auth");
    let credentials = key.credentials();
    write_private_file(&path, &format!("{credentials}\n"))
        .map_err(|error| Error::internal("write guest.auth", error))?;
    tracing::info!(uuid = %key.doc.uuid, path = %path.display(), "guest namespace created");
    Ok(Some(GuestKey { credentials, path }))
}

/// Creates `/whisk.system/utils` and its actions where missing.
pub async fn ensure_catalog(state: &ApiState) -> Result<usize> {
    let _writing = state.write_lock().await;
    let projections = state.store.projections();
    let now = state.now_ms();
    let by = ChangedBy::System;
    let mut events = Vec::new();
    if projections
        .namespace(SYSTEM_NAMESPACE)
        .map_err(Error::store("read the system namespace"))?
        .is_none()
    {
        events.push(Event::NamespaceCreated {
            namespace: NamespaceDoc {
                name: SYSTEM_NAMESPACE.into(),
                limits: NamespaceLimits::default(),
                created_ms: now,
            },
            by,
        });
    }
    if projections
        .package(SYSTEM_NAMESPACE, UTILS_PACKAGE)
        .map_err(Error::store("read the catalog package"))?
        .is_none()
    {
        events.push(Event::PackagePut {
            package: PackageDoc {
                namespace: SYSTEM_NAMESPACE.into(),
                name: UTILS_PACKAGE.into(),
                version: SemVer::INITIAL,
                publish: true,
                annotations: to_json_text(&[KeyValue::new(
                    "description",
                    "Building blocks that format and assemble data",
                )]),
                parameters: to_json_text(&[]),
                binding: None,
                updated_ms: now,
            },
            by,
        });
    }
    for (name, description, code) in UTILS {
        let full = format!("{UTILS_PACKAGE}/{name}");
        if projections
            .action(SYSTEM_NAMESPACE, &full)
            .map_err(Error::store("read a catalog action"))?
            .is_some()
        {
            continue;
        }
        events.push(Event::ActionPut {
            action: ActionDoc {
                namespace: SYSTEM_NAMESPACE.into(),
                package: Some(UTILS_PACKAGE.into()),
                name: (*name).into(),
                version: SemVer::INITIAL,
                publish: true,
                exec: Exec::Code {
                    kind: "nodejs:20".into(),
                    code: (*code).into(),
                    binary: false,
                    main: None,
                },
                annotations: to_json_text(&[
                    KeyValue::new("description", *description),
                    KeyValue::new("exec", "nodejs:20"),
                ]),
                parameters: to_json_text(&[]),
                limits: ActionLimits::default(),
                updated_ms: now,
            },
            by,
        });
    }
    feed_package(
        projections,
        now,
        &mut events,
        (ALARMS_PACKAGE, "Alarms and periodic utility"),
        ALARM_FEEDS,
    )?;
    feed_package(
        projections,
        now,
        &mut events,
        (NATS_PACKAGE, "Triggers fired by messages on NATS subjects"),
        NATS_FEEDS,
    )?;
    let created = events.len();
    if created > 0 {
        state.commit(events).await?;
        tracing::info!(events = created, "catalog /whisk.system/utils created");
    }
    Ok(created)
}

/// The events that create a feed package of `/whisk.system` (`alarms`, `nats`) and its feed
/// actions where missing (annotated `feed: true`, as OpenWhisk's catalog marks feed actions).
fn feed_package(
    projections: &store::Projections,
    now: u64,
    events: &mut Vec<Event>,
    (package, package_description): (&str, &str),
    feeds: &[(&str, &str, &[&str])],
) -> Result<()> {
    let by = ChangedBy::System;
    if projections
        .package(SYSTEM_NAMESPACE, package)
        .map_err(Error::store("read a feed package"))?
        .is_none()
    {
        events.push(Event::PackagePut {
            package: PackageDoc {
                namespace: SYSTEM_NAMESPACE.into(),
                name: package.into(),
                version: SemVer::INITIAL,
                publish: true,
                annotations: to_json_text(&[KeyValue::new("description", package_description)]),
                parameters: to_json_text(&[]),
                binding: None,
                updated_ms: now,
            },
            by,
        });
    }
    for (name, description, parameters) in feeds {
        if projections
            .action(SYSTEM_NAMESPACE, &format!("{package}/{name}"))
            .map_err(Error::store("read a feed action"))?
            .is_some()
        {
            continue;
        }
        let parameters: Vec<serde_json::Value> = parameters
            .iter()
            .map(|parameter| serde_json::json!({"name": parameter, "required": false}))
            .collect();
        events.push(Event::ActionPut {
            action: ActionDoc {
                namespace: SYSTEM_NAMESPACE.into(),
                package: Some(package.into()),
                name: (*name).into(),
                version: SemVer::INITIAL,
                publish: true,
                exec: Exec::Code {
                    kind: "nodejs:20".into(),
                    code: ALARM_FEED_CODE.into(),
                    binary: false,
                    main: None,
                },
                annotations: to_json_text(&[
                    KeyValue::new("feed", true),
                    KeyValue::new("description", *description),
                    KeyValue::new("parameters", serde_json::Value::Array(parameters)),
                    KeyValue::new("exec", "nodejs:20"),
                ]),
                parameters: to_json_text(&[]),
                limits: ActionLimits::default(),
                updated_ms: now,
            },
            by,
        });
    }
    Ok(())
}

/// Tells the controller every namespace's throttle overrides.
pub async fn apply_namespace_limits(state: &ApiState) -> Result<()> {
    let namespaces = state
        .store
        .projections()
        .all_entities()
        .map_err(Error::store("list the namespaces"))?;
    for doc in namespaces {
        if let EntityDoc::Namespace(namespace) = doc {
            if namespace.limits != NamespaceLimits::default() {
                state
                    .controller
                    .send(SetNamespaceLimits {
                        namespace: namespace.name.clone(),
                        limits: throttle_limits(namespace.limits),
                    })
                    .await
                    .map_err(|error| Error::internal("reach the controller", error))?;
            }
        }
    }
    Ok(())
}
