//! Every function's real binary under a Lambda Runtime API (`mediaflow_testkit::runtime_api`)
//! against the embedded S3: a valid event gets its answer, a payload that does not fit gets
//! `MediaFlow.InvalidInput` naming the field, a missing setting is reported to
//! `/runtime/init/error` as `MediaFlow.Configuration`, and each invocation logs JSON lines in
//! Lambda's format with no presigned URL in them.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mediaflow_s3::EmbeddedS3;
use mediaflow_testkit::runtime_api::{Answer, RuntimeApi};
use serde_json::{Value, json};

/// Each binary, and the settings it needs.
const FUNCTIONS: [(&str, &[&str]); 11] = [
    ("classify", &[]),
    ("assemble-check", &[]),
    ("archive-original", &["DESTINATION_BUCKET"]),
    ("copy-mp3", &["DESTINATION_BUCKET"]),
    ("probe", &[]),
    ("build-job", &["DESTINATION_BUCKET"]),
    ("await-mediaconvert", &["WATCH_BUCKET", "DESTINATION_BUCKET", "MEDIACONVERT_ROLE_ARN", "APPLICATION_NAME"]),
    ("save-frame", &["DESTINATION_BUCKET"]),
    ("save-metadata", &["DESTINATION_BUCKET"]),
    ("convert-caption", &["DESTINATION_BUCKET"]),
    ("publish", &["DESTINATION_BUCKET"]),
];

/// The workspace's binaries, built once: `cargo test` builds only this package's.
fn binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let status =
            Command::new(env!("CARGO")).args(["build", "--workspace", "--bins", "--locked", "--quiet"]).status();
        assert!(status.unwrap().success(), "cargo build --workspace --bins");
    });
    PathBuf::from(env!("CARGO_BIN_EXE_mediaflow")).with_file_name(name)
}

/// A function binary as Lambda starts it, talking to `api`, with `settings` (and `missing` left out).
fn launch(name: &str, api: &RuntimeApi, s3: &EmbeddedS3, missing: Option<&str>) -> Child {
    let mut command = Command::new(binary(name));
    let settings = [
        ("WATCH_BUCKET", "watch"),
        ("DESTINATION_BUCKET", "public"),
        ("MEDIACONVERT_ROLE_ARN", "arn:aws:iam::123456789012:role/mediaconvert"),
        ("APPLICATION_NAME", "mediaflow"),
    ];
    for (key, value) in settings.iter().filter(|(k, _)| Some(*k) != missing) {
        command.env(key, value);
    }
    command
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_ENDPOINT_URL", s3.endpoint())
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("AWS_ACCESS_KEY_ID", &s3.credentials().access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s3.credentials().secret_access_key)
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Ends `child` and returns what it logged.
fn logs(mut child: Child) -> String {
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn start_s3(dir: &std::path::Path) -> EmbeddedS3 {
    EmbeddedS3::start(&dir.join("s3"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payload_that_does_not_fit_is_invalid_input_naming_its_field_in_every_function() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start_s3(dir.path()).await;
    for (name, _) in FUNCTIONS {
        let api = RuntimeApi::start(vec![json!({"source": {"bucket": 42}})]);
        let child = launch(name, &api, &s3, None);
        let answers = api.answers(1, Duration::from_secs(60));
        let log = logs(child);
        // Lambda takes the error's name from the body (lambda_runtime's header says "unhandled").
        let Some(Answer::Error { body, .. }) = answers.first() else { panic!("{name}: {answers:?}\n{log}") };
        assert_eq!(body["errorType"], "MediaFlow.InvalidInput", "{name}: {body}");
        assert!(log.contains("\"error_type\":\"MediaFlow.InvalidInput\""), "{name} logs the error:\n{log}");
        let message = body["errorMessage"].as_str().unwrap();
        assert!(message.contains('`') || message.contains("payload"), "{name} names what is wrong: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_setting_is_an_init_error_of_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start_s3(dir.path()).await;
    for (name, settings) in FUNCTIONS.iter().filter(|(_, s)| !s.is_empty()) {
        let api = RuntimeApi::start(vec![]);
        let mut child = launch(name, &api, &s3, Some(settings[0]));
        let answers = api.answers(1, Duration::from_secs(60));
        let status = child.wait().unwrap();
        assert!(!status.success(), "{name} does not start without {}", settings[0]);
        let Some(Answer::InitError { error_type, body }) = answers.first() else { panic!("{name}: {answers:?}") };
        assert_eq!(error_type, "MediaFlow.Configuration", "{name}");
        assert!(body["errorMessage"].as_str().unwrap().contains(settings[0]), "{name}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_events_are_answered_and_logged_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start_s3(dir.path()).await;
    let srt = "1\n00:00:01,000 --> 00:00:02,000\nHello\n";
    let put = s3.client().put_object().bucket("watch").key("inputs/talk.en.srt").body(srt.as_bytes().to_vec().into());
    let etag = put.send().await.unwrap().e_tag().unwrap().trim_matches('"').to_string();
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("tests/fixtures/events/s3-object-created.json")).unwrap(),
    )
    .unwrap();
    event["detail"]["bucket"]["name"] = json!("watch");
    event["detail"]["object"]["key"] = json!("inputs/talk.en.srt");
    event["detail"]["object"]["size"] = json!(srt.len());
    event["detail"]["object"]["etag"] = json!(etag);
    let execution = "arn:aws:states:us-east-1:123456789012:execution:mediaflow-pipeline:run-1";

    let api = RuntimeApi::start(vec![json!({"event": event, "executionId": execution})]);
    let child = launch("classify", &api, &s3, None);
    let answers = api.answers(1, Duration::from_secs(60));
    let log = logs(child);
    let Some(Answer::Response(classified)) = answers.first() else { panic!("{answers:?}\n{log}") };
    assert_eq!(classified["asset"]["kind"], "caption", "{classified}");

    let api = RuntimeApi::start(vec![classified.clone()]);
    let child = launch("convert-caption", &api, &s3, None);
    let answers = api.answers(1, Duration::from_secs(60));
    let log = logs(child);
    let Some(Answer::Response(converted)) = answers.first() else { panic!("{answers:?}\n{log}") };
    assert_eq!(converted["key"], "closed-caption/talk.en.vtt", "{converted}");

    // Lambda's JSON log format: one object a line, with time, level and the request.
    let lines: Vec<Value> = log.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(!lines.is_empty(), "convert-caption logged no JSON:\n{log}");
    for line in &lines {
        assert!(line["timestamp"].is_string() && line["level"].is_string(), "{line}");
    }
    assert!(lines.iter().any(|l| l.to_string().contains("request-1")), "the request id is in the logs:\n{log}");
    assert!(!log.contains("X-Amz-Signature"), "no presigned URL in the logs:\n{log}");
}
