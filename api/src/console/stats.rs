//! `GET /console/api/stats[?minutes=N]`: what the console plots, over the last `N` minutes
//! (default 60, at most 1440) of the signed-in namespace's activations, in 60 buckets: per bucket
//! the invocations, errors (any status but success), cold starts (records with an `initTime`
//! annotation) and warm starts, and the p50 and p99 of the duration; the same in total; overall
//! and per function (activation name, `pkg/name` inside a package). It also carries the
//! container pool of this process's invoker (`actors::invoker_actor::GetInvokerStats`): counts
//! only, shared by every namespace.

use super::{answer, caller};
use crate::error::{Error, Result};
use crate::query::Query;
use crate::state::ApiState;
use actix_web::{web, HttpRequest, HttpResponse};
use actors::invoker_actor::GetInvokerStats;
use serde::Serialize;
use std::collections::BTreeMap;
use store::{ActivationDoc, ActivationQuery, ActivationStatus};

/// Buckets per window.
pub const BUCKETS: u64 = 60;
/// The most records one request aggregates (the newest; `truncated` says when there were more).
pub const MAX_RECORDS: usize = 50_000;

/// The series of one function, or of all of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Series {
    pub invocations: Vec<u64>,
    pub errors: Vec<u64>,
    pub cold: Vec<u64>,
    pub warm: Vec<u64>,
    /// Duration percentiles in ms; `None` for a bucket without activations.
    pub p50_ms: Vec<Option<u64>>,
    pub p99_ms: Vec<Option<u64>>,
    pub total: Totals,
}

/// Sums over the whole window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub invocations: u64,
    pub errors: u64,
    pub cold: u64,
    pub warm: u64,
    pub p50_ms: Option<u64>,
    pub p99_ms: Option<u64>,
    /// The start of the newest activation in the window.
    pub last_start_ms: Option<u64>,
}

/// The pool of this process's invoker.
#[derive(Debug, Clone, Serialize)]
pub struct PoolState {
    /// Containers by state: `starting`, `prewarmed`, `running`, `ready` (warm, idle), `paused`.
    pub containers: BTreeMap<String, usize>,
    pub queue_depth: usize,
    pub in_flight: usize,
    pub cold_starts: u64,
    pub warm_starts: u64,
    pub prewarm_starts: u64,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub namespace: String,
    pub from_ms: u64,
    pub to_ms: u64,
    pub bucket_ms: u64,
    /// More records than [`MAX_RECORDS`] were in the window; the oldest were left out.
    pub truncated: bool,
    pub overall: Series,
    pub functions: BTreeMap<String, Series>,
    /// `None` when this process runs no invoker (a controller of a multi-node deployment).
    pub pool: Option<PoolState>,
}

/// `GET /console/api/stats`.
pub async fn show(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let result = stats(&request, state).await;
    answer(&request, result)
}

/// The window of the statistics when `minutes` is not given, and the longest one (a day).
pub const DEFAULT_MINUTES: u64 = 60;
pub const MAX_MINUTES: u64 = 1440;

