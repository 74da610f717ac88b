//! Activation log lines: `<RFC3339 UTC with nanoseconds> stdout|stderr: msg`, and the
//! per-activation collection that cuts the logs at the action's limit with a marker line.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogStream {
    Stdout,
    Stderr,
}

impl LogStream {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        }
    }
}

/// One line an action wrote, stamped when the driver read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub time: SystemTime,
    pub stream: LogStream,
    pub message: String,
}

impl LogLine {
    pub fn new(time: SystemTime, stream: LogStream, message: impl Into<String>) -> Self {
        LogLine {
            time,
            stream,
            message: message.into(),
        }
    }
}

impl fmt::Display for LogLine {
    /// `2026-11-26T20:39:20.123456789Z stdout: msg`, as OpenWhisk records activation logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            format_rfc3339_nanos(self.time),
            self.stream.as_str(),
            self.message
        )
    }
}

/// Formats a time as RFC 3339 in UTC with nine fraction digits (times before 1970 clamp to it).
pub fn format_rfc3339_nanos(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since_epoch.as_secs();
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        of_day / 3600,
        (of_day % 3600) / 60,
        of_day % 60,
        since_epoch.subsec_nanos()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The marker line that ends logs cut at the limit.
pub fn truncation_marker(limit_bytes: usize) -> String {
    format!(
        "Logs were truncated because the total bytes size exceeds the limit of {limit_bytes} bytes."
    )
}

/// The log lines of one activation, cut at `limit_bytes` of message text.
#[derive(Debug, Clone)]
pub struct ActivationLogs {
    lines: Vec<LogLine>,
    bytes: usize,
    limit_bytes: usize,
    truncated: bool,
}

impl ActivationLogs {
    pub fn new(limit_bytes: usize) -> Self {
        ActivationLogs {
            lines: Vec::new(),
            bytes: 0,
            limit_bytes,
            truncated: false,
        }
    }

    /// Adds a line; past the limit, adds the marker once and drops everything after it.
    pub fn push(&mut self, line: LogLine) {
        if self.truncated {
            return;
        }
        if self.bytes + line.message.len() > self.limit_bytes {
            self.truncated = true;
            self.lines.push(LogLine::new(
                line.time,
                LogStream::Stderr,
                truncation_marker(self.limit_bytes),
            ));
            return;
        }
        self.bytes += line.message.len();
        self.lines.push(line);
    }

    pub fn truncated(&self) -> bool {
        self.truncated
    }

    pub fn lines(&self) -> &[LogLine] {
        &self.lines
    }

    pub fn into_lines(self) -> Vec<LogLine> {
        self.lines
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn formats_rfc3339_with_nanoseconds_in_utc() {
        assert_eq!(
            format_rfc3339_nanos(at(0, 0)),
            "1970-01-01T00:00:00.000000000Z"
        );
        // 2026-11-26T20:39:20.123456789Z
        assert_eq!(
            format_rfc3339_nanos(at(1_795_725_560, 123_456_789)),
            "2026-11-26T20:39:20.123456789Z"
        );
        // Leap day and the end of a leap year.
        assert_eq!(
            format_rfc3339_nanos(at(951_782_400, 5)),
            "2000-02-29T00:00:00.000000005Z"
        );
        assert_eq!(
            format_rfc3339_nanos(at(1_735_689_599, 999_999_999)),
            "2024-12-31T23:59:59.999999999Z"
        );
    }

    #[test]
    fn log_line_displays_as_openwhisk_records_it() {
        let line = LogLine::new(at(1_795_725_560, 1), LogStream::Stderr, "boom");
        assert_eq!(
            line.to_string(),
            "2026-11-26T20:39:20.000000001Z stderr: boom"
        );
    }

    #[test]
    fn logs_are_cut_at_the_limit_with_one_marker() {
        let mut logs = ActivationLogs::new(10);
        logs.push(LogLine::new(at(1, 0), LogStream::Stdout, "12345"));
        logs.push(LogLine::new(at(2, 0), LogStream::Stdout, "12345"));
        logs.push(LogLine::new(at(3, 0), LogStream::Stdout, "x"));
        logs.push(LogLine::new(at(4, 0), LogStream::Stdout, "y"));
        assert!(logs.truncated());
        let messages: Vec<&str> = logs.lines().iter().map(|l| l.message.as_str()).collect();
        assert_eq!(messages, vec!["12345", "12345", &truncation_marker(10)]);
    }

    #[test]
    fn logs_under_the_limit_are_kept_whole() {
        let mut logs = ActivationLogs::new(100);
        logs.push(LogLine::new(at(1, 0), LogStream::Stdout, "a"));
        logs.push(LogLine::new(at(1, 0), LogStream::Stderr, "b"));
        assert!(!logs.truncated());
        assert_eq!(logs.into_lines().len(), 2);
    }
}
