//! Packed rows: many logical rows in one sled value (a *page*), because sled's cost is per key
//! written (about 10 µs), not per byte. A paged region (the activation indexes) is a sorted map
//! of logical rows cut into pages; each page is stored under the key of its first row, so the
//! page holding a key is the last sled key at or before it, and pages of a region never overlap.
//!
//! Page layout: one entry per row, in key order, each three LEB128 numbers (bytes shared with
//! the previous key, length of the rest of the key, length of the value) then the rest of the
//! key and the value.

use super::paged_writes::Write;
use super::varint;
use std::ops::Bound;

/// A page is cut once its encoded rows pass this size; small enough that a random insert while
/// following the log rewrites little, large enough that a rebuild writes few keys.
pub(crate) const PAGE_BYTES: usize = 4096;

/// One logical row.
pub(crate) type Row = (Vec<u8>, Vec<u8>);

/// A row read from a page: the key (rebuilt, borrowed from the reader) and the value.
pub(crate) type PageRow<'k, 'v> = (&'k [u8], &'v [u8]);

/// A page that does not decode: the caller names the tree and key.
#[derive(Debug)]
pub(crate) struct BadPage(pub(crate) &'static str);

/// Walks the rows of an encoded page, rebuilding each key in place.
pub(crate) struct PageReader<'a> {
    rest: &'a [u8],
    key: Vec<u8>,
}

impl<'a> PageReader<'a> {
    pub(crate) fn new(page: &'a [u8]) -> Self {
        Self {
            rest: page,
            key: Vec::new(),
        }
    }

    /// The next row as (key, value), borrowed until the next call.
    pub(crate) fn next_row(&mut self) -> Option<Result<PageRow<'_, 'a>, BadPage>> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        self.rest = &[];
        let header = varint::take(rest).and_then(|(shared, rest)| {
            let (suffix, rest) = varint::take(rest)?;
            let (value, rest) = varint::take(rest)?;
            Some((
                usize::try_from(shared).ok()?,
                usize::try_from(suffix).ok()?,
                usize::try_from(value).ok()?,
                rest,
            ))
        });
        let Some((shared, suffix, value, body)) = header else {
            return Some(Err(BadPage("a row header runs past the page's end")));
        };
        if shared > self.key.len() || suffix.saturating_add(value) > body.len() {
            return Some(Err(BadPage("a row's lengths run past the page's end")));
        }
        self.key.truncate(shared);
        self.key.extend_from_slice(&body[..suffix]);
        let value_bytes = &body[suffix..suffix + value];
        self.rest = &body[suffix + value..];
        Some(Ok((&self.key, value_bytes)))
    }
}

/// Decodes every row of a page.
pub(crate) fn decode(page: &[u8]) -> Result<Vec<Row>, BadPage> {
    let mut reader = PageReader::new(page);
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row() {
        let (key, value) = row?;
        rows.push((key.to_vec(), value.to_vec()));
    }
    Ok(rows)
}

/// A page decoded into one buffer (keys rebuilt, values copied): its rows without an
/// allocation per row, for merging at commit, where a rebuild reads thousands of pages.
#[derive(Debug, Default)]
pub(crate) struct DecodedPage {
    bytes: Vec<u8>,
    /// (start, key length, value length) of each row in `bytes`.
    rows: Vec<(usize, usize, usize)>,
}

impl DecodedPage {
    pub(crate) fn decode(page: &[u8]) -> Result<Self, BadPage> {
        let mut decoded = DecodedPage {
            bytes: Vec::with_capacity(page.len() * 2),
            rows: Vec::new(),
        };
        let mut reader = PageReader::new(page);
        while let Some(row) = reader.next_row() {
            let (key, value) = row?;
            decoded
                .rows
                .push((decoded.bytes.len(), key.len(), value.len()));
            decoded.bytes.extend_from_slice(key);
            decoded.bytes.extend_from_slice(value);
        }
        Ok(decoded)
    }

    pub(crate) fn rows(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.rows.iter().map(|&(start, key, value)| {
            (
                &self.bytes[start..start + key],
                &self.bytes[start + key..start + key + value],
            )
        })
    }
}

/// The value of `key` in a page, if the page holds it.
pub(crate) fn find(page: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, BadPage> {
    let mut reader = PageReader::new(page);
    while let Some(row) = reader.next_row() {
        let (found, value) = row?;
        match found.cmp(key) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return Ok(Some(value.to_vec())),
            std::cmp::Ordering::Greater => return Ok(None),
        }
    }
    Ok(None)
}