async fn stats(request: &HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse> {
    let caller = caller(&state, request)?;
    let minutes = match Query::of(request)?.number("minutes")? {
        None => DEFAULT_MINUTES,
        Some(minutes @ 1..=MAX_MINUTES) => minutes,
        Some(other) => {
            return Err(Error::bad(format!(
                "The query parameter 'minutes' must be between 1 and {MAX_MINUTES}, not '{other}'."
            )))
        }
    };
    let namespace = caller.namespace.to_string();
    let to_ms = state.now_ms();
    let window = Window::ending_at(to_ms, minutes * 60_000);
    // Every record acknowledged before this call is counted (the projector gathers activations
    // for a few milliseconds; waiting for the head makes it commit them).
    state
        .store
        .projections()
        .wait_applied_async(state.store.head_seq())
        .await
        .map_err(Error::store("apply the log to the activation indexes"))?;
    let reading = state.clone();
    let query_namespace = namespace.clone();
    let docs = web::block(move || {
        reading.store.projections().list_activations(
            &query_namespace,
            &ActivationQuery {
                since_ms: Some(window.from_ms),
                limit: MAX_RECORDS + 1,
                ..ActivationQuery::default()
            },
        )
    })
    .await
    .map_err(|error| Error::internal("read activations", error))?
    .map_err(Error::store("read activations"))?;
    let truncated = docs.len() > MAX_RECORDS;
    let (overall, functions) = aggregate(&docs[..docs.len().min(MAX_RECORDS)], &window);
    let pool = match state.invoker() {
        Some(invoker) => {
            let stats = invoker
                .send(GetInvokerStats)
                .await
                .map_err(|error| Error::internal("reach the invoker", error))?;
            Some(PoolState {
                containers: stats
                    .containers
                    .iter()
                    .map(|(state, count)| (format!("{state:?}").to_lowercase(), *count))
                    .collect(),
                queue_depth: stats.queue_depth,
                in_flight: stats.in_flight,
                cold_starts: stats.counters.cold_starts,
                warm_starts: stats.counters.warm_starts,
                prewarm_starts: stats.counters.prewarm_starts,
            })
        }
        None => None,
    };
    Ok(HttpResponse::Ok().json(Stats {
        namespace,
        from_ms: window.from_ms,
        to_ms,
        bucket_ms: window.bucket_ms,
        truncated,
        overall,
        functions,
        pool,
    }))
}

/// The time the plots cover, cut into [`BUCKETS`] buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from_ms: u64,
    pub bucket_ms: u64,
}

impl Window {
    /// The `length_ms` before `to_ms`.
    pub fn ending_at(to_ms: u64, length_ms: u64) -> Self {
        let bucket_ms = (length_ms / BUCKETS).max(1);
        Self {
            from_ms: to_ms.saturating_sub(bucket_ms * BUCKETS),
            bucket_ms,
        }
    }

    fn bucket(&self, start_ms: u64) -> Option<usize> {
        let index = start_ms.checked_sub(self.from_ms)? / self.bucket_ms;
        (index < BUCKETS).then_some(index as usize)
    }
}

/// Whether an activation initialized its container (the `initTime` annotation).
fn cold(doc: &ActivationDoc) -> bool {
    match doc.annotations.to_value() {
        Ok(serde_json::Value::Array(items)) => items.iter().any(|item| item["key"] == "initTime"),
        _ => false,
    }
}

/// The function an activation belongs to: `name`, or `package/name`.
fn function_of(doc: &ActivationDoc) -> String {
    match &doc.package {
        Some(package) => format!("{package}/{}", doc.name),
        None => doc.name.clone(),
    }
}

/// Collects the series; activations outside the window are ignored.
pub fn aggregate(docs: &[ActivationDoc], window: &Window) -> (Series, BTreeMap<String, Series>) {
    let mut overall = Accumulator::default();
    let mut functions: BTreeMap<String, Accumulator> = BTreeMap::new();
    for doc in docs {
        let Some(bucket) = window.bucket(doc.start_ms) else {
            continue;
        };
        overall.add(bucket, doc);
        functions
            .entry(function_of(doc))
            .or_default()
            .add(bucket, doc);
    }
    (
        overall.finish(),
        functions
            .into_iter()
            .map(|(name, accumulator)| (name, accumulator.finish()))
            .collect(),
    )
}

#[derive(Default)]
struct Accumulator {
    buckets: BTreeMap<usize, BucketCounts>,
    last_start_ms: Option<u64>,
}

#[derive(Default)]
struct BucketCounts {
    errors: u64,
    cold: u64,
    durations: Vec<u64>,
}

impl Accumulator {
    fn add(&mut self, bucket: usize, doc: &ActivationDoc) {
        let counts = self.buckets.entry(bucket).or_default();
        counts.durations.push(doc.duration_ms);
        if doc.status != ActivationStatus::Success {
            counts.errors += 1;
        }
        if cold(doc) {
            counts.cold += 1;
        }
        self.last_start_ms = self.last_start_ms.max(Some(doc.start_ms));
    }

