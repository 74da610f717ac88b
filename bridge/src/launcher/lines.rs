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
    /// The line being read (kept across cancelled calls, so `next_line` is cancel safe).
    kept: Vec<u8>,
    full_len: usize,
    seen_any: bool,
}

impl<R: AsyncRead + Unpin> BoundedLines<R> {
    pub fn new(reader: R, max: Arc<AtomicUsize>) -> Self {
        BoundedLines {
            reader: BufReader::with_capacity(64 * 1024, reader),
            max,
            kept: Vec::new(),
            full_len: 0,
            seen_any: false,
        }
    }

    /// The next line without its `\n`, or `None` at end of stream. Cancel safe: a call
    /// dropped mid-line loses nothing, the next call goes on with the same line.
    pub async fn next_line(&mut self) -> io::Result<Option<BoundedLine>> {
        loop {
            let max = self.max.load(Ordering::Relaxed);
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                if !self.seen_any {
                    return Ok(None);
                }
                return Ok(Some(self.take_line()));
            }
            self.seen_any = true;
            let newline = available.iter().position(|b| *b == b'\n');
            let chunk = match newline {
                Some(at) => &available[..at],
                None => available,
            };
            let room = max.saturating_sub(self.kept.len()).min(chunk.len());
            self.kept.extend_from_slice(&chunk[..room]);
            self.full_len += chunk.len();
            let consumed = newline.map_or(available.len(), |at| at + 1);
            self.reader.consume(consumed);
            if newline.is_some() {
                return Ok(Some(self.take_line()));
            }
        }
    }

    fn take_line(&mut self) -> BoundedLine {
        let line = finish(std::mem::take(&mut self.kept), self.full_len);
        self.full_len = 0;
        self.seen_any = false;
        line
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
    async fn a_cancelled_read_loses_nothing() {
        use tokio::io::AsyncWriteExt;
        let (mut writer, reader) = tokio::io::duplex(64);
        let mut lines = BoundedLines::new(reader, Arc::new(AtomicUsize::new(100)));
        writer.write_all(b"hel").await.unwrap();
        let cancelled =
            tokio::time::timeout(std::time::Duration::from_millis(20), lines.next_line()).await;
        assert!(cancelled.is_err(), "no full line yet");
        writer.write_all(b"lo\nnext\n").await.unwrap();
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "hello");
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "next");
    }

    #[tokio::test]
    async fn empty_lines_are_lines() {
        let mut lines = reader(b"\n\n", 4);
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "");
        assert_eq!(lines.next_line().await.unwrap().unwrap().text, "");
        assert_eq!(lines.next_line().await.unwrap(), None);
    }
}
