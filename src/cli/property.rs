//! `whirl property set|get|unset`, and where every client subcommand finds the API host and key:
//! the `--apihost`/`--auth` flags, then `WHIRL_APIHOST`/`WHIRL_AUTH`, then the properties file
//! (`~/.whirlprops`, or the file `WHIRL_CONFIG_FILE` names), written like wsk's `.wskprops`:
//! `APIHOST=...` and `AUTH=...` lines.

use super::client_error::ClientError;
use super::output;
use std::path::{Path, PathBuf};

/// The API host used when nothing names one: where `whirl serve` listens by default.
pub const DEFAULT_APIHOST: &str = "127.0.0.1:3233";
const APIHOST_KEY: &str = "APIHOST";
const AUTH_KEY: &str = "AUTH";
const APIHOST_ENV: &str = "WHIRL_APIHOST";
const AUTH_ENV: &str = "WHIRL_AUTH";
const CONFIG_FILE_ENV: &str = "WHIRL_CONFIG_FILE";

/// The flags every client subcommand takes (global: they may follow the subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// API host, `http://HOST:PORT` (a bare HOST:PORT means http for localhost and 127.0.0.1);
    /// overrides WHIRL_APIHOST and the properties file.
    #[arg(long, global = true, value_name = "URL")]
    pub apihost: Option<String>,
    /// Authorization key `UUID:KEY`; overrides WHIRL_AUTH and the properties file.
    #[arg(short = 'u', long, global = true, value_name = "KEY")]
    pub auth: Option<String>,
    /// Print the server's raw JSON (for scripts) instead of wsk-style text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("command-line flag"),
            Source::Env(name) => f.write_str(name),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One resolved setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

/// The client's settings after flags, environment and file are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub apihost: Setting,
    pub auth: Option<Setting>,
}

impl Settings {
    /// The plain-HTTP base URL of the API host (`http://127.0.0.1:3233`).
    pub fn base_url(&self) -> Result<String, ClientError> {
        base_url(&self.apihost.value)
    }

    /// The key, or an error saying how to set one.
    pub fn auth_key(&self) -> Result<&str, ClientError> {
        match &self.auth {
            Some(setting) => Ok(&setting.value),
            None => Err(ClientError::Config {
                message: "no authorization key is set".into(),
                hint: "set one with `whirl property set --auth UUID:KEY` (a local `whirl serve` \
                       writes its guest key to <data-dir>/guest.auth), or set WHIRL_AUTH"
                    .into(),
            }),
        }
    }
}

/// Reads flags, the environment and the properties file.
pub fn resolve(flags: &ConnectionArgs) -> Result<Settings, ClientError> {
    let path = props_path();
    let file = match &path {
        Some(path) => PropsFile::load(path)?,
        None => PropsFile::default(),
    };
    Ok(resolve_from(
        flags,
        |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()),
        &file,
        path.as_deref(),
    ))
}

/// The precedence rule, with the environment and file passed in (testable).
pub fn resolve_from(
    flags: &ConnectionArgs,
    env: impl Fn(&str) -> Option<String>,
    file: &PropsFile,
    file_path: Option<&Path>,
) -> Settings {
    let pick = |flag: &Option<String>, env_name: &'static str, key: &str| -> Option<Setting> {
        if let Some(value) = flag {
            return Some(Setting {
                value: value.trim().to_string(),
                source: Source::Flag,
            });
        }
        if let Some(value) = env(env_name) {
            return Some(Setting {
                value: value.trim().to_string(),
                source: Source::Env(env_name),
            });
        }
        file.get(key).map(|value| Setting {
            value: value.to_string(),
            source: Source::File(file_path.map(Path::to_path_buf).unwrap_or_default()),
        })
    };
    let apihost = pick(&flags.apihost, APIHOST_ENV, APIHOST_KEY).unwrap_or(Setting {
        value: DEFAULT_APIHOST.into(),
        source: Source::Default,
    });
    let auth = pick(&flags.auth, AUTH_ENV, AUTH_KEY);
    Settings { apihost, auth }
}

/// The properties file's path: `WHIRL_CONFIG_FILE`, else `$HOME/.whirlprops`.
pub fn props_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(CONFIG_FILE_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".whirlprops"))
}