/// Encodes sorted rows into pages of about [`PAGE_BYTES`] each: (first key, page bytes).
pub(crate) fn encode<'r>(rows: impl IntoIterator<Item = (&'r [u8], &'r [u8])>) -> Vec<Row> {
    let mut pages = Vec::new();
    let mut page: Vec<u8> = Vec::with_capacity(PAGE_BYTES + 256);
    let mut first: Vec<u8> = Vec::new();
    let mut previous: &[u8] = &[];
    for (key, value) in rows {
        if page.len() >= PAGE_BYTES {
            pages.push((std::mem::take(&mut first), std::mem::take(&mut page)));
            page.reserve(PAGE_BYTES + 256);
            previous = &[];
        }
        if page.is_empty() {
            first = key.to_vec();
        }
        let shared = previous.iter().zip(key).take_while(|(a, b)| a == b).count();
        varint::put(&mut page, shared as u64);
        varint::put(&mut page, (key.len() - shared) as u64);
        varint::put(&mut page, value.len() as u64);
        page.extend_from_slice(&key[shared..]);
        page.extend_from_slice(value);
        previous = key;
    }
    if !page.is_empty() {
        pages.push((first, page));
    }
    pages
}

/// Merges sorted `writes` (a value, or `None` to remove) into sorted `rows`.
pub(crate) fn merge<'a>(
    rows: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    writes: &[Write<'a>],
) -> Vec<(&'a [u8], &'a [u8])> {
    let mut merged = Vec::with_capacity(writes.len() * 2);
    let mut rows = rows.peekable();
    for (key, write) in writes {
        while let Some(row) = rows.next_if(|row| row.0 < *key) {
            merged.push(row);
        }
        rows.next_if(|row| row.0 == *key);
        if let Some(value) = write {
            merged.push((key, value));
        }
    }
    merged.extend(rows);
    merged
}

/// The paged region of `tree` that holds `key`: the page stored at or before it, else (a key
/// before every page) the region's first page.
pub(crate) fn page_for(
    tree: &sled::Tree,
    region: &[u8],
    key: &[u8],
) -> sled::Result<Option<(sled::IVec, sled::IVec)>> {
    if let Some((page_key, page)) = tree.range(region..=key).next_back().transpose()? {
        return Ok(Some((page_key, page)));
    }
    tree.scan_prefix(region).next().transpose()
}

/// A page written (`Some`) or removed (`None`) under its key, in the order to apply them.
pub(crate) type PageWrite = (Vec<u8>, Option<Vec<u8>>);

