//! `ClientError`: what can go wrong in a client subcommand (`whirl action ...`, `whirl trigger ...`,
//! ...), each case naming what failed and, through [`ClientError::hint`], how to fix it.

/// A failed client subcommand.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API host could not be reached (refused, reset, timed out, bad address).
    #[error("cannot reach the Whirl API at {apihost}: {detail}")]
    Unreachable { apihost: String, detail: String },
    /// The server answered with a non-2xx status.
    #[error("{doing}: {message} (code {code})")]
    Api {
        /// What the client was doing, e.g. "Unable to invoke action 'hello'".
        doing: String,
        status: u16,
        /// The server's `error` text.
        message: String,
        /// The server's request id (`code`), or `-` when it sent none.
        code: String,
        /// The noun the request was about (`action`, `trigger`, ...), for the hint.
        noun: &'static str,
        /// A hint the caller knows better than the status's general one.
        hint: Option<String>,
    },
    /// A blocking invocation ran and the action failed (application or developer error).
    #[error("the action {action} failed with {status}{}", detail(message))]
    ActionFailed {
        action: String,
        activation_id: String,
        status: String,
        message: String,
    },
    /// The server answered 2xx but with a body the client cannot read.
    #[error("{doing}: the server's answer is not the expected JSON: {detail}")]
    BadAnswer { doing: String, detail: String },
    /// The client's own configuration (API host, key) is missing or unusable.
    #[error("{message}")]
    Config { message: String, hint: String },
    /// The command line or a file it names is unusable.
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },
    /// A local step of a client command failed (e.g. starting the bench's baseline launchers).
    #[error("{message}")]
    Local {
        message: String,
        hint: Option<String>,
    },
    /// A local file could not be read or written.
    #[error("cannot {doing} {path}: {source}")]
    File {
        doing: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl ClientError {
    /// A bad-input error with a hint.
    pub fn input(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ClientError::Input {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A bad-input error without a hint.
    pub fn input_plain(message: impl Into<String>) -> Self {
        ClientError::Input {
            message: message.into(),
            hint: None,
        }
    }

    /// How to fix it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            ClientError::Unreachable { .. } => Some(
                "start the server with `whirl serve`, or point the client at it with \
                 `whirl property set --apihost http://HOST:PORT` (or WHIRL_APIHOST)"
                    .into(),
            ),
            ClientError::Api {
                status, noun, hint, ..
            } => hint.clone().or_else(|| status_hint(*status, noun)),
            ClientError::ActionFailed { activation_id, .. } => Some(format!(
                "its logs say why: `whirl activation logs {activation_id}`"
            )),
            ClientError::BadAnswer { .. } => Some(
                "check that the API host is a Whirl or OpenWhisk server: `whirl property get`"
                    .into(),
            ),
            ClientError::Config { hint, .. } => Some(hint.clone()),
            ClientError::Input { hint, .. } | ClientError::Local { hint, .. } => hint.clone(),
            ClientError::File { .. } => None,
        }
    }
}

/// `: <message>`, or nothing for an empty message.
fn detail(message: &str) -> String {
    if message.trim().is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn status_hint(status: u16, noun: &str) -> Option<String> {
    match status {
        400 => Some(format!(
            "the server refused the request as malformed; see `whirl {noun} --help`"
        )),
        401 => Some(
            "the key was refused: check it with `whirl property get --auth`; a local \
             `whirl serve` keeps its guest key in <data-dir>/guest.auth"
                .into(),
        ),
        403 => Some("this key may not do that in that namespace: `whirl namespace list`".into()),
        404 => Some(format!(
            "check the name and namespace with `whirl {noun} list`; names are case-sensitive"
        )),
        409 => Some(format!(
            "the {noun} exists already: change it with `whirl {noun} update`, or delete it first"
        )),
        413 => Some("the request is too large: parameters and payloads are limited to 1 MB".into()),
        429 => Some(
            "the namespace is throttled: wait a little, or raise its limits on the server".into(),
        ),
        502 => {
            Some("the action failed; its logs say why: `whirl activation logs --last`".to_string())
        }
        503 => Some("no invoker can take work now: check the server's log".into()),
        500..=599 => Some("the server failed; its log names the request by the code above".into()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn api(status: u16) -> ClientError {
        ClientError::Api {
            doing: "Unable to invoke action 'hello'".into(),
            status,
            message: "The requested resource does not exist.".into(),
            code: "abc".into(),
            noun: "action",
            hint: None,
        }
    }

    #[test]
    fn api_errors_read_like_wsk() {
        assert_eq!(
            api(404).to_string(),
            "Unable to invoke action 'hello': The requested resource does not exist. (code abc)"
        );
    }

    #[test]
    fn hints_depend_on_the_status_and_the_noun() {
        assert!(api(404).hint().unwrap().contains("whirl action list"));
        assert!(api(409).hint().unwrap().contains("whirl action update"));
        assert!(api(401).hint().unwrap().contains("guest.auth"));
        assert_eq!(api(302).hint(), None);
    }
}
