//! Start-up recovery for a single-process Whirl: invocations the log holds as accepted but not
//! recorded belong to a previous run whose invoker died with it, so each gets its one record now
//! (a whisk internal error saying so). Multi-node controllers use `Controller::recover` instead,
//! because their invokers may still be running such activations.

use store::{
    ActivationDoc, ActivationStatus, Event, EventLog, InvocationAccepted, JsonText, Store,
};

/// Why an orphaned activation ended.
pub const ORPHANED: &str = "Whirl restarted before the activation finished.";

/// Records every accepted-but-unrecorded invocation as a whisk internal error; returns how many.
/// Async because the platform calls it on its runtime (a blocking append there would panic).
pub async fn end_orphans(store: &Store, now_ms: u64) -> store::Result<usize> {
    end_orphans_except(store, now_ms, |_| false).await
}

/// [`end_orphans`], leaving pending the invocations `finished_elsewhere` claims: work the caller
/// finishes and records itself after the restart (the API's OpenFaaS callback deliveries).
pub async fn end_orphans_except(
    store: &Store,
    now_ms: u64,
    finished_elsewhere: impl Fn(&InvocationAccepted) -> bool,
) -> store::Result<usize> {
    let head = store.head_seq();
    store
        .projections()
        .wait_applied(head, std::time::Duration::from_secs(30))?;
    let mut orphans = store.projections().pending_invocations()?;
    orphans.retain(|accepted| !finished_elsewhere(accepted));
    if orphans.is_empty() {
        return Ok(0);
    }
    let events: Vec<Event> = orphans
        .iter()
        .map(|accepted| Event::ActivationRecorded(orphan_record(accepted, now_ms)))
        .collect();
    let count = events.len();
    store.log().append(events).await?;
    tracing::warn!(count, "activations from a previous run recorded as lost");
    Ok(count)
}

fn orphan_record(accepted: &InvocationAccepted, now_ms: u64) -> ActivationDoc {
    ActivationDoc {
        activation_id: accepted.activation_id,
        namespace: accepted.action.namespace.clone(),
        name: accepted.action.name.clone(),
        package: accepted.action.package.clone(),
        // The invoking key's namespace is not in the acceptance; keys reach only their own.
        subject: accepted.action.namespace.clone(),
        version: accepted.version,
        start_ms: now_ms,
        end_ms: now_ms,
        duration_ms: 0,
        cause: accepted.cause,
        status: ActivationStatus::WhiskInternalError,
        result: JsonText::from_value(&serde_json::json!({ "error": ORPHANED })),
        logs: Vec::new(),
        annotations: JsonText::from_value(&serde_json::json!([
            { "key": "path", "value": format!("{}/{}", accepted.action.namespace, accepted.action.name_in_namespace()) }
        ])),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use store::{ActivationId, ChangedBy, FullyQualifiedName, SemVer, StoreOptions};

    #[actix_rt::test]
    async fn orphans_get_exactly_one_record_and_a_second_pass_finds_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let id = ActivationId::generate();
        let accepted = InvocationAccepted {
            activation_id: id,
            action: FullyQualifiedName::new("guest", "hello"),
            version: SemVer::default(),
            params: JsonText::empty_object(),
            blocking: false,
            cause: None,
            by: ChangedBy::System,
        };
        store
            .log()
            .append(vec![Event::InvocationAccepted(accepted)])
            .await
            .unwrap();
        assert_eq!(end_orphans(&store, 5).await.unwrap(), 1);
        assert_eq!(end_orphans(&store, 6).await.unwrap(), 0);
        store
            .projections()
            .wait_applied(store.head_seq(), std::time::Duration::from_secs(5))
            .unwrap();
        let record = store.projections().activation(&id).unwrap().unwrap();
        assert_eq!(record.status, ActivationStatus::WhiskInternalError);
        assert_eq!(record.result.to_value().unwrap()["error"], ORPHANED);
    }

    #[actix_rt::test]
    async fn invocations_finished_elsewhere_stay_pending() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let accepted = |name: &str| InvocationAccepted {
            activation_id: ActivationId::generate(),
            action: FullyQualifiedName::new("guest", name),
            version: SemVer::default(),
            params: JsonText::empty_object(),
            blocking: false,
            cause: None,
            by: ChangedBy::System,
        };
        let (lost, kept) = (accepted("lost"), accepted("kept"));
        store
            .log()
            .append(vec![
                Event::InvocationAccepted(lost.clone()),
                Event::InvocationAccepted(kept.clone()),
            ])
            .await
            .unwrap();
        let claimed = |a: &InvocationAccepted| a.action.name == "kept";
        assert_eq!(end_orphans_except(&store, 5, claimed).await.unwrap(), 1);
        store
            .projections()
            .wait_applied(store.head_seq(), std::time::Duration::from_secs(5))
            .unwrap();
        let pending = store.projections().pending_invocations().unwrap();
        assert_eq!(pending, vec![kept.clone()]);
        assert!(store
            .projections()
            .activation(&lost.activation_id)
            .unwrap()
            .is_some());
        assert!(store
            .projections()
            .activation(&kept.activation_id)
            .unwrap()
            .is_none());
    }
}
