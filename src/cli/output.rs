//! How client subcommands print: `ok: ...` lines and tables for people (like wsk), pretty JSON for
//! `--json` and results, and `error: ...` plus a `hint: ...` on stderr.

use super::client_error::ClientError;
use std::fmt::Write as _;
use std::io::Write as _;

/// Writes `text` to stdout as it is. A closed stdout (`whirl ... | head`) ends the process
/// quietly instead of panicking as `print!` would.
pub fn text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// Writes one line to stdout.
pub fn line(line: &str) {
    text(&format!("{line}\n"));
}

/// `ok: <message>` on stdout.
pub fn ok(message: &str) {
    line(&format!("ok: {message}"));
}

/// A JSON value, pretty-printed (two-space indent, as wsk prints results).
pub fn print_json(value: &serde_json::Value) {
    line(&pretty(value));
}

/// Raw JSON from the server, pretty-printed with sorted keys like [`print_json`]; text nested
/// deeper than serde_json parses is re-indented as it came.
pub fn print_raw_json(raw: &serde_json::value::RawValue) {
    match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(value) => print_json(&value),
        Err(_) => print_body(raw.get()),
    }
}

/// A server's JSON body, pretty-printed with its keys in the order the server sent them.
pub fn print_body(body_text: &str) {
    if body_text.trim().is_empty() {
        line("{}");
    } else {
        line(&reindent(body_text));
    }
}

/// Re-indents valid JSON text with two spaces per level, keeping the key order (parsing into
/// `serde_json::Value` would sort the keys).
pub fn reindent(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.trim().chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
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
        text(&self.render());
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
    fn reindenting_keeps_key_order_and_matches_serde_pretty() {
        let raw = r#"{"z":1,"a":{"b":[1,2,{}],"c":[]},"s":"x,{\"y\":[1]}\\"}"#;
        let text = reindent(raw);
        assert!(
            text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap(),
            "{text}"
        );
        let value: serde_json::Value = serde_json::from_str(raw).unwrap();
        let sorted: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, sorted);
        let ordered = r#"{"a":{"b":[1,2,{}],"c":[]},"s":"x,{\"y\":[1]}\\","z":1}"#;
        assert_eq!(reindent(ordered), pretty(&value));
        assert_eq!(reindent(" [ ] "), "[]");
    }

    #[test]
    fn times_and_durations_read_like_wsk() {
        assert_eq!(datetime(1_714_564_800_123), "2024-05-01 12:00:00");
        assert_eq!(duration(12), "12ms");
        assert_eq!(duration(1_530), "1.5s");
    }
}
