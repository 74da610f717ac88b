//! `GET /console/api/verify`: verifies the live event log, as `whirl log verify` verifies a
//! stopped server's (which cannot open a log the server holds).
//!
//! The live log hands out decoded records (CRC and envelope already checked when read) with each
//! record's hash. Each record is re-encoded from its seq, time, schema version, payload and the
//! *previous record's* hash; its hash must equal the stored record's hash. A record that was
//! changed (even with a fixed CRC), or a removed record, makes the hash differ there, so this
//! checks the whole chain. The re-encoded records then go through `store::audit::verify_records`
//! for seq order, time order and the gaps only a retention snapshot may leave. It reads the
//! whole log (a few seconds per million records), on a blocking thread.

use super::{answer, caller};
use crate::error::{Error, Result};
use crate::state::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use store::audit::{verify_records, VerifyReport};
use store::envelope::{self, EnvelopeHeader, RecordHash};
use store::event::{encode_payload, CURRENT_SCHEMA_VERSION};
use store::{Committed, EventLog};

/// The outcome of a verification.
#[derive(Debug, Serialize)]
pub struct Verification {
    /// `true` when every record checked out.
    pub valid: bool,
    pub generation: u64,
    pub records: u64,
    pub first_seq: Option<u64>,
    pub head_seq: Option<u64>,
    /// The head record's hash (hex): keep it elsewhere to detect records removed from the end.
    pub head_hash: Option<String>,
    pub snapshots: u64,
    /// The first bad record: its seq and what is wrong with it.
    pub bad_seq: Option<u64>,
    pub problem: Option<String>,
    pub elapsed_ms: u64,
    pub checked_at_ms: u64,
}

/// `GET /console/api/verify`.
pub async fn show(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let result = verify(&request, state).await;
    answer(&request, result)
}

async fn verify(request: &HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    caller(&state, request)?;
    let checked_at_ms = state.now_ms();
    let verification = web::block(move || verify_live_log(&state, checked_at_ms))
        .await
        .map_err(|error| Error::internal("verify the log", error))??;
    Ok(HttpResponse::Ok().json(verification))
}

/// Verifies every record of the store's current log generation.
pub fn verify_live_log(state: &ApiState, checked_at_ms: u64) -> Result<Verification> {
    let log = state.store.log();
    verify_committed(
        log.read_from(1),
        log.generation(),
        log.path(),
        checked_at_ms,
    )
    .map_err(Error::store("verify the log"))
}

/// Verifies committed records of one generation, in order (the log at `path`, for messages).
pub fn verify_committed(
    records: impl Iterator<Item = store::Result<Committed>>,
    generation: u64,
    path: &std::path::Path,
    checked_at_ms: u64,
) -> store::Result<Verification> {
    let started = Instant::now();
    let mut report = VerifyReport {
        generation,
        ..VerifyReport::default()
    };
    let mut previous: Option<RecordHash> = None;
    let rebuilt = records.map(|record| rebuild(path, record?, &mut previous));
    let bad = verify_records(rebuilt, &mut report, &mut |_| {})?;
    if let Some(bad) = &bad {
        tracing::error!(seq = bad.seq, problem = %bad.problem, "the live log failed verification");
    }
    Ok(Verification {
        valid: bad.is_none(),
        generation: report.generation,
        records: report.records,
        first_seq: report.first_seq,
        head_seq: report.head_seq,
        head_hash: report.head_hash.map(|hash| hash.to_string()),
        snapshots: report.snapshots,
        bad_seq: bad.as_ref().map(|bad| bad.seq),
        problem: bad.map(|bad| bad.problem),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        checked_at_ms,
    })
}

/// The stored bytes of `record`, rebuilt on the previous record's hash and checked against the
/// record's own hash.
fn rebuild(
    path: &std::path::Path,
    record: Committed,
    previous: &mut Option<RecordHash>,
) -> store::Result<(u64, Vec<u8>)> {
    let corrupt = |reason: String| store::Error::CorruptRecord {
        path: PathBuf::from(path),
        seq: record.seq,
        reason,
    };
    if record.schema_version != CURRENT_SCHEMA_VERSION {
        return Err(corrupt(format!(
            "schema version {} cannot be re-encoded by this Whirl (it writes {CURRENT_SCHEMA_VERSION}); verify a stopped server's log with `whirl log verify`",
            record.schema_version
        )));
    }
    let payload = encode_payload(&record.event)
        .map_err(|error| corrupt(format!("its event does not encode again: {error}")))?;
    let header = EnvelopeHeader {
        seq: record.seq,
        time_ms: record.time_ms,
        schema_version: record.schema_version,
        prev_hash: previous.unwrap_or(RecordHash::GENESIS),
    };
    let bytes = envelope::encode(&header, &payload);
    if RecordHash::of(&bytes) != record.hash {
        return Err(corrupt(match previous {
            Some(previous) => format!(
                "hash chain broken: the record does not name {previous} (the previous record's hash) as its predecessor, or its contents changed since it was written"
            ),
            None => "the first record of the generation does not name zeros as its predecessor, or its contents changed since it was written".into(),
        }));
    }
    *previous = Some(record.hash);
    Ok((record.seq, bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;
    use std::sync::Arc;
    use store::{ChangedBy, CommitMode, Event, EventLog, InMemoryEventLog, SystemClock};

    fn revoked(n: u128) -> Event {
        Event::ApiKeyRevoked {
            namespace: "guest".into(),
            uuid: uuid::Uuid::from_u128(n),
            by: ChangedBy::Admin,
        }
    }

    /// Five committed records of a real (in-memory) log.
    fn records() -> Vec<Committed> {
        let log = InMemoryEventLog::new("test-log", Arc::new(SystemClock), CommitMode::Immediate);
        for n in 1..=5 {
            log.append(vec![revoked(n)]).wait().unwrap();
        }
        log.read_from(1).map(|record| record.unwrap()).collect()
    }

    fn verify(records: Vec<Committed>) -> Verification {
        verify_committed(records.into_iter().map(Ok), 1, Path::new("test-log"), 0).unwrap()
    }

    #[test]
    fn an_intact_log_verifies_with_its_head_hash() {
        let records = records();
        let head = records.last().unwrap().hash.to_string();
        let verification = verify(records);
        assert!(verification.valid, "{verification:?}");
        assert_eq!(verification.records, 5);
        assert_eq!(verification.head_seq, Some(5));
        assert_eq!(verification.head_hash, Some(head));
    }

    #[test]
    fn a_changed_or_removed_record_is_named() {
        let mut changed = records();
        changed[2].event = revoked(99);
        let verification = verify(changed);
        assert!(!verification.valid);
        assert_eq!(verification.bad_seq, Some(3));
        assert!(verification.problem.unwrap().contains("hash chain broken"));

        let mut removed = records();
        removed.remove(1);
        let verification = verify(removed);
        assert_eq!(verification.bad_seq, Some(3), "{verification:?}");

        let mut moved = records();
        moved[3].time_ms += 1;
        assert_eq!(verify(moved).bad_seq, Some(4));
    }
}
