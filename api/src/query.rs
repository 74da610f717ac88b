//! Query parameters (`skip`, `limit`, `count`, `docs`, `since`, `upto`, `code`, `overwrite`,
//! `blocking`, `result`, `timeout`, `force`, `name`), parsed with messages that say what to fix.

use crate::error::{Error, Result};
use actix_web::HttpRequest;

/// The query string of one request, decoded.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the request's query string.
    pub fn of(request: &HttpRequest) -> Result<Self> {
        let text = request.query_string();
        if text.is_empty() {
            return Ok(Self::default());
        }
        let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(text)
            .map_err(|error| Error::bad(format!("The query string is malformed: {error}")))?
            .into_inner();
        Ok(Self { pairs })
    }

    /// The raw value of `name` (the last one given).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// A boolean parameter (`true` or `false`; absent is `default`).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some("true") | Some("") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(Error::bad(format!(
                "The query parameter '{name}' must be true or false, not '{other}'."
            ))),
        }
    }

    /// A non-negative integer parameter.
    pub fn number(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => text.parse::<u64>().map(Some).map_err(|_| {
                Error::bad(format!(
                    "The query parameter '{name}' must be a non-negative integer, not '{text}'."
                ))
            }),
        }
    }

    /// `skip` and `limit` of a list (`limit` 0 means the maximum; above it is refused).
    pub fn page(&self, default_limit: usize, max_limit: usize) -> Result<(usize, usize)> {
        let skip = self.number("skip")?.unwrap_or(0);
        let limit = match self.number("limit")? {
            None => default_limit as u64,
            Some(0) => max_limit as u64,
            Some(limit) if limit > max_limit as u64 => {
                return Err(Error::bad(format!(
                    "The value '{limit}' is not in the range of 0 to {max_limit} for the query parameter 'limit'."
                )))
            }
            Some(limit) => limit,
        };
        Ok((
            usize::try_from(skip).unwrap_or(usize::MAX),
            usize::try_from(limit).unwrap_or(max_limit),
        ))
    }
}