    fn finish(self) -> Series {
        let len = BUCKETS as usize;
        let mut series = Series {
            invocations: vec![0; len],
            errors: vec![0; len],
            cold: vec![0; len],
            warm: vec![0; len],
            p50_ms: vec![None; len],
            p99_ms: vec![None; len],
            total: Totals {
                last_start_ms: self.last_start_ms,
                ..Totals::default()
            },
        };
        let mut all = Vec::new();
        for (bucket, mut counts) in self.buckets {
            let invocations = counts.durations.len() as u64;
            series.invocations[bucket] = invocations;
            series.errors[bucket] = counts.errors;
            series.cold[bucket] = counts.cold;
            series.warm[bucket] = invocations - counts.cold;
            counts.durations.sort_unstable();
            series.p50_ms[bucket] = percentile(&counts.durations, 50);
            series.p99_ms[bucket] = percentile(&counts.durations, 99);
            series.total.invocations += invocations;
            series.total.errors += counts.errors;
            series.total.cold += counts.cold;
            all.extend(counts.durations);
        }
        series.total.warm = series.total.invocations - series.total.cold;
        all.sort_unstable();
        series.total.p50_ms = percentile(&all, 50);
        series.total.p99_ms = percentile(&all, 99);
        series
    }
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], percent: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len() as u64).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use store::{ActivationId, JsonText, SemVer};

    fn doc(
        name: &str,
        start_ms: u64,
        duration_ms: u64,
        status: ActivationStatus,
        init: bool,
    ) -> ActivationDoc {
        let annotations = if init {
            r#"[{"key":"initTime","value":12},{"key":"waitTime","value":1}]"#
        } else {
            r#"[{"key":"waitTime","value":1}]"#
        };
        ActivationDoc {
            activation_id: ActivationId(*uuid::Uuid::new_v4().as_bytes()),
            namespace: "guest".into(),
            name: name.into(),
            package: None,
            subject: "guest".into(),
            version: SemVer::INITIAL,
            start_ms,
            end_ms: start_ms + duration_ms,
            duration_ms,
            cause: None,
            status,
            result: JsonText::parse("{}").unwrap(),
            logs: Vec::new(),
            annotations: JsonText::parse(annotations).unwrap(),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), Some(50));
        assert_eq!(percentile(&values, 99), Some(99));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn activations_fall_into_their_minute_per_function_with_cold_and_errors() {
        let window = Window::ending_at(3_600_000, 3_600_000);
        assert_eq!(
            window,
            Window {
                from_ms: 0,
                bucket_ms: 60_000
            }
        );
        let docs = [
            doc("a", 1_000, 100, ActivationStatus::Success, true),
            doc("a", 2_000, 10, ActivationStatus::Success, false),
            doc("b", 61_000, 30, ActivationStatus::ApplicationError, false),
            doc("a", 3_599_999, 20, ActivationStatus::Success, false),
            // Outside the window.
            doc("a", 3_600_000, 20, ActivationStatus::Success, false),
        ];
        let (overall, functions) = aggregate(&docs, &window);
        assert_eq!(overall.total.invocations, 4);
        assert_eq!(overall.total.errors, 1);
        assert_eq!(overall.total.cold, 1);
        assert_eq!(overall.total.warm, 3);
        assert_eq!(overall.invocations[0], 2);
        assert_eq!(overall.invocations[1], 1);
        assert_eq!(overall.invocations[59], 1);
        assert_eq!(overall.p50_ms[0], Some(10));
        assert_eq!(overall.p99_ms[0], Some(100));
        assert_eq!(overall.p50_ms[2], None);
        assert_eq!(functions["a"].total.invocations, 3);
        assert_eq!(functions["a"].total.last_start_ms, Some(3_599_999));
        assert_eq!(functions["b"].errors[1], 1);
        assert_eq!(functions["b"].total.p99_ms, Some(30));
    }
}
