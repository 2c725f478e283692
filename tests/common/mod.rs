//! Helpers the end-to-end tests share: the built CLI, the repository's files, and real media
//! made with ffmpeg.
#![allow(dead_code)]

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

/// Runs ffmpeg quietly; the tests need it, as the pipeline does.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test clip from lavfi's testsrc2 (and a sine tone when `audio`), H.264/AAC in MP4.
pub fn video(path: &Path, width: u32, height: u32, seconds: f32, audio: bool) {
    let size = format!("testsrc2=size={width}x{height}:rate=25");
    let secs = seconds.to_string();
    let path = path.to_str().unwrap();
    let mut args = vec!["-f", "lavfi", "-i", &size];
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
    }
    args.extend(["-t", &secs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);
    if audio {
        args.extend(["-c:a", "aac", "-shortest"]);
    }
    args.push(path);
    ffmpeg(&args);
}

/// A sine tone; the codec follows the extension (`.wav`, `.mp3`, …).
pub fn tone(path: &Path, seconds: f32) {
    let secs = seconds.to_string();
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", &secs, path.to_str().unwrap()]);
}
