//! Writes a small demo data directory (a namespace, a key, an action updated twice, a trigger, a
//! rule switched off, activations), to try the audit commands on:
//!
//! ```text
//! cargo run -p store --example demo_data_dir -- /tmp/whirl-demo
//! whirl log verify --data-dir /tmp/whirl-demo
//! whirl log history --data-dir /tmp/whirl-demo guest/actions/hello
//! ```

use std::time::Duration;
use store::*;

fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./whirl-demo".into());
    let store = Store::open(&dir, StoreOptions::default())?;
    let now = SystemClock.now_ms();
    let key = uuid::Uuid::new_v4();
    let by = ChangedBy::Key(key);
    let action = |patch: u32, code: &str| ActionDoc {
        namespace: "guest".into(),
        package: None,
        name: "hello".into(),
        version: SemVer {
            major: 0,
            minor: 0,
            patch,
        },
        publish: false,
        exec: Exec::Code {
            kind: "python:3".into(),
            code: code.into(),
            binary: false,
            main: None,
        },
        annotations: JsonText::empty_array(),
        parameters: JsonText::empty_array(),
        limits: ActionLimits::default(),
        updated_ms: now,
    };
    let mut events = vec![
        Event::NamespaceCreated {
            namespace: NamespaceDoc {
                name: "guest".into(),
                limits: NamespaceLimits::default(),
                created_ms: now,
            },
            by: ChangedBy::Admin,
        },
        Event::ApiKeyIssued {
            key: ApiKeyDoc {
                uuid: key,
                namespace: "guest".into(),
                key_hash: KeyHash::of(&"s".repeat(64)),
                issued_ms: now,
            },
            by: ChangedBy::Admin,
        },
        Event::ActionPut {
            action: action(1, "def main(a): return a"),
            by,
        },
        Event::ActionPut {
            action: action(2, "def main(a): return {'hi': 1}"),
            by,
        },
        Event::TriggerPut {
            trigger: TriggerDoc {
                namespace: "guest".into(),
                name: "tick".into(),
                version: SemVer::INITIAL,
                publish: false,
                annotations: JsonText::empty_array(),
                parameters: JsonText::empty_array(),
                updated_ms: now,
            },
            by,
        },
        Event::RulePut {
            rule: RuleDoc {
                namespace: "guest".into(),
                name: "on-tick".into(),
                version: SemVer::INITIAL,
                publish: false,
                annotations: JsonText::empty_array(),
                trigger: FullyQualifiedName::new("guest", "tick"),
                action: FullyQualifiedName::new("guest", "hello"),
                status: RuleStatus::Active,
                updated_ms: now,
            },
            by,
        },
        Event::RuleStatusChanged {
            namespace: "guest".into(),
            name: "on-tick".into(),
            status: RuleStatus::Inactive,
            by,
        },
    ];
    for n in 0..20u64 {
        let id = ActivationId::generate();
        events.push(Event::InvocationAccepted(InvocationAccepted {
            activation_id: id,
            action: FullyQualifiedName::new("guest", "hello"),
            version: SemVer {
                major: 0,
                minor: 0,
                patch: 2,
            },
            params: JsonText::empty_object(),
            blocking: true,
            cause: None,
            by,
        }));
        events.push(Event::ActivationRecorded(ActivationDoc {
            activation_id: id,
            namespace: "guest".into(),
            name: "hello".into(),
            package: None,
            subject: "guest".into(),
            version: SemVer {
                major: 0,
                minor: 0,
                patch: 2,
            },
            start_ms: now - 1000 + n,
            end_ms: now - 990 + n,
            duration_ms: 10,
            cause: None,
            status: ActivationStatus::Success,
            result: JsonText::parse(r#"{"hi":1}"#).unwrap_or_default(),
            logs: Vec::new(),
            annotations: JsonText::empty_array(),
        }));
    }
    let receipts = store.log().append_blocking(events)?;
    let head = receipts.last().map_or(0, |receipt| receipt.seq);
    store
        .projections()
        .wait_applied(head, Duration::from_secs(10))?;
    println!(
        "wrote {} records to {dir} (head seq {head})",
        receipts.len()
    );
    Ok(())
}
