//! Reads lines from a child's pipe or socket without ever holding more than a bounded number
//! of bytes per line: the rest of an overlong line is skipped but counted.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// One line read: its text (cut at the bound, lossy UTF-8) and its real length in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoundedLine {
    pub text: String,
    pub full_len: usize,
}

impl BoundedLine {
    pub fn was_cut(&self) -> bool {
        self.full_len > self.text.len()
    }
}

/// A line reader keeping at most `max` bytes of each line (`max` may change while reading).
pub(crate) struct BoundedLines<R> {
    reader: BufReader<R>,
    max: Arc<AtomicUsize>,
}

impl<R: AsyncRead + Unpin> BoundedLines<R> {
    pub fn new(reader: R, max: Arc<AtomicUsize>) -> Self {
        BoundedLines {
            reader: BufReader::with_capacity(64 * 1024, reader),
            max,
        }
    }

    /// The next line without its `\n`, or `None` at end of stream.
    pub async fn next_line(&mut self) -> io::Result<Option<BoundedLine>> {
        let max = self.max.load(Ordering::Relaxed);
        let mut kept: Vec<u8> = Vec::new();
        let mut full_len = 0usize;
        let mut seen_any = false;
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(seen_any.then(|| finish(kept, full_len)));
            }
            seen_any = true;
            let newline = available.iter().position(|b| *b == b'\n');
            let chunk = match newline {
                Some(at) => &available[..at],
                None => available,
            };
            let room = max.saturating_sub(kept.len()).min(chunk.len());
            kept.extend_from_slice(&chunk[..room]);
            full_len += chunk.len();
            let consumed = newline.map_or(available.len(), |at| at + 1);
            self.reader.consume(consumed);
            if newline.is_some() {
                return Ok(Some(finish(kept, full_len)));
            }
        }
    }
}

fn finish(kept: Vec<u8>, full_len: usize) -> BoundedLine {
    let text = match String::from_utf8(kept) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    };
    BoundedLine { text, full_len }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn reader(data: &'static [u8], max: usize) -> BoundedLines<&'static [u8]> {
        BoundedLines::new(data, Arc::new(AtomicUsize::new(max)))
    }

    #[tokio::test]
    async fn splits_lines_and_keeps_the_last_unterminated_one() {
        let mut lines = reader(b"one\ntwo\nthree", 100);
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "one");
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "two");
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "three");
        assert_eq!(lines.next_line().await.unwrap(), None);
    }

    #[tokio::test]
    async fn cuts_long_lines_but_counts_their_length() {
        let mut lines = reader(b"0123456789\nok\n", 4);
        let long = lines.next_line().await.unwrap().unwrap();
        assert_eq!(long.text, "0123");
        assert_eq!(long.full_len, 10);
        assert!(long.was_cut());
        let short = lines.next_line().await.unwrap().unwrap();
        assert_eq!(short.text, "ok");
        assert!(!short.was_cut());
    }

    #[tokio::test]
    async fn empty_lines_are_lines() {
        let mut lines = reader(b"\n\n", 4);
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "");
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "");
        assert_eq!(lines.next_line().await.unwrap(), None);
    }
}
