//! `PagedWrites`: the pending writes of paged rows (one or two per activation) between two
//! commits, kept in one byte arena in the order they were made. A rebuild holds hundreds of
//! thousands of them: one allocation per row, and a sort that follows a pointer per comparison,
//! cost more than everything else the rebuild does, so rows are bytes in one buffer and the sort
//! runs over fixed-size entries that carry each key's first 16 bytes.

/// One pending write: where its key and value are in the arena. 32 bytes, so that sorting a
/// million of them moves little memory.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The key's first 16 bytes, big-endian, zero-padded: most comparisons end here.
    head: (u64, u64),
    start: u64,
    key_len: u32,
    /// [`REMOVAL`] for a removal.
    value_len: u32,
}

/// The `value_len` of a removal.
const REMOVAL: u32 = u32::MAX;

/// A write: the row's key, and its value or `None` for a removal.
pub(crate) type Write<'a> = (&'a [u8], Option<&'a [u8]>);

#[derive(Debug, Default)]
pub(crate) struct PagedWrites {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl PagedWrites {
    pub(crate) fn push(&mut self, key: &[u8], value: Option<&[u8]>) {
        let mut head = [0u8; 16];
        let len = key.len().min(16);
        head[..len].copy_from_slice(&key[..len]);
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        if let Some(value) = value {
            self.bytes.extend_from_slice(value);
        }
        let (high, low) = head.split_at(8);
        self.entries.push(Entry {
            head: (
                u64::from_be_bytes(high.try_into().unwrap_or_default()),
                u64::from_be_bytes(low.try_into().unwrap_or_default()),
            ),
            start: start as u64,
            // Rows of 4 GiB cannot reach here: keys and values are built from names.
            key_len: key.len() as u32,
            value_len: value.map_or(REMOVAL, |value| value.len() as u32),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn write(&self, entry: &Entry) -> Write<'_> {
        let start = entry.start as usize;
        let key_end = start + entry.key_len as usize;
        let key = &self.bytes[start..key_end];
        let value = (entry.value_len != REMOVAL)
            .then(|| &self.bytes[key_end..key_end + entry.value_len as usize]);
        (key, value)
    }

    /// The writes in the order they were made.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = Write<'_>> + '_ {
        self.entries.iter().map(|entry| self.write(entry))
    }

    /// The writes sorted by key, the last write of each key winning.
    pub(crate) fn sorted_last_wins(&mut self) -> Vec<Write<'_>> {
        let bytes = &self.bytes;
        let key = |entry: &Entry| {
            &bytes[entry.start as usize..entry.start as usize + entry.key_len as usize]
        };
        // Equal keys keep the order they were written in (`start` grows with each write).
        self.entries.sort_unstable_by(|a, b| {
            a.head
                .cmp(&b.head)
                .then_with(|| key(a).cmp(key(b)))
                .then(a.start.cmp(&b.start))
        });
        let mut sorted: Vec<Write<'_>> = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let write = self.write(entry);
            match sorted.last_mut() {
                Some(last) if last.0 == write.0 => *last = write,
                _ => sorted.push(write),
            }
        }
        sorted
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sorted_by_key_and_the_last_write_wins() {
        let mut writes = PagedWrites::default();
        let long_a = [b"x".repeat(20), b"a".to_vec()].concat();
        let long_b = [b"x".repeat(20), b"b".to_vec()].concat();
        writes.push(b"k2", Some(b"first"));
        writes.push(&long_b, Some(b"B"));
        writes.push(b"k1", Some(b"one"));
        writes.push(b"k2", None);
        writes.push(&long_a, Some(b"A"));
        writes.push(b"k3", None);
        writes.push(b"k3", Some(b"three"));
        assert_eq!(writes.iter().count(), 7);
        let sorted = writes.sorted_last_wins();
        let expected: Vec<Write<'_>> = vec![
            (b"k1", Some(b"one")),
            (b"k2", None),
            (b"k3", Some(b"three")),
            (&long_a, Some(b"A")),
            (&long_b, Some(b"B")),
        ];
        assert_eq!(sorted, expected);
    }
}
