//! Query parameters (`skip`, `limit`, `count`, `docs`, `since`, `upto`, `code`, `overwrite`,
//! `blocking`, `result`, `timeout`, `force`, `name`), parsed with messages that say what to fix.
//! A parameter read as one value may be given once.

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

    /// The raw value of `name`, a parameter the server reads as one value: given twice
    /// (`?skip=1&skip=2`) it is refused rather than one of them silently chosen. (A web action's
    /// parameters are read as `pairs` instead: there a name may repeat.)
    pub fn value(&self, name: &str) -> Result<Option<&str>> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(Error::bad(format!(
                "The query parameter '{name}' is given more than once."
            )));
        }
        Ok(first)
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// A boolean parameter (`true` or `false`; absent is `default`).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.value(name)? {
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
        match self.value(name)? {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    fn query(text: &str) -> Query {
        Query::of(&TestRequest::with_uri(&format!("/x?{text}")).to_http_request()).unwrap()
    }

    #[test]
    fn a_parameter_read_as_one_value_may_be_given_once() {
        assert_eq!(query("skip=3").number("skip").unwrap(), Some(3));
        let error = query("skip=1&skip=2").number("skip").unwrap_err();
        assert!(
            error.to_string().contains("given more than once"),
            "{error}"
        );
        assert!(query("blocking=true&blocking=true")
            .flag("blocking", false)
            .is_err());
        // A web action's parameters may repeat: they are read as pairs.
        assert_eq!(query("a=1&a=2").pairs().len(), 2);
    }
}
