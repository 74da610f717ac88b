//! Reading a projection tree as logical rows: plain rows as sled holds them, paged regions
//! expanded into their rows, all in key order (forwards or backwards), so queries, the
//! row-by-row comparison with a replay and the apply path never see how rows are packed.

use super::keys::{self, TreeId};
use super::pages::{self, Row};
use crate::error::{Error, Result};
use std::ops::Bound;
use std::path::Path;

/// The logical rows of `tree` with keys in `low..=high` (`high` `None`: to the end), in key
/// order, or in reverse key order when `reverse`.
pub(crate) fn rows_in_range<'a>(
    path: &'a Path,
    tree: &sled::Tree,
    id: TreeId,
    low: &[u8],
    high: Option<&[u8]>,
    reverse: bool,
) -> Result<LogicalRows<'a>> {
    // A page stored before `low` may hold rows at or after it.
    let start = match keys::paged_region(id, low) {
        Some(region) => pages::page_for(tree, region, low)
            .map_err(Error::storage("read a projection page", path))?
            .map_or_else(|| low.to_vec(), |(key, _)| key.to_vec().min(low.to_vec())),
        None => low.to_vec(),
    };
    let upper = match high {
        Some(high) => Bound::Included(high.to_vec()),
        None => Bound::Unbounded,
    };
    Ok(LogicalRows {
        path,
        id,
        low: low.to_vec(),
        high: high.map(<[u8]>::to_vec),
        iter: tree.range((Bound::Included(start), upper)),
        buffered: Vec::new().into_iter(),
        reverse,
    })
}

/// Every logical row of `tree` whose key starts with `prefix`, in key order.
pub(crate) fn rows_with_prefix(
    path: &Path,
    tree: &sled::Tree,
    id: TreeId,
    prefix: &[u8],
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for row in rows_in_range(path, tree, id, prefix, None, false)? {
        let row = row?;
        if !row.0.starts_with(prefix) {
            break;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The value of one logical row.
pub(crate) fn get(
    path: &Path,
    tree: &sled::Tree,
    id: TreeId,
    key: &[u8],
) -> Result<Option<Vec<u8>>> {
    match keys::paged_region(id, key) {
        None => Ok(tree
            .get(key)
            .map_err(Error::storage("read a projection row", path))?
            .map(|value| value.to_vec())),
        Some(region) => {
            let Some((page_key, page)) = pages::page_for(tree, region, key)
                .map_err(Error::storage("read a projection page", path))?
            else {
                return Ok(None);
            };
            pages::find(&page, key).map_err(|bad| bad_page(id, &page_key, bad))
        }
    }
}

pub(crate) fn bad_page(id: TreeId, page_key: &[u8], bad: pages::BadPage) -> Error {
    Error::CorruptRow {
        tree: id.name(),
        key: keys::printable(page_key),
        reason: format!("a page of rows does not decode: {}", bad.0),
    }
}

/// Logical rows in key order (see [`rows_in_range`]).
pub(crate) struct LogicalRows<'a> {
    path: &'a Path,
    id: TreeId,
    low: Vec<u8>,
    high: Option<Vec<u8>>,
    iter: sled::Iter,
    buffered: std::vec::IntoIter<Row>,
    reverse: bool,
}

impl LogicalRows<'_> {
    fn in_range(&self, key: &[u8]) -> bool {
        key >= self.low.as_slice() && self.high.as_ref().is_none_or(|high| key <= high.as_slice())
    }
}

impl Iterator for LogicalRows<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffered.next() {
                return Some(Ok(row));
            }
            let entry = if self.reverse {
                self.iter.next_back()
            } else {
                self.iter.next()
            }?;
            let (key, value) = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    return Some(Err(Error::storage("read a projection", self.path)(error)))
                }
            };
            if keys::paged_region(self.id, &key).is_none() {
                if self.in_range(&key) {
                    return Some(Ok((key.to_vec(), value.to_vec())));
                }
                continue;
            }
            let mut rows = match pages::decode(&value) {
                Ok(rows) => rows,
                Err(bad) => return Some(Err(bad_page(self.id, &key, bad))),
            };
            rows.retain(|(key, _)| self.in_range(key));
            if self.reverse {
                rows.reverse();
            }
            self.buffered = rows.into_iter();
        }
    }
}