/// Turns an API host into a plain-HTTP base URL, refusing what this client cannot speak.
pub fn base_url(apihost: &str) -> Result<String, ClientError> {
    let apihost = apihost.trim().trim_end_matches('/');
    if apihost.is_empty() {
        return Err(ClientError::Config {
            message: "the API host is empty".into(),
            hint: "set it with `whirl property set --apihost http://HOST:PORT`".into(),
        });
    }
    if let Some(rest) = apihost.strip_prefix("http://") {
        if rest.is_empty() || rest.contains('/') && !rest.ends_with("/api/v1") {
            return Err(ClientError::Config {
                message: format!("the API host '{apihost}' is not of the form http://HOST[:PORT]"),
                hint: "set it with `whirl property set --apihost http://HOST:PORT`".into(),
            });
        }
        return Ok(format!(
            "http://{}",
            rest.trim_end_matches("/api/v1").trim_end_matches('/')
        ));
    }
    if apihost.starts_with("https://") {
        return Err(ClientError::Config {
            message: format!(
                "the API host '{apihost}' uses https, which this whirl client does not speak yet \
                 (it has no TLS stack)"
            ),
            hint: "reach the server over plain HTTP, e.g. `--apihost http://HOST:PORT` through a \
                   local tunnel or proxy"
                .into(),
        });
    }
    if apihost.contains("://") {
        return Err(ClientError::Config {
            message: format!("the API host '{apihost}' has a scheme other than http"),
            hint: "use http://HOST:PORT".into(),
        });
    }
    if is_loopback_host(apihost) {
        return Ok(format!("http://{apihost}"));
    }
    Err(ClientError::Config {
        message: format!(
            "the API host '{apihost}' has no scheme; as with wsk that means https, which this \
             whirl client does not speak yet"
        ),
        hint: format!(
            "if the server serves plain HTTP, write it as http://{apihost} \
             (`whirl property set --apihost http://{apihost}`)"
        ),
    })
}

fn is_loopback_host(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The properties file: `KEY=VALUE` lines; other lines (comments, other keys) are kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropsFile {
    lines: Vec<PropsLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PropsLine {
    Pair(String, String),
    Other(String),
}

impl PropsFile {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Self {
        let lines = text
            .lines()
            .map(|line| {
                let trimmed = line.trim();
                match trimmed.split_once('=') {
                    Some((key, value)) if !trimmed.starts_with('#') && !key.trim().is_empty() => {
                        PropsLine::Pair(key.trim().to_string(), value.trim().to_string())
                    }
                    _ => PropsLine::Other(line.to_string()),
                }
            })
            .collect();
        PropsFile { lines }
    }

    /// Reads the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ClientError::File {
                doing: "read the properties file",
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the file (owner-only permissions: it holds a key), replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<(), ClientError> {
        let file_error = |source| ClientError::File {
            doing: "write the properties file",
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("whirl-tmp");
        std::fs::write(&tmp, self.render()).map_err(file_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(file_error)?;
        }
        std::fs::rename(&tmp, path).map_err(file_error)
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            match line {
                PropsLine::Pair(key, value) => text.push_str(&format!("{key}={value}\n")),
                PropsLine::Other(other) => {
                    text.push_str(other);
                    text.push('\n');
                }
            }
        }
        text
    }

    /// The value of `key` (the last one wins, as when the file is sourced).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lines.iter().rev().find_map(|line| match line {
            PropsLine::Pair(k, v) if k == key && !v.is_empty() => Some(v.as_str()),
            _ => None,
        })
    }

    /// Sets `key`, replacing every earlier line of it.
    pub fn set(&mut self, key: &str, value: &str) {
        self.unset(key);
        self.lines
            .push(PropsLine::Pair(key.to_string(), value.to_string()));
    }

    /// Removes `key`; true when it was there.
    pub fn unset(&mut self, key: &str) -> bool {
        let before = self.lines.len();
        self.lines
            .retain(|line| !matches!(line, PropsLine::Pair(k, _) if k == key));
        before != self.lines.len()
    }
}

