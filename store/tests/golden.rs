//! Golden-bytes fixtures: the full envelope of every event variant of every schema version is
//! checked in under `tests/fixtures/v<N>/<Event>.bin` and must decode to the expected value (and
//! today's encoder must still produce the same bytes). Regenerate deliberately with
//! `WHIRL_BLESS=1 cargo test -p store --test golden` (only for a NEW variant: existing fixtures
//! of a released version must never change).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use store::envelope::{self, EnvelopeHeader, RecordHash};
use store::event::{decode_payload, encode_payload, Event, CURRENT_SCHEMA_VERSION};

fn fixture_dir(version: u16) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/v{version}"))
}

fn header(index: usize) -> EnvelopeHeader {
    EnvelopeHeader {
        seq: index as u64 + 1,
        time_ms: common::T0 + index as u64,
        schema_version: 1,
        prev_hash: RecordHash([index as u8; 32]),
    }
}

fn blessing() -> bool {
    std::env::var_os("WHIRL_BLESS").is_some()
}

#[test]
fn every_v1_fixture_decodes_to_its_expected_event() {
    let dir = fixture_dir(1);
    for (index, expected) in common::samples().into_iter().enumerate() {
        let path = dir.join(format!("{}.bin", expected.name()));
        let encoded = envelope::encode(&header(index), &encode_payload(&expected).unwrap());
        if blessing() && !path.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &encoded).unwrap();
        }
        let stored = std::fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "fixture {} is missing ({error}); bless a NEW variant with WHIRL_BLESS=1",
                path.display()
            )
        });
        let (decoded_header, payload) = envelope::decode(&stored).unwrap();
        assert_eq!(decoded_header, header(index), "{}", path.display());
        let decoded = decode_payload(decoded_header.schema_version, payload).unwrap();
        assert_eq!(
            decoded,
            expected,
            "{} decodes to another value",
            path.display()
        );
        assert_eq!(
            stored,
            encoded,
            "{}: today's encoder writes other bytes for the same event",
            path.display()
        );
    }
}

#[test]
fn every_event_variant_has_a_sample_and_a_fixture() {
    assert_eq!(
        CURRENT_SCHEMA_VERSION, 1,
        "a new schema version needs its own fixture directory and test"
    );
    let sample_names: Vec<&str> = common::samples().iter().map(Event::name).collect();
    assert_eq!(
        sample_names,
        Event::variant_names(),
        "samples must list every variant, in order"
    );
    for name in Event::variant_names() {
        let path = fixture_dir(1).join(format!("{name}.bin"));
        assert!(
            path.exists() || blessing(),
            "variant {name} has no golden fixture at {}",
            path.display()
        );
    }
}
