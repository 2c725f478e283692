//! A crash at any moment loses nothing and needs nobody: `mediaflow serve` is killed with
//! SIGKILL while an execution is in Probe, in Transcode (ffmpeg running) or in SaveMetadata,
//! or stopped with SIGTERM mid-transcode, then started again on the same data folder; each
//! execution goes on by itself and ends SUCCEEDED with every output an uninterrupted run makes.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use common::server::Server;
use common::tools_in;
use serde_json::Value;

const KEY: &str = "inputs/crash/talk.mp4";

/// The kept executions' journals: the lines each holds so far.
fn journals(data: &Path) -> Vec<String> {
    let dir = data.join("executions/mediaflow-pipeline");
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .flat_map(|p| std::fs::read_to_string(p).unwrap_or_default().lines().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// Waits until `seen` holds of the data folder, 120 s at most.
fn wait_until(what: &str, mut seen: impl FnMut() -> bool) {
    let start = Instant::now();
    while !seen() {
        assert!(start.elapsed() < Duration::from_secs(120), "never saw {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a journal line says that state `name` was entered.
fn entered(lines: &[String], name: &str) -> bool {
    lines.iter().any(|l| l.contains("StateEntered") && l.contains(&format!(r#""name":"{name}""#)))
}

/// The MediaConvert jobs kept under the data folder.
fn jobs(data: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(data.join("mediaconvert")) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        .collect()
}

/// A folder with an `ffprobe` that waits `seconds` before it runs the real one: a slow probe
/// to crash in the middle of.
fn slow_ffprobe(dir: &Path, seconds: u32) -> PathBuf {
    let tools = dir.join("slow-tools");
    std::fs::create_dir_all(&tools).unwrap();
    let real = String::from_utf8(std::process::Command::new("which").arg("ffprobe").output().unwrap().stdout).unwrap();
    let script = tools.join("ffprobe");
    std::fs::write(&script, format!("#!/bin/sh\nsleep {seconds}\nexec {} \"$@\"\n", real.trim())).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
    tools
}

/// A folder for the test, the data folder in it, and a clip of `width`×`height` with sound,
/// `seconds` long, to upload.
fn scene(width: u32, height: u32, seconds: f32) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (data, clip) = (dir.path().join("data"), dir.path().join("talk.mp4"));
    mediaflow_testkit::video(&clip, width, height, seconds, true);
    (dir, data, clip)
}

/// Uploads `file` as [`KEY`].
async fn upload(server: &Server, file: &Path) {
    let body = std::fs::read(file).unwrap();
    server.s3().put_object().bucket("watch").key(KEY).body(body.into()).send().await.unwrap();
}

/// After a restart: the one execution ends SUCCEEDED by itself, its history says it resumed,
/// and the public bucket holds every output of the upload, as the metadata document lists them.
async fn succeeds_after_restart(server: &Server, renditions: &[&str]) {
    let sfn = server.sfn();
    let machine = server.field("state machine:");
    let start = Instant::now();
    let described = loop {
        assert!(start.elapsed() < Duration::from_secs(180), "the resumed execution never ended");
        let listed = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap();
        assert_eq!(listed.executions().len(), 1, "one upload, one execution: {listed:?}");
        let arn = listed.executions()[0].execution_arn();
        let described = sfn.describe_execution().execution_arn(arn).send().await.unwrap();
        if described.status() != &ExecutionStatus::Running {
            break described;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(described.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", described.error(), described.cause());
    let history = sfn.get_execution_history().execution_arn(described.execution_arn()).send().await.unwrap();
    let kinds: Vec<String> = history.events().iter().map(|e| e.r#type().as_str().to_string()).collect();
    assert!(kinds.iter().any(|k| k == "ExecutionResumed"), "the history shows the resumption: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "ExecutionStarted").count(), 1, "{kinds:?}");

    let s3 = server.s3();
    let listed = s3.list_objects_v2().bucket("public").send().await.unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort_unstable();
    let mut expected: Vec<String> = renditions.iter().map(|r| format!("audiovideo/crash/talk_{r}.mp4")).collect();
    expected.extend(
        ["json/crash/talk.json", "original/crash/talk.mp4", "thumbnail/crash/talk.jpg"]
            .into_iter()
            .chain(["thumbnail/crash/talk.storyboard.jpg", "thumbnail/crash/talk.storyboard.vtt"])
            .map(String::from),
    );
    expected.sort_unstable();
    assert_eq!(keys, expected);
    let doc = s3.get_object().bucket("public").key("json/crash/talk.json").send().await.unwrap();
    let doc: Value = serde_json::from_slice(&doc.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(doc["outputs"].as_array().unwrap().len(), renditions.len(), "{doc:#}");
    assert_eq!(doc["executionId"], described.execution_arn());
    for output in doc["outputs"].as_array().unwrap() {
        let head = s3.head_object().bucket("public").key(output["key"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(head.content_length(), output["size"].as_i64(), "{output}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_mid_probe_resumes_at_probe() {
    let (dir, data, clip) = scene(640, 360, 2.0);
    let server = Server::start_with(&data, &[], Some(&slow_ffprobe(dir.path(), 30)));
    upload(&server, &clip).await;
    wait_until("Probe entered", || entered(&journals(&data), "Probe"));
    server.crash();
    assert!(!entered(&journals(&data), "SaveMetadata"), "the crash came before the probe ended");

    let server = Server::start(&data);
    succeeds_after_restart(&server, &["360p"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_mid_transcode_resumes_the_job_and_its_wait() {
    let (_dir, data, clip) = scene(1280, 720, 8.0);
    let server = Server::start_with(&data, &["--transcode-jobs", "1"], None);
    upload(&server, &clip).await;
    wait_until("the job PROGRESSING", || jobs(&data).iter().any(|j| j["status"] == "PROGRESSING"));
    server.crash();
    assert!(jobs(&data).iter().all(|j| j["status"] == "PROGRESSING"), "the crash came mid-transcode");

    let server = Server::start(&data);
    succeeds_after_restart(&server, &["360p", "480p", "720p"]).await;
    let jobs = jobs(&data);
    assert_eq!(jobs.len(), 1, "the resumed Transcode found the job it had submitted: {jobs:#?}");
    assert_eq!(jobs[0]["status"], "COMPLETE");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_in_save_metadata_resumes_there() {
    let (_dir, data, clip) = scene(640, 360, 2.0);
    let server = Server::start(&data);
    upload(&server, &clip).await;
    wait_until("SaveMetadata entered", || entered(&journals(&data), "SaveMetadata"));
    server.crash();
    let record = std::fs::read_dir(data.join("executions/mediaflow-pipeline"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap();
    let record: Value = serde_json::from_slice(&std::fs::read(record.path()).unwrap()).unwrap();
    assert_eq!(record["status"], "RUNNING", "the crash came before the execution ended");

    let server = Server::start(&data);
    succeeds_after_restart(&server, &["360p"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_transcode_stops_cleanly_and_the_next_start_goes_on() {
    let (_dir, data, clip) = scene(1280, 720, 8.0);
    let server = Server::start_with(&data, &["--transcode-jobs", "1"], None);
    upload(&server, &clip).await;
    let work = data.canonicalize().unwrap().join("work");
    wait_until("ffmpeg running", || tools_in(&work) > 0);
    let status = server.terminate();
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");
    // A killed child is gone a moment after its kill.
    wait_until("no ffmpeg outliving serve", || tools_in(&work) == 0);
    assert!(!work.exists(), "the scratch space is removed");
    assert!(!journals(&data).is_empty(), "the execution is left to resume, journaled");

    let server = Server::start(&data);
    succeeds_after_restart(&server, &["360p", "480p", "720p"]).await;
}