/// Writes `writes` (keys of one region, sorted and unique, values or removals) into the
/// region's pages in `tree`, adding the page inserts and removals to `out`. Each page touched
/// is read once, merged and cut again; a page whose first key changes moves to its new key.
pub(crate) fn write_region(
    tree: &sled::Tree,
    region: &[u8],
    writes: &[Write<'_>],
    out: &mut Vec<PageWrite>,
) -> Result<(), RegionError> {
    let mut at = 0;
    while at < writes.len() {
        let page = page_for(tree, region, writes[at].0).map_err(RegionError::Storage)?;
        let (rows, end) = match page {
            None => (DecodedPage::default(), writes.len()),
            Some((page_key, bytes)) => {
                // The page covers keys up to (not including) the next page's first key.
                let next = tree
                    .range::<&[u8], _>((Bound::Excluded(page_key.as_ref()), Bound::Unbounded))
                    .next()
                    .transpose()
                    .map_err(RegionError::Storage)?
                    .map(|(key, _)| key)
                    .filter(|key| key.starts_with(region));
                let end = match next {
                    Some(next) => {
                        at + writes[at..].partition_point(|(key, _)| *key < next.as_ref())
                    }
                    None => writes.len(),
                };
                let rows = DecodedPage::decode(&bytes)
                    .map_err(|bad| RegionError::BadPage(page_key.to_vec(), bad))?;
                out.push((page_key.to_vec(), None));
                (rows, end)
            }
        };
        let pages = encode(merge(rows.rows(), &writes[at..end]));
        out.extend(pages.into_iter().map(|(first, page)| (first, Some(page))));
        at = end.max(at + 1);
    }
    Ok(())
}

/// Why a region could not be written.
#[derive(Debug)]
pub(crate) enum RegionError {
    Storage(sled::Error),
    BadPage(Vec<u8>, BadPage),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::BTreeMap;

    fn key(n: u32) -> Vec<u8> {
        let mut key = b"r".to_vec();
        key.extend_from_slice(&n.to_be_bytes());
        key
    }

    fn rows_of(tree: &sled::Tree, region: &[u8]) -> Vec<Row> {
        tree.scan_prefix(region)
            .flat_map(|entry| decode(&entry.unwrap().1).unwrap())
            .collect()
    }

    fn write(tree: &sled::Tree, writes: &[(u32, Option<&str>)]) {
        let writes: BTreeMap<Vec<u8>, Option<&[u8]>> = writes
            .iter()
            .map(|(n, value)| (key(*n), value.map(str::as_bytes)))
            .collect();
        let writes: Vec<Write<'_>> = writes.iter().map(|(k, v)| (k.as_slice(), *v)).collect();
        let mut out = Vec::new();
        write_region(tree, b"r", &writes, &mut out).unwrap();
        let mut batch = sled::Batch::default();
        for (key, page) in out {
            match page {
                Some(page) => batch.insert(key, page),
                None => batch.remove(key),
            }
        }
        tree.apply_batch(batch).unwrap();
    }

    #[test]
    fn pages_round_trip_with_shared_prefixes() {
        let rows: Vec<Row> = (0..1000)
            .map(|n| (key(n), format!("value {n}").into_bytes()))
            .collect();
        let pages = encode(rows.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        assert!(pages.len() > 1, "1000 rows are more than one page");
        let mut decoded = Vec::new();
        for (first, page) in &pages {
            assert!(page.len() < PAGE_BYTES + 64);
            let rows = decode(page).unwrap();
            assert_eq!(&rows[0].0, first);
            decoded.extend(rows);
        }
        assert_eq!(decoded, rows);
        assert_eq!(
            find(&pages[0].1, &key(3)).unwrap(),
            Some(b"value 3".to_vec())
        );
        assert_eq!(find(&pages[0].1, &key(5000)).unwrap(), None);
    }

    #[test]
    fn a_truncated_page_is_an_error_not_a_short_read() {
        let pages = encode([(b"ra".as_slice(), b"1".as_slice()), (b"rb", b"2")]);
        let page = &pages[0].1;
        assert!(decode(&page[..page.len() - 1]).is_err());
        assert!(decode(&page[..2]).is_err());
    }

    #[test]
    fn writes_land_in_the_right_pages_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("t").unwrap();
        tree.insert(b"a-plain", b"x".as_slice()).unwrap();
        tree.insert(b"z-plain", b"y".as_slice()).unwrap();
        let mut expected = BTreeMap::new();
        // Appends, then inserts before, between and after existing pages, then removals.
        for round in 0..4u32 {
            let writes: Vec<(u32, Option<&str>)> = (0..2000u32)
                .map(|n| ((n * 7919 + round * 31) % 20_000, Some("v")))
                .collect();
            write(&tree, &writes);
            for (n, _) in &writes {
                expected.insert(key(*n), b"v".to_vec());
            }
        }
        let removals: Vec<(u32, Option<&str>)> = expected
            .keys()
            .step_by(3)
            .map(|k| (u32::from_be_bytes(k[1..].try_into().unwrap()), None))
            .collect();
        write(&tree, &removals);
        for (n, _) in &removals {
            expected.remove(&key(*n));
        }
        let found = rows_of(&tree, b"r");
        assert_eq!(found, expected.into_iter().collect::<Vec<_>>());
        // Pages never overlap and each sits under its first key.
        let mut last_key: Option<Vec<u8>> = None;
        for entry in tree.scan_prefix(b"r") {
            let (page_key, page) = entry.unwrap();
            let rows = decode(&page).unwrap();
            assert_eq!(rows[0].0, page_key.to_vec());
            if let Some(last) = &last_key {
                assert!(rows[0].0 > *last);
            }
            last_key = Some(rows.last().unwrap().0.clone());
        }
        assert_eq!(tree.get(b"a-plain").unwrap().unwrap().as_ref(), b"x");
        assert_eq!(tree.get(b"z-plain").unwrap().unwrap().as_ref(), b"y");
        // Removing every row leaves no page behind.
        let all: Vec<(u32, Option<&str>)> = rows_of(&tree, b"r")
            .iter()
            .map(|(k, _)| (u32::from_be_bytes(k[1..].try_into().unwrap()), None))
            .collect();
        write(&tree, &all);
        assert_eq!(tree.scan_prefix(b"r").count(), 0);
    }
}
