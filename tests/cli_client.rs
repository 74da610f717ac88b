//! The `whirl` client subcommands as a user runs them, without a server: property handling
//! (`~/.whirlprops`, WHIRL_APIHOST/WHIRL_AUTH precedence), and the `error: ...` / `hint: ...`
//! output and exit code of what cannot work (no key, unreachable host, https, bad input).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `whirl` with a private HOME and properties file and no WHIRL_* from the caller.
fn whirl(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_whirl"));
    command
        .args(args)
        .env("HOME", home)
        .env_remove("WHIRL_APIHOST")
        .env_remove("WHIRL_AUTH")
        .env_remove("WHIRL_CONFIG_FILE")
        .env("RUST_LOG", "off");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn property_set_writes_whirlprops_and_get_shows_where_values_come_from() {
    let home = tempfile::tempdir().unwrap();
    let set = whirl(
        home.path(),
        &[
            "property",
            "set",
            "--apihost",
            "http://127.0.0.1:9",
            "--auth",
            "u:k",
        ],
        &[],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        stdout(&set),
        "ok: whirl API host set to http://127.0.0.1:9\n\
         ok: whirl auth set. Run 'whirl property get --auth' to see the new value.\n"
    );
    let props = home.path().join(".whirlprops");
    assert_eq!(
        std::fs::read_to_string(&props).unwrap(),
        "APIHOST=http://127.0.0.1:9\nAUTH=u:k\n"
    );

    let get = whirl(home.path(), &["property", "get", "--json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(doc["apihost"], "http://127.0.0.1:9");
    assert_eq!(doc["auth"], "u:k");
    assert_eq!(doc["auth_source"], props.display().to_string());

    // The environment overrides the file.
    let get = whirl(
        home.path(),
        &["property", "get", "--apihost"],
        &[("WHIRL_APIHOST", "http://localhost:1")],
    );
    assert_eq!(
        stdout(&get),
        "whirl API host\t\thttp://localhost:1\t(WHIRL_APIHOST)\n"
    );

    let unset = whirl(home.path(), &["property", "unset", "--auth"], &[]);
    assert!(unset.status.success());
    assert_eq!(
        std::fs::read_to_string(&props).unwrap(),
        "APIHOST=http://127.0.0.1:9\n"
    );
}

#[test]
fn whirl_config_file_names_another_properties_file() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("elsewhere");
    let file_text = file.display().to_string();
    let env = [("WHIRL_CONFIG_FILE", file_text.as_str())];
    let set = whirl(home.path(), &["property", "set", "--auth", "a:b"], &env);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "AUTH=a:b\n");
    assert!(!home.path().join(".whirlprops").exists());
}

#[test]
fn a_missing_key_is_an_error_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let out = whirl(home.path(), &["action", "list"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: no authorization key is set\n"),
        "{err}"
    );
    assert!(
        err.contains("hint: set one with `whirl property set --auth"),
        "{err}"
    );
}

#[test]
fn an_unreachable_server_is_named_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let apihost = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = whirl(
        home.path(),
        &[
            "action",
            "invoke",
            "hello",
            "--apihost",
            &apihost,
            "-u",
            "u:k",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: cannot reach the Whirl API at {apihost}")),
        "{err}"
    );
    assert!(
        err.contains("hint: start the server with `whirl serve`"),
        "{err}"
    );
}

#[test]
fn https_and_schemeless_remote_hosts_are_refused_before_any_request() {
    let home = tempfile::tempdir().unwrap();
    let out = whirl(
        home.path(),
        &[
            "namespace",
            "list",
            "--apihost",
            "https://example.org",
            "-u",
            "u:k",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("uses https"), "{}", stderr(&out));
    let out = whirl(
        home.path(),
        &["property", "set", "--apihost", "example.org"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("hint: if the server serves plain HTTP"),
        "{}",
        stderr(&out)
    );
    assert!(!home.path().join(".whirlprops").exists());
}

#[test]
fn bad_input_is_refused_with_the_forms_that_work() {
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("WHIRL_AUTH", "u:k"),
        ("WHIRL_APIHOST", "http://127.0.0.1:9"),
    ];
    let out = whirl(home.path(), &["action", "create", "a/b/c/d", "x.py"], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a valid action name"),
        "{}",
        stderr(&out)
    );

    let out = whirl(home.path(), &["action", "create", "hello", "run.sh"], &env);
    assert!(
        stderr(&out).contains("hint: name it: --kind"),
        "{}",
        stderr(&out)
    );

    let missing = home.path().join("missing.json");
    let out = whirl(
        home.path(),
        &["trigger", "fire", "t", "-P", missing.to_str().unwrap()],
        &env,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing.json"), "{}", stderr(&out));

    // Usage errors are clap's (exit 2), e.g. a flag that needs a value.
    let out = whirl(home.path(), &["action", "invoke"], &env);
    assert_eq!(out.status.code(), Some(2));
}