#[derive(Debug, clap::Args)]
pub struct PropertyArgs {
    #[command(subcommand)]
    pub command: PropertyCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PropertyCommand {
    /// Save the API host and/or key in the properties file.
    Set {
        /// API host, e.g. http://127.0.0.1:3233.
        #[arg(long, value_name = "URL")]
        apihost: Option<String>,
        /// Authorization key `UUID:KEY`.
        #[arg(short = 'u', long, value_name = "KEY")]
        auth: Option<String>,
    },
    /// Show the settings in effect and where each comes from (all of them when no flag is given).
    Get {
        /// Only the API host.
        #[arg(long)]
        apihost: bool,
        /// Only the key.
        #[arg(short = 'u', long)]
        auth: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove the API host and/or key from the properties file.
    Unset {
        #[arg(long)]
        apihost: bool,
        #[arg(short = 'u', long)]
        auth: bool,
    },
}

pub fn run(args: PropertyArgs) -> Result<(), ClientError> {
    match args.command {
        PropertyCommand::Set { apihost, auth } => set(apihost, auth),
        PropertyCommand::Get {
            apihost,
            auth,
            json,
        } => get(apihost, auth, json),
        PropertyCommand::Unset { apihost, auth } => unset(apihost, auth),
    }
}

fn writable_props_path() -> Result<PathBuf, ClientError> {
    props_path().ok_or_else(|| ClientError::Config {
        message:
            "cannot tell where the properties file is: neither HOME nor WHIRL_CONFIG_FILE is set"
                .into(),
        hint: "set WHIRL_CONFIG_FILE=/path/to/whirlprops".into(),
    })
}

fn set(apihost: Option<String>, auth: Option<String>) -> Result<(), ClientError> {
    if apihost.is_none() && auth.is_none() {
        return Err(ClientError::input(
            "nothing to set",
            "name a property: `whirl property set --apihost http://HOST:PORT` or `--auth UUID:KEY`",
        ));
    }
    let path = writable_props_path()?;
    let mut file = PropsFile::load(&path)?;
    if let Some(apihost) = &apihost {
        base_url(apihost)?;
        file.set(APIHOST_KEY, apihost.trim());
    }
    if let Some(auth) = &auth {
        check_auth_shape(auth)?;
        file.set(AUTH_KEY, auth.trim());
    }
    file.save(&path)?;
    if let Some(apihost) = &apihost {
        output::ok(&format!("whirl API host set to {}", apihost.trim()));
        warn_if_overridden(APIHOST_ENV);
    }
    if auth.is_some() {
        output::ok("whirl auth set. Run 'whirl property get --auth' to see the new value.");
        warn_if_overridden(AUTH_ENV);
    }
    Ok(())
}

fn warn_if_overridden(env_name: &str) {
    if std::env::var(env_name).is_ok_and(|v| !v.trim().is_empty()) {
        eprintln!("note: {env_name} is set in the environment and overrides the properties file");
    }
}

/// A key is `UUID:KEY`; anything else is refused before it is saved.
pub fn check_auth_shape(auth: &str) -> Result<(), ClientError> {
    match auth.trim().split_once(':') {
        Some((user, key)) if !user.is_empty() && !key.is_empty() => Ok(()),
        _ => Err(ClientError::input(
            "the authorization key is not of the form UUID:KEY",
            "copy the whole key, e.g. from <data-dir>/guest.auth of a local `whirl serve`",
        )),
    }
}

fn get(apihost: bool, auth: bool, json: bool) -> Result<(), ClientError> {
    let settings = resolve(&ConnectionArgs::default())?;
    let (show_host, show_auth) = if apihost || auth {
        (apihost, auth)
    } else {
        (true, true)
    };
    if json {
        let mut doc = serde_json::Map::new();
        if show_host {
            doc.insert("apihost".into(), settings.apihost.value.clone().into());
            doc.insert(
                "apihost_source".into(),
                settings.apihost.source.to_string().into(),
            );
        }
        if show_auth {
            let value = settings.auth.as_ref().map(|s| s.value.clone());
            doc.insert("auth".into(), value.into());
            let source = settings.auth.as_ref().map(|s| s.source.to_string());
            doc.insert("auth_source".into(), source.into());
        }
        output::print_json(&serde_json::Value::Object(doc));
        return Ok(());
    }
    if show_host {
        output::line(&format!(
            "whirl API host\t\t{}\t({})",
            settings.apihost.value, settings.apihost.source
        ));
    }
    if show_auth {
        match &settings.auth {
            Some(setting) => output::line(&format!(
                "whirl auth\t\t{}\t({})",
                setting.value, setting.source
            )),
            None => output::line("whirl auth\t\t(not set)"),
        }
    }
    Ok(())
}

fn unset(apihost: bool, auth: bool) -> Result<(), ClientError> {
    if !apihost && !auth {
        return Err(ClientError::input(
            "nothing to unset",
            "name a property: `whirl property unset --apihost` or `--auth`",
        ));
    }
    let path = writable_props_path()?;
    let mut file = PropsFile::load(&path)?;
    if apihost {
        file.unset(APIHOST_KEY);
    }
    if auth {
        file.unset(AUTH_KEY);
    }
    file.save(&path)?;
    if apihost {
        output::ok(&format!(
            "whirl API host unset (the default is {DEFAULT_APIHOST})"
        ));
    }
    if auth {
        output::ok("whirl auth unset");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn props_file_round_trips_and_keeps_other_lines() {
        let text = "# mine\nAPIHOST=http://a:1\nNAMESPACE=guest\nAUTH=u:k\n";
        let mut file = PropsFile::parse(text);
        assert_eq!(file.get("APIHOST"), Some("http://a:1"));
        assert_eq!(file.get("AUTH"), Some("u:k"));
        assert_eq!(file.render(), text);
        file.set("APIHOST", "http://b:2");
        assert_eq!(
            file.render(),
            "# mine\nNAMESPACE=guest\nAUTH=u:k\nAPIHOST=http://b:2\n"
        );
        assert!(file.unset("AUTH"));
        assert!(!file.unset("AUTH"));
        assert_eq!(file.get("AUTH"), None);
    }

    #[test]
    fn flags_beat_env_beat_file_beat_default() {
        let file = PropsFile::parse("APIHOST=http://file:1\nAUTH=file:key\n");
        let path = Path::new("/p");
        let env = |name: &str| (name == "WHIRL_APIHOST").then(|| "http://env:2".to_string());

        let s = resolve_from(&ConnectionArgs::default(), env, &file, Some(path));
        assert_eq!(s.apihost.value, "http://env:2");
        assert_eq!(s.apihost.source, Source::Env("WHIRL_APIHOST"));
        assert_eq!(s.auth.as_ref().unwrap().value, "file:key");
        assert_eq!(s.auth.unwrap().source, Source::File(path.into()));

        let flags = ConnectionArgs {
            apihost: Some("http://flag:3".into()),
            auth: Some("flag:key".into()),
            json: false,
        };
        let s = resolve_from(&flags, env, &file, Some(path));
        assert_eq!(s.apihost.value, "http://flag:3");
        assert_eq!(s.auth.unwrap().value, "flag:key");

        let s = resolve_from(
            &ConnectionArgs::default(),
            no_env,
            &PropsFile::default(),
            None,
        );
        assert_eq!(s.apihost.value, DEFAULT_APIHOST);
        assert_eq!(s.apihost.source, Source::Default);
        assert!(s.auth_key().is_err());
    }

    #[test]
    fn bare_hosts_are_http_only_on_loopback() {
        assert_eq!(base_url("127.0.0.1:3233").unwrap(), "http://127.0.0.1:3233");
        assert_eq!(base_url("localhost:80").unwrap(), "http://localhost:80");
        assert_eq!(base_url("[::1]:3233").unwrap(), "http://[::1]:3233");
        assert_eq!(
            base_url("http://example.org:8080/").unwrap(),
            "http://example.org:8080"
        );
        assert_eq!(
            base_url("http://example.org/api/v1").unwrap(),
            "http://example.org"
        );
        let err = base_url("example.org").unwrap_err();
        assert!(err.to_string().contains("no scheme"), "{err}");
        assert!(err.hint().unwrap().contains("http://example.org"));
        assert!(base_url("https://example.org").is_err());
        assert!(base_url("ftp://example.org").is_err());
        assert!(base_url("http://example.org/other").is_err());
        assert!(base_url("").is_err());
    }

    #[test]
    fn auth_keys_must_have_a_user_and_a_key() {
        assert!(check_auth_shape("23bc46b1-71f6-4ed5-8c54-816aa4f8c502:abc").is_ok());
        assert!(check_auth_shape("nokey").is_err());
        assert!(check_auth_shape(":k").is_err());
        assert!(check_auth_shape("u:").is_err());
    }

    #[test]
    fn saved_files_are_owner_only_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("props");
        let mut file = PropsFile::default();
        file.set("AUTH", "u:k");
        file.save(&path).unwrap();
        assert_eq!(PropsFile::load(&path).unwrap().get("AUTH"), Some("u:k"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            PropsFile::load(&dir.path().join("missing")).unwrap(),
            PropsFile::default()
        );
    }
}
