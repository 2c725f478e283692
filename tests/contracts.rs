//! The checked-in schemas are the ones the contract types generate, and real event shapes
//! validate against them and read as the Rust types.

mod common;

use common::{assert_valid, mediaflow, read_json, repo};
use mediaflow_core::contract::{ExecutionStatusChangeEvent, JobStateChangeEvent, JobStatus, ObjectCreatedEvent};

#[test]
fn checked_in_schemas_match_the_contract_types() {
    let out = mediaflow(&repo(), &["schemas", "--check"]);
    assert!(out.status.success(), "schemas/ drifted from crates/core: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn schema_check_notices_drift() {
    let dir = tempfile::tempdir().unwrap();
    let out = mediaflow(dir.path(), &["schemas", "--out", "s"]);
    assert!(out.status.success());
    let probe = dir.path().join("s/Probe.json");
    let text = std::fs::read_to_string(&probe).unwrap();
    std::fs::write(&probe, text.replace("\"container\"", "\"kontainer\"")).unwrap();
    std::fs::write(dir.path().join("s/Gone.json"), "{}").unwrap();
    let out = mediaflow(dir.path(), &["schemas", "--out", "s", "--check"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Probe.json") && err.contains("Gone.json"), "{err}");
}

fn fixtures(prefix: &str) -> Vec<(String, serde_json::Value)> {
    let dir = repo().join("tests/fixtures/events");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        .map(|n| (n.clone(), read_json(format!("tests/fixtures/events/{n}"))))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!all.is_empty(), "no {prefix} fixtures");
    all
}

#[test]
fn s3_events_validate_and_read() {
    for (name, event) in fixtures("s3-") {
        assert_valid("ObjectCreatedEvent", &event);
        let typed: ObjectCreatedEvent = serde_json::from_value(event.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(typed.detail_type, "Object Created", "{name}");
        assert!(typed.detail.object.size > 0, "{name}");
        // What the Rust type writes is what the schema describes.
        assert_valid("ObjectCreatedEvent", &serde_json::to_value(&typed).unwrap());
    }
    let broken =
        serde_json::json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}}});
    assert!(!common::validator("ObjectCreatedEvent").is_valid(&broken));
}

#[test]
fn mediaconvert_events_validate_and_read() {
    let mut statuses = Vec::new();
    for (name, event) in fixtures("mediaconvert-") {
        assert_valid("JobStateChangeEvent", &event);
        let typed: JobStateChangeEvent = serde_json::from_value(event).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_valid("JobStateChangeEvent", &serde_json::to_value(&typed).unwrap());
        statuses.push(typed.detail.status);
        match typed.detail.status {
            JobStatus::Complete => {
                let out = &typed.detail.output_group_details[0].output_details[0];
                assert_eq!(out.output_file_paths, ["s3://amzn-s3-demo-bucket/file/file.mp4"]);
                assert_eq!(out.duration_in_ms, Some(30041));
                assert_eq!(out.video_details.as_ref().unwrap().height_in_px, 1080);
                assert_eq!(typed.detail.user_metadata["application"], "mediaflow");
            }
            JobStatus::Error => {
                assert_eq!(typed.detail.error_code, Some(1040));
                assert_eq!(typed.detail.error_message.as_deref(), Some("Example error message"));
            }
            _ => {}
        }
    }
    for s in [JobStatus::Complete, JobStatus::Error, JobStatus::Canceled, JobStatus::Progressing] {
        assert!(statuses.contains(&s), "no fixture for {s:?}");
    }
}

#[test]
fn step_functions_events_validate_and_read() {
    for (name, event) in fixtures("sfn-") {
        assert_valid("ExecutionStatusChangeEvent", &event);
        let typed: ExecutionStatusChangeEvent = serde_json::from_value(event).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_valid("ExecutionStatusChangeEvent", &serde_json::to_value(&typed).unwrap());
        assert_eq!((typed.detail.status.as_str(), typed.detail.error.as_deref()), ("FAILED", Some("States.Runtime")));
        assert_eq!(typed.detail.stop_date, Some(1551225151881));
    }
}

#[test]
fn shipped_job_templates_are_json_objects() {
    for t in ["infra/job.json", "infra/job-audio.json"] {
        assert!(read_json(t)["Settings"]["OutputGroups"].is_array(), "{t}");
    }
}
