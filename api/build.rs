//! Builds the web console (`console/` at the workspace root) into `OUT_DIR/console`, where
//! `api::console::assets` embeds it with `include_bytes!`.
//!
//! The third-party code (CodeMirror, esbuild) comes from npm through `console/package-lock.json`:
//! `npm ci` installs it into `OUT_DIR/console-npm` (only when the lockfile changed since the last
//! install there), then esbuild bundles `console/src/main.js` and its CSS, and node's zlib writes a
//! gzipped copy of the script (served to browsers that accept it). Cargo reruns this only
//! when the console's sources, manifest or lockfile change. Needs `node` and `npm` on the PATH.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    if let Err(message) = run() {
        eprintln!("error: building the web console failed: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let console = manifest_dir
        .parent()
        .ok_or("the api crate has no parent directory")?
        .join("console");
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    // Relative to the api crate, so a checkout checks its own sources.
    for watched in ["src", "package.json", "package-lock.json"] {
        println!("cargo:rerun-if-changed=../console/{watched}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let npm_dir = out_dir.join("console-npm");
    install_packages(&console, &npm_dir)?;
    bundle(&console, &npm_dir, &out_dir.join("console"))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

/// `npm ci` into `npm_dir` unless it already holds this exact lockfile's packages.
fn install_packages(console: &Path, npm_dir: &Path) -> Result<(), String> {
    let lock = read(&console.join("package-lock.json"))?;
    let installed = npm_dir.join("node_modules").join(".package-lock.json");
    let stamp = npm_dir.join("installed-lock.json");
    if installed.exists() && fs::read(&stamp).ok().as_deref() == Some(lock.as_slice()) {
        return Ok(());
    }
    fs::create_dir_all(npm_dir).map_err(|e| format!("create {}: {e}", npm_dir.display()))?;
    for file in ["package.json", "package-lock.json"] {
        fs::copy(console.join(file), npm_dir.join(file))
            .map_err(|e| format!("copy console/{file} to {}: {e}", npm_dir.display()))?;
    }
    check_tool("node")?;
    check_tool("npm")?;
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(npm_dir)
        .status()
        .map_err(|e| format!("run npm ci in {}: {e}", npm_dir.display()))?;
    if !status.success() {
        return Err(format!(
            "`npm ci` in {} failed ({status}): the console's packages (console/package-lock.json) could not be installed; is the npm registry reachable?",
            npm_dir.display()
        ));
    }
    fs::write(&stamp, &lock).map_err(|e| format!("write {}: {e}", stamp.display()))
}

/// Bundles the console into `target`: `index.html`, `app.js`, `app.css`.
fn bundle(console: &Path, npm_dir: &Path, target: &Path) -> Result<(), String> {
    fs::create_dir_all(target).map_err(|e| format!("create {}: {e}", target.display()))?;
    let esbuild = npm_dir.join("node_modules").join(".bin").join("esbuild");
    let entry = console.join("src").join("main.js");
    let status = Command::new(&esbuild)
        .arg(&entry)
        .args([
            "--bundle",
            "--minify",
            "--format=iife",
            "--target=es2020",
            "--legal-comments=none",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", target.join("app.js").display()))
        // Bare imports (`codemirror`) resolve from the packages npm installed in OUT_DIR.
        .env("NODE_PATH", npm_dir.join("node_modules"))
        .status()
        .map_err(|e| format!("run {}: {e}", esbuild.display()))?;
    if !status.success() {
        return Err(format!("esbuild failed on {} ({status})", entry.display()));
    }
    fs::copy(
        console.join("src").join("index.html"),
        target.join("index.html"),
    )
    .map_err(|e| format!("copy console/src/index.html: {e}"))?;
    // esbuild writes app.css only when the bundle imports CSS; the console always does.
    if !target.join("app.css").exists() {
        return Err("esbuild wrote no app.css: console/src/main.js must import its styles".into());
    }
    gzip(&target.join("app.js"))
}

/// Writes `file.gz` next to `file` with node's zlib (level 9).
fn gzip(file: &Path) -> Result<(), String> {
    let status = Command::new("node")
        .args([
            "-e",
            "const fs = require('fs'); const zlib = require('zlib'); const f = process.argv[1]; \
             fs.writeFileSync(f + '.gz', zlib.gzipSync(fs.readFileSync(f), { level: 9 }));",
        ])
        .arg(file)
        .status()
        .map_err(|e| format!("run node to gzip {}: {e}", file.display()))?;
    if !status.success() {
        return Err(format!("gzipping {} failed ({status})", file.display()));
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))
}

fn check_tool(name: &str) -> Result<(), String> {
    match Command::new(name).arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        _ => Err(format!(
            "`{name}` was not found on the PATH. The console is built with Node.js and npm: install them (Debian: `apt-get install nodejs npm`; deploy/serve.sh and deploy/test.sh do it) and build again."
        )),
    }
}
