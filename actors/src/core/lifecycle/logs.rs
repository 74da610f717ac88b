//! Log limit: keeps log lines while their total size fits, then appends OpenWhisk's marker line.

use crate::core::lifecycle::messages;

/// Keeps lines while the running total of `line bytes + 1` (the newline) stays within
/// `limit_bytes`; at the first line that would exceed it, drops it and every later line and appends
/// the marker "Logs were truncated because the total bytes size exceeds the limit of N bytes.".
/// Returns the kept lines and whether they were truncated.
pub fn limit_logs(lines: Vec<String>, limit_bytes: u64) -> (Vec<String>, bool) {
    let mut total = 0u64;
    let mut kept = Vec::with_capacity(lines.len());
    for line in lines {
        total = total.saturating_add(line.len() as u64 + 1);
        if total > limit_bytes {
            kept.push(messages::truncated_logs(limit_bytes));
            return (kept, true);
        }
        kept.push(line);
    }
    (kept, false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn under_the_limit_everything_is_kept() {
        let (kept, truncated) = limit_logs(lines(&["abc", "de"]), 7);
        assert_eq!(kept, lines(&["abc", "de"]));
        assert!(!truncated);
    }

    #[test]
    fn the_first_line_over_the_limit_and_the_rest_are_replaced_by_the_marker() {
        let (kept, truncated) = limit_logs(lines(&["abc", "de", "f", "g"]), 6);
        assert!(truncated);
        assert_eq!(
            kept,
            lines(&[
                "abc",
                "Logs were truncated because the total bytes size exceeds the limit of 6 bytes."
            ])
        );
    }

    #[test]
    fn zero_limit_keeps_only_the_marker() {
        let (kept, truncated) = limit_logs(lines(&["x"]), 0);
        assert!(truncated);
        assert_eq!(kept.len(), 1);
        let (kept, truncated) = limit_logs(Vec::new(), 0);
        assert!(!truncated);
        assert!(kept.is_empty());
    }
}
