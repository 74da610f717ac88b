//! The trace of a run: every processed event rendered as one canonical line, folded into an FNV-1a
//! 64 hash (equal on every run of the same seed), with the last lines kept to explain a failure.

use std::collections::VecDeque;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The running trace hash and the most recent lines.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    lines: u64,
    recent: VecDeque<String>,
    keep: usize,
    verbose: bool,
}

impl Trace {
    /// A trace keeping the last `keep` lines; `verbose` also prints every line to stdout.
    pub fn new(keep: usize, verbose: bool) -> Self {
        Trace {
            hash: FNV_OFFSET_BASIS,
            lines: 0,
            recent: VecDeque::with_capacity(keep),
            keep,
            verbose,
        }
    }

    /// Adds one line (without its newline) to the hash and the recent lines.
    pub fn record(&mut self, line: String) {
        for &byte in line.as_bytes().iter().chain(std::iter::once(&b'\n')) {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
        self.lines += 1;
        if self.verbose {
            println!("{line}");
        }
        if self.keep > 0 {
            if self.recent.len() == self.keep {
                self.recent.pop_front();
            }
            self.recent.push_back(line);
        }
    }

    /// The FNV-1a 64 hash of every line so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// How many lines were recorded.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The last lines, oldest first.
    pub fn recent(&self) -> Vec<String> {
        self.recent.iter().cloned().collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a_of_the_lines_and_recent_is_bounded() {
        let mut t = Trace::new(2, false);
        assert_eq!(t.hash(), FNV_OFFSET_BASIS);
        t.record("a".into());
        // FNV-1a 64 of "a\n".
        let mut h = FNV_OFFSET_BASIS;
        for b in b"a\n" {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        assert_eq!(t.hash(), h);
        t.record("b".into());
        t.record("c".into());
        assert_eq!(t.recent(), vec!["b".to_string(), "c".to_string()]);
        assert_eq!(t.lines(), 3);
        let mut other = Trace::new(0, false);
        for l in ["a", "b", "c"] {
            other.record(l.into());
        }
        assert_eq!(other.hash(), t.hash());
        assert!(other.recent().is_empty());
    }
}
