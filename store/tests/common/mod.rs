//! Shared test data: one sample of every event variant and small builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use store::event::{InvocationAccepted, SnapshotTaken};
use store::*;

pub const T0: u64 = 1_700_000_000_000;

pub fn key_uuid() -> uuid::Uuid {
    uuid::Uuid::from_bytes([0x11; 16])
}

pub fn by_key() -> ChangedBy {
    ChangedBy::Key(key_uuid())
}

pub fn id(n: u64) -> ActivationId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&T0.to_be_bytes());
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    ActivationId(bytes)
}

pub fn namespace(name: &str) -> Event {
    Event::NamespaceCreated {
        namespace: NamespaceDoc {
            name: name.into(),
            limits: NamespaceLimits {
                invocations_per_minute: Some(120),
                concurrent_invocations: None,
                fires_per_minute: Some(10),
            },
            created_ms: T0,
        },
        by: ChangedBy::Admin,
    }
}

pub fn action_doc(ns: &str, name: &str, patch: u32, code: &str) -> ActionDoc {
    ActionDoc {
        namespace: ns.into(),
        package: None,
        name: name.into(),
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
            main: Some("main".into()),
        },
        annotations: JsonText::parse(r#"[{"key":"exec","value":"python:3"}]"#).unwrap(),
        parameters: JsonText::parse(r#"[{"key":"greeting","value":"hi"}]"#).unwrap(),
        limits: ActionLimits::default(),
        updated_ms: T0 + u64::from(patch),
    }
}

pub fn action_put(ns: &str, name: &str, patch: u32, code: &str) -> Event {
    Event::ActionPut {
        action: action_doc(ns, name, patch, code),
        by: by_key(),
    }
}

pub fn activation_doc(ns: &str, name: &str, n: u64, start_ms: u64, end_ms: u64) -> ActivationDoc {
    ActivationDoc {
        activation_id: id(n),
        namespace: ns.into(),
        name: name.into(),
        package: None,
        subject: ns.into(),
        version: SemVer::INITIAL,
        start_ms,
        end_ms,
        duration_ms: end_ms.saturating_sub(start_ms),
        cause: None,
        status: ActivationStatus::Success,
        result: JsonText::parse(r#"{"greeting":"hello"}"#).unwrap(),
        logs: vec!["2023-11-14T22:13:20.000Z stdout: hello".into()],
        annotations: JsonText::parse(r#"[{"key":"waitTime","value":3}]"#).unwrap(),
    }
}

pub fn activation(ns: &str, name: &str, n: u64, start_ms: u64, end_ms: u64) -> Event {
    Event::ActivationRecorded(activation_doc(ns, name, n, start_ms, end_ms))
}

pub fn invocation(ns: &str, name: &str, n: u64) -> Event {
    Event::InvocationAccepted(InvocationAccepted {
        activation_id: id(n),
        action: FullyQualifiedName::new(ns, name),
        version: SemVer::INITIAL,
        params: JsonText::parse(r#"{"name":"world"}"#).unwrap(),
        blocking: false,
        cause: None,
        by: by_key(),
    })
}

/// One event of every variant, in variant order.
pub fn samples() -> Vec<Event> {
    let mut packaged = action_doc("guest", "echo", 2, "def main(a): return a");
    packaged.package = Some("utils".into());
    packaged.exec = Exec::Blackbox {
        image: "whirl/echo:1".into(),
        code: None,
        main: None,
        binary: false,
    };
    vec![
        namespace("guest"),
        Event::ApiKeyIssued {
            key: ApiKeyDoc {
                uuid: key_uuid(),
                namespace: "guest".into(),
                key_hash: KeyHash::of(&"k".repeat(64)),
                issued_ms: T0,
            },
            by: ChangedBy::Admin,
        },
        Event::ApiKeyRevoked {
            namespace: "guest".into(),
            uuid: key_uuid(),
            by: ChangedBy::Admin,
        },
        Event::ActionPut {
            action: packaged,
            by: by_key(),
        },
        Event::ActionDeleted {
            action: FullyQualifiedName::in_package("guest", "utils", "echo"),
            by: by_key(),
        },
        Event::PackagePut {
            package: PackageDoc {
                namespace: "guest".into(),
                name: "mine".into(),
                version: SemVer::INITIAL,
                publish: true,
                annotations: JsonText::empty_array(),
                parameters: JsonText::parse(r#"[{"key":"x","value":1}]"#).unwrap(),
                binding: Some(PackageBinding {
                    namespace: "whisk.system".into(),
                    name: "utils".into(),
                }),
                updated_ms: T0,
            },
            by: by_key(),
        },
        Event::PackageDeleted {
            namespace: "guest".into(),
            name: "mine".into(),
            by: by_key(),
        },
        Event::TriggerPut {
            trigger: TriggerDoc {
                namespace: "guest".into(),
                name: "tick".into(),
                version: SemVer::INITIAL,
                publish: false,
                annotations: JsonText::empty_array(),
                parameters: JsonText::empty_array(),
                updated_ms: T0,
            },
            by: by_key(),
        },
        Event::TriggerDeleted {
            namespace: "guest".into(),
            name: "tick".into(),
            by: by_key(),
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
                updated_ms: T0,
            },
            by: by_key(),
        },
        Event::RuleStatusChanged {
            namespace: "guest".into(),
            name: "on-tick".into(),
            status: RuleStatus::Inactive,
            by: by_key(),
        },
        Event::RuleDeleted {
            namespace: "guest".into(),
            name: "on-tick".into(),
            by: by_key(),
        },
        Event::FeedCreated {
            feed: FeedDoc {
                namespace: "guest".into(),
                name: "every-minute".into(),
                trigger: FullyQualifiedName::new("guest", "tick"),
                source: FeedSource::Alarm {
                    schedule: AlarmSchedule::Cron("* * * * *".into()),
                    start_ms: Some(T0),
                    stop_ms: None,
                    payload: JsonText::parse(r#"{"tick":true}"#).unwrap(),
                },
                created_ms: T0,
            },
            by: ChangedBy::System,
        },
        Event::FeedFired {
            namespace: "guest".into(),
            name: "every-minute".into(),
            fired_up_to_ms: T0 + 60_000,
            by: ChangedBy::System,
        },
        Event::FeedDeleted {
            namespace: "guest".into(),
            name: "every-minute".into(),
            by: by_key(),
        },
        invocation("guest", "hello", 1),
        activation("guest", "hello", 1, T0, T0 + 5),
        Event::SnapshotTaken(SnapshotTaken {
            generation: 2,
            previous_head_seq: 17,
            previous_head_hash: [0xAB; 32],
            cutoff_ms: T0,
            dropped_activations: 3,
            dropped_invocations: 3,
            kept_records: 14,
        }),
    ]
}

/// A clock the test moves by hand.
#[derive(Debug, Default)]
pub struct ManualClock(pub std::sync::atomic::AtomicU64);

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl ManualClock {
    pub fn at(ms: u64) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self(std::sync::atomic::AtomicU64::new(ms)))
    }
    pub fn set(&self, ms: u64) {
        self.0.store(ms, std::sync::atomic::Ordering::SeqCst)
    }
}
