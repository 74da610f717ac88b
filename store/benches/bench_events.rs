//! Event builders shared by the store benchmarks: activation records of a given size.
#![allow(dead_code)]

use store::*;

pub const T0: u64 = 1_700_000_000_000;

/// splitmix64: a well-mixed 64-bit value from `n`.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An activation whose encoded record (envelope included) is about `record_bytes` long. Its id
/// looks random (a function of `n`): the worst case for the by-id index, as in logs written
/// before the platform's ids were time-ordered (UUID v7, `ActivationId::generate`).
pub fn activation(n: u64, record_bytes: usize) -> Event {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix(n).to_be_bytes());
    id[8..].copy_from_slice(&mix(n ^ 0x5555_5555_5555_5555).to_be_bytes());
    let base = ActivationDoc {
        activation_id: ActivationId(id),
        namespace: format!("ns{}", n % 10),
        name: format!("action{}", n % 50),
        package: None,
        subject: "guest".into(),
        version: SemVer::INITIAL,
        start_ms: T0 + n,
        end_ms: T0 + n + 3,
        duration_ms: 3,
        cause: None,
        status: ActivationStatus::Success,
        result: JsonText::parse(r#"{"ok":true}"#).unwrap_or_default(),
        logs: Vec::new(),
        annotations: JsonText::empty_array(),
    };
    let size = 54
        + bincode::serialized_size(&Event::ActivationRecorded(base.clone())).unwrap_or(0) as usize;
    let mut doc = base;
    if record_bytes > size + 8 {
        doc.logs.push("x".repeat(record_bytes - size - 8));
    }
    Event::ActivationRecorded(doc)
}

/// An entity event (an action update) for mixing into a log.
pub fn action_put(n: u64) -> Event {
    Event::ActionPut {
        action: ActionDoc {
            namespace: format!("ns{}", n % 10),
            package: None,
            name: format!("action{}", n % 50),
            version: SemVer {
                major: 0,
                minor: 0,
                patch: (n % 1000) as u32 + 1,
            },
            publish: false,
            exec: Exec::Code {
                kind: "python:3".into(),
                code: "def main(a): return a".into(),
                binary: false,
                main: None,
            },
            annotations: JsonText::empty_array(),
            parameters: JsonText::empty_array(),
            limits: ActionLimits::default(),
            updated_ms: T0 + n,
        },
        by: ChangedBy::Admin,
    }
}
