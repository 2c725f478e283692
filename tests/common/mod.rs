//! Helpers the end-to-end tests share: the built CLI, the repository's files, and real media
//! made with ffmpeg.
#![allow(dead_code)]

pub mod server;
pub mod template;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = repo().join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the `mediaflow` binary in `dir`.
pub fn mediaflow(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mediaflow"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the mediaflow binary runs")
}

/// A validator for the checked-in schema `schemas/<name>.json`.
pub fn validator(name: &str) -> jsonschema::Validator {
    let schema = read_json(format!("schemas/{name}.json"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schemas/{name}.json: {e}"))
}

pub fn assert_valid(name: &str, instance: &Value) {
    let v = validator(name);
    let errors: Vec<String> = v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "not a valid {name}: {errors:#?}\n{instance:#}");
}

/// ffmpeg or ffprobe processes working in `work` (the stand-in runs each job there).
pub fn tools_in(work: &Path) -> usize {
    let Ok(procs) = std::fs::read_dir("/proc") else { return 0 };
    procs
        .filter_map(Result::ok)
        .filter(|p| std::fs::read_link(p.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(work)))
        .count()
}
