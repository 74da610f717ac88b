//! OpenWhisk's activation error messages (from `org.apache.openwhisk.http.Messages`), verbatim.

/// The action's init or run exceeded its time limit.
pub fn timed_out(timeout_ms: u64, during_init: bool) -> String {
    let tail = if during_init {
        " during initialization."
    } else {
        "."
    };
    format!("The action exceeded its time limits of {timeout_ms} milliseconds{tail}")
}

/// The runtime answered `/init` with something other than success and no usable `error` field.
pub fn invalid_init_response(actual: &str) -> String {
    if actual.is_empty() {
        "The action failed during initialization.".to_string()
    } else {
        format!("The action failed during initialization: {actual}")
    }
}

/// The runtime's `/run` answer was not a JSON object.
pub fn invalid_run_response(actual: &str) -> String {
    if actual.is_empty() {
        "The action did not produce a valid JSON response.".to_string()
    } else {
        format!("The action did not produce a valid JSON response: {actual}")
    }
}

/// The runtime's answer was larger than the result limit; `trunk` is its first `max_bytes` bytes.
pub fn truncated_response(trunk: &str, length: u64, max_bytes: u64) -> String {
    format!(
        "The action produced a response that exceeded the allowed length: {length} > {max_bytes} bytes. The truncated response was: {trunk}"
    )
}

/// The marker line appended when logs hit the log limit.
pub fn truncated_logs(limit_bytes: u64) -> String {
    format!("Logs were truncated because the total bytes size exceeds the limit of {limit_bytes} bytes.")
}

/// The action process died during init.
pub const ABNORMAL_INITIALIZATION: &str = "The action did not initialize and exited unexpectedly.";

/// The action process died during run.
pub const ABNORMAL_RUN: &str =
    "The action did not produce a valid response and exited unexpectedly.";

/// The container ran out of memory.
pub const MEMORY_EXHAUSTED: &str = "The action exhausted its memory and was aborted.";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_openwhisks() {
        assert_eq!(
            timed_out(60_000, false),
            "The action exceeded its time limits of 60000 milliseconds."
        );
        assert_eq!(
            timed_out(500, true),
            "The action exceeded its time limits of 500 milliseconds during initialization."
        );
        assert_eq!(
            invalid_run_response(""),
            "The action did not produce a valid JSON response."
        );
        assert_eq!(
            invalid_run_response("42"),
            "The action did not produce a valid JSON response: 42"
        );
        assert_eq!(
            invalid_init_response(""),
            "The action failed during initialization."
        );
        assert_eq!(
            truncated_response("{\"a", 10, 3),
            "The action produced a response that exceeded the allowed length: 10 > 3 bytes. The truncated response was: {\"a"
        );
        assert_eq!(
            truncated_logs(10_485_760),
            "Logs were truncated because the total bytes size exceeds the limit of 10485760 bytes."
        );
    }
}
