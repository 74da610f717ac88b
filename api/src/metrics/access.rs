//! Who may read `/metrics`. Its labels name every namespace's functions, so unlike OpenFaaS's
//! single-tenant gateway Whirl does not serve it to anyone: a peer on the loopback interface
//! may always read it (the host's operator); any other peer must send
//! `Authorization: Bearer <metrics token>` (`whirl serve --metrics-token`, so a Prometheus
//! elsewhere gets a read-only token, not the operator's admin token); without a configured
//! token, other peers are refused.

use crate::error::{Error, Result};
use std::net::IpAddr;

/// The token a remote scraper presents. Only its blake3 hash is kept; `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken {
    hash: blake3::Hash,
}

impl MetricsToken {
    /// The token `secret` (surrounding whitespace ignored).
    pub fn new(secret: &str) -> Self {
        Self {
            hash: blake3::hash(secret.trim().as_bytes()),
        }
    }

    /// Whether `given` is the token (one hash and a constant-time compare).
    fn matches(&self, given: &[u8]) -> bool {
        blake3::hash(given.trim_ascii()) == self.hash
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

/// Whether a request from `peer` with `authorization` may read the metrics.
pub fn authorize(
    peer: Option<IpAddr>,
    authorization: Option<&[u8]>,
    token: Option<&MetricsToken>,
) -> Result<()> {
    if peer.is_some_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback()) {
        return Ok(());
    }
    let Some(token) = token else {
        return Err(Error::Forbidden(
            "/metrics (from outside the host: start the server with --metrics-token)".into(),
        ));
    };
    let header = authorization.ok_or(Error::AuthenticationMissing)?;
    let given = header
        .strip_prefix(b"Bearer ")
        .ok_or(Error::AuthenticationInvalid(
            "/metrics takes 'Authorization: Bearer <metrics token>'",
        ))?;
    if token.matches(given) {
        Ok(())
    } else {
        Err(Error::AuthenticationInvalid("wrong metrics token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn loopback_reads_freely_others_need_the_token() {
        let remote = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)));
        let token = MetricsToken::new("s3cret\n");
        assert!(authorize(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), None, None).is_ok());
        assert!(authorize(Some(IpAddr::V6(Ipv6Addr::LOCALHOST)), None, None).is_ok());
        let mapped = Ipv4Addr::LOCALHOST.to_ipv6_mapped();
        assert!(authorize(Some(IpAddr::V6(mapped)), None, None).is_ok());

        assert!(matches!(
            authorize(remote, Some(b"Bearer s3cret"), None),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            authorize(None, None, Some(&token)),
            Err(Error::AuthenticationMissing)
        ));
        assert!(matches!(
            authorize(remote, Some(b"Basic abc"), Some(&token)),
            Err(Error::AuthenticationInvalid(_))
        ));
        assert!(matches!(
            authorize(remote, Some(b"Bearer wrong"), Some(&token)),
            Err(Error::AuthenticationInvalid("wrong metrics token"))
        ));
        assert!(authorize(remote, Some(b"Bearer s3cret"), Some(&token)).is_ok());
        assert_eq!(format!("{token:?}"), "MetricsToken(..)");
    }
}
