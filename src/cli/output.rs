//! How client subcommands print: `ok: ...` lines and tables for people (like wsk), pretty JSON for
//! `--json` and results, and `error: ...` plus a `hint: ...` on stderr.

use super::client_error::ClientError;
use std::fmt::Write as _;

/// `ok: <message>` on stdout.
pub fn ok(message: &str) {
    println!("ok: {message}");
}

/// A JSON value, pretty-printed (two-space indent, as wsk prints results).
pub fn print_json(value: &serde_json::Value) {
    println!("{}", pretty(value));
}

/// A JSON value as pretty text.
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Prints a failed subcommand to stderr: `error: ...` and, when there is one, `hint: ...`.
pub fn print_error(error: &ClientError) {
    eprintln!("error: {error}");
    if let Some(hint) = error.hint() {
        eprintln!("hint: {hint}");
    }
}

/// Left-aligned text columns; the last column is not padded.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new() -> Self {
        Table::default()
    }

    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table's text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut text = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<width$} ", width = widths[i]);
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC), the activation list's date column.
pub fn datetime(unix_ms: u64) -> String {
    let rfc3339 = store::time_format::format_ms(unix_ms);
    rfc3339.get(..19).unwrap_or(&rfc3339).replace('T', " ")
}

/// A duration in milliseconds, as wsk shows it (`12ms`, `1.5s`).
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        let tenths = ms / 100;
        format!("{}.{}s", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let mut table = Table::new();
        table.row(["/guest/hello", "private", "python:3"]);
        table.row(["/guest/a", "public", "nodejs:20"]);
        assert_eq!(
            table.render(),
            "/guest/hello private python:3\n/guest/a     public  nodejs:20\n"
        );
    }

    #[test]
    fn times_and_durations_read_like_wsk() {
        assert_eq!(datetime(1_714_564_800_123), "2024-05-01 12:00:00");
        assert_eq!(duration(12), "12ms");
        assert_eq!(duration(1_530), "1.5s");
    }
}
