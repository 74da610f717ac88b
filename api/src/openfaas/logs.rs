//! `GET /system/logs?name=&namespace=&since=&tail=&follow=`: a function's logs as OpenFaaS's
//! gateway streams them, one JSON object per line (`{name, namespace, instance, timestamp,
//! text}`), oldest first. The lines are the activation logs the records already hold (`instance`
//! is the activation id: Whirl records which activation wrote a line, not which container);
//! `since` (RFC 3339, or unix seconds) keeps lines at or after it, `tail` the last N of them, and
//! `follow=true` keeps the stream open with the lines of every new record, fed by a subscription
//! to the event log.

use super::auth::system_caller;
use super::text::bad_request;
use crate::query::Query;
use crate::state::ApiState;
use crate::wire::FunctionLogLine;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use store::{ActivationDoc, ActivationQuery, Event, EventLog, Subscription};

/// Records read from the log per batch while following.
const BATCH: usize = 256;

/// The query of a logs request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsQuery {
    pub name: String,
    /// Unix ms.
    pub since_ms: Option<u64>,
    pub tail: Option<usize>,
    pub follow: bool,
}

/// Unix ms of an RFC 3339 UTC time (`2026-11-27T01:02:03.5Z`, `+00:00` also taken) or of unix
/// seconds.
pub fn parse_since(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return seconds.checked_mul(1000);
    }
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.split('-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.split(':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (
        clock_parts.next()??,
        clock_parts.next()??,
        clock_parts.next()??,
    );
    let millis: i64 = format!("{fraction:0<3}")
        .get(..3)
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis;
    u64::try_from(ms).ok()
}

fn logs_query(request: &HttpRequest) -> Result<LogsQuery, Box<HttpResponse>> {
    let bad = |message: String| Box::new(bad_request(message));
    let query = Query::of(request).map_err(|error| bad(format!("{error}\n")))?;
    let value = |name: &str| query.value(name).map_err(|error| bad(format!("{error}\n")));
    let name = value("name")?
        .filter(|name| !name.is_empty())
        .ok_or_else(|| bad("the name of the function is required\n".to_owned()))?
        .to_owned();
    let since_ms = match value("since")?.filter(|since| !since.is_empty()) {
        None => None,
        Some(since) => Some(
            parse_since(since)
                .ok_or_else(|| bad(format!("since is not an RFC 3339 time: {since}\n")))?,
        ),
    };
    let tail = match value("tail")?.filter(|tail| !tail.is_empty()) {
        None => None,
        Some(tail) => match tail.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            Err(_) => return Err(bad(format!("tail is not a number: {tail}\n"))),
        },
    };
    let follow = matches!(value("follow")?, Some("true" | "1"));
    Ok(LogsQuery {
        name,
        since_ms,
        tail,
        follow,
    })
}

/// The lines of one record, with their time in unix ms (for `since`).
pub fn lines_of(doc: &ActivationDoc) -> Vec<(u64, FunctionLogLine)> {
    doc.logs
        .iter()
        .map(|line| {
            let (timestamp, rest) = line.split_once(' ').unwrap_or(("", line.as_str()));
            let text = rest
                .strip_prefix("stdout: ")
                .or_else(|| rest.strip_prefix("stderr: "))
                .unwrap_or(rest);
            let at = parse_since(timestamp).unwrap_or(doc.start_ms);
            (
                at,
                FunctionLogLine {
                    name: doc.name.clone(),
                    namespace: doc.namespace.clone(),
                    instance: doc.activation_id.to_string(),
                    timestamp: if timestamp.is_empty() {
                        bridge::format_rfc3339_nanos(
                            std::time::UNIX_EPOCH + std::time::Duration::from_millis(doc.start_ms),
                        )
                    } else {
                        timestamp.to_owned()
                    },
                    text: text.to_owned(),
                },
            )
        })
        .collect()
}

fn ndjson(line: &FunctionLogLine) -> Bytes {
    let mut text = serde_json::to_string(line).unwrap_or_default();
    text.push('\n');
    Bytes::from(text)
}

/// The stream state of a followed request.
struct Follow {
    subscription: Subscription,
    namespace: String,
    name: String,
    /// Records already sent from the history.
    sent: HashSet<store::ActivationId>,
    pending: VecDeque<Bytes>,
}

impl Follow {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some(chunk);
            }
            let batch = self.subscription.next_batch_async(BATCH).await.ok()?;
            if batch.is_empty() {
                return None;
            }
            for record in &batch {
                if let Event::ActivationRecorded(doc) = &record.event {
                    if doc.namespace == self.namespace
                        && doc.name == self.name
                        && doc.package.is_none()
                        && !self.sent.contains(&doc.activation_id)
                    {
                        self.pending
                            .extend(lines_of(doc).iter().map(|(_, line)| ndjson(line)));
                    }
                }
            }
        }
    }
}

/// `GET /system/logs`.
pub async fn function_logs(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    let caller = match system_caller(&state, &request) {
        Ok(caller) => caller,
        Err(answer) => return *answer,
    };
    let query = match logs_query(&request) {
        Ok(query) => query,
        Err(answer) => return *answer,
    };
    let namespace = caller.namespace.to_string();
    let head = state.store.head_seq();
    // Read what was committed before the request (a record just answered may not be applied).
    if let Err(error) = state.store.projections().wait_applied_async(head).await {
        return super::text::from_error(&crate::error::Error::store("catch up the projections")(
            error,
        ));
    }
    let records = match state.store.projections().list_activations(
        &namespace,
        &ActivationQuery {
            name: Some(query.name.clone()),
            since_ms: query.since_ms.map(|since| since.saturating_sub(60_000)),
            ..ActivationQuery::default()
        },
    ) {
        Ok(records) => records,
        Err(error) => {
            return super::text::from_error(&crate::error::Error::store("read activation logs")(
                error,
            ))
        }
    };
    let mut history: Vec<(u64, FunctionLogLine)> = records
        .iter()
        .rev()
        .filter(|doc| doc.package.is_none())
        .flat_map(lines_of)
        .filter(|(at, _)| query.since_ms.is_none_or(|since| *at >= since))
        .collect();
    history.sort_by_key(|(at, _)| *at);
    if let Some(tail) = query.tail {
        let skip = history.len().saturating_sub(tail);
        history.drain(..skip);
    }
    let pending: VecDeque<Bytes> = history.iter().map(|(_, line)| ndjson(line)).collect();
    let response = HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("X-Accel-Buffering", "no"))
        .take();
    let mut response = response;
    if !query.follow {
        let body: Vec<u8> = pending.iter().flat_map(|chunk| chunk.to_vec()).collect();
        return response.body(body);
    }
    let follow = Follow {
        subscription: state.store.log().subscribe(head + 1),
        namespace,
        name: query.name,
        sent: records.iter().map(|doc| doc.activation_id).collect(),
        pending,
    };
    let body = futures::stream::unfold(follow, |mut follow| async move {
        let chunk = follow.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), follow))
    });
    response.streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_rfc3339_and_unix_seconds() {
        assert_eq!(parse_since("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_since("2026-11-27T01:02:03.5Z"),
            Some(1_795_741_323_500)
        );
        assert_eq!(
            parse_since("2026-11-27T01:02:03.123456789Z"),
            Some(1_795_741_323_123)
        );
        assert_eq!(
            parse_since("2000-03-01T00:00:00+00:00"),
            Some(951_868_800_000)
        );
        assert_eq!(parse_since("1795741323"), Some(1_795_741_323_000));
        assert_eq!(parse_since("yesterday"), None);
    }
}
