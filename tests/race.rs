//! The newest upload wins, whatever order executions finish in: two uploads of one name, a
//! slow one and then a quick one (the older finishes last) and the other way round; the public
//! folders hold exactly the newer upload's set. And an event delivered twice still ends as a
//! duplicate. (A key overwritten before its first execution's Classify looks is superseded
//! there: `functions/classify/tests`; uploads of one key are ordered by their sequencers in
//! `functions/publish/tests`.)

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use common::server::Server;
use common::tools_in;
use serde_json::Value;

const KEY: &str = "inputs/race/r.mp4";

/// Uploads `file` as `key`; returns its ETag.
async fn upload_as(server: &Server, file: &Path, key: &str) -> String {
    let body = std::fs::read(file).unwrap();
    let put = server.s3().put_object().bucket("watch").key(key).body(body.into()).send().await.unwrap();
    put.e_tag().unwrap().trim_matches('"').to_string()
}

/// Uploads `file` as [`KEY`]; returns its ETag.
async fn upload(server: &Server, file: &Path) -> String {
    upload_as(server, file, KEY).await
}

/// Waits for `count` executions to end; returns each one's output document, oldest first
/// (by start time).
async fn ended(server: &Server, count: usize) -> Vec<Value> {
    let (sfn, machine) = (server.sfn(), server.field("state machine:"));
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(300), "the executions never ended");
        let listed = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap();
        let done = listed.executions().iter().filter(|e| e.status() != &ExecutionStatus::Running).count();
        if listed.executions().len() == count && done == count {
            let mut outputs = Vec::new();
            for e in listed.executions().iter().rev() {
                let d = sfn.describe_execution().execution_arn(e.execution_arn()).send().await.unwrap();
                assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
                outputs.push(serde_json::from_str(d.output().unwrap()).unwrap());
            }
            return outputs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The public bucket's keys, and the metadata document.
async fn published(server: &Server) -> (Vec<String>, Value) {
    let s3 = server.s3();
    let listed = s3.list_objects_v2().bucket("public").send().await.unwrap();
    let mut keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(String::from)).collect();
    keys.sort_unstable();
    let doc = s3.get_object().bucket("public").key("json/race/r.json").send().await.unwrap();
    let doc = serde_json::from_slice(&doc.body.collect().await.unwrap().into_bytes()).unwrap();
    (keys, doc)
}

fn expected(renditions: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = renditions.iter().map(|r| format!("audiovideo/race/r_{r}.mp4")).collect();
    keys.extend(
        ["json/race/r.json", "original/race/r.mp4", "thumbnail/race/r.jpg"]
            .into_iter()
            .chain(["thumbnail/race/r.storyboard.jpg", "thumbnail/race/r.storyboard.vtt"])
            .map(String::from),
    );
    keys.sort_unstable();
    keys
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_older_upload_never_overwrites_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let (slow, quick) = (dir.path().join("slow.mp4"), dir.path().join("quick.mp4"));
    mediaflow_testkit::video(&slow, 1280, 720, 6.0, true);
    mediaflow_testkit::video(&quick, 854, 480, 3.0, true);
    let data = dir.path().join("data");
    let server = Server::start(&data);
    // `r.mov`, then `r.mp4`: one name, so the second replaces the first's outputs. (Two
    // uploads of one key would also change the bytes the first one's transcode is reading.)
    let older = upload_as(&server, &slow, "inputs/race/r.mov").await;
    // Once the older one transcodes, the newer one overtakes it.
    let work = data.canonicalize().unwrap().join("work");
    let start = Instant::now();
    while tools_in(&work) == 0 {
        assert!(start.elapsed() < Duration::from_secs(120), "the older upload's transcode never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let newer = upload(&server, &quick).await;

    let outputs = ended(&server, 2).await;
    let of = |etag: &str| outputs.iter().find(|o| o["source"]["etag"] == etag).unwrap().clone();
    let (older, newer_output) = (of(&older), of(&newer));
    assert_eq!(older["publish"]["status"], "superseded", "{:#}", older["publish"]);
    assert!(older["publish"]["reason"].as_str().unwrap().starts_with("superseded by"));
    assert_eq!(newer_output["publish"]["status"], "published");
    let (keys, doc) = published(&server).await;
    assert_eq!(keys, expected(&["360p", "480p"]), "no 720p of the older upload");
    assert_eq!(doc["source"]["etag"], newer.as_str(), "the document describes the newer upload");
    let original = server.s3().head_object().bucket("public").key("original/race/r.mp4").send().await.unwrap();
    assert_eq!(original.e_tag().unwrap().trim_matches('"'), newer);
    // Nothing is left staged; only the notice of the newer upload was sent.
    let staged = server.s3().list_objects_v2().bucket("watch").prefix(".mediaflow/staging/").send().await.unwrap();
    assert!(staged.contents().is_empty(), "{staged:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_upload_that_finishes_last_replaces_the_whole_set() {
    let dir = tempfile::tempdir().unwrap();
    let (quick, slow) = (dir.path().join("quick.mp4"), dir.path().join("slow.mp4"));
    mediaflow_testkit::video(&quick, 854, 480, 3.0, true);
    mediaflow_testkit::video(&slow, 1280, 720, 4.0, true);
    let server = Server::start(&dir.path().join("data"));
    upload(&server, &quick).await;
    // The older one is published before the newer one is even uploaded.
    assert_eq!(ended(&server, 1).await[0]["publish"]["status"], "published");
    let newer = upload(&server, &slow).await;

    let outputs = ended(&server, 2).await;
    assert!(outputs.iter().all(|o| o["publish"]["status"] == "published"), "each was newest when it published");
    let (keys, doc) = published(&server).await;
    assert_eq!(keys, expected(&["360p", "480p", "720p"]));
    assert_eq!(doc["source"]["etag"], newer.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_delivered_twice_ends_as_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("talk.mp4");
    mediaflow_testkit::video(&clip, 640, 360, 1.0, true);
    let server = Server::start(&dir.path().join("data"));
    upload(&server, &clip).await;
    let first = ended(&server, 1).await;
    assert_eq!(first[0]["publish"]["status"], "published");

    // EventBridge delivers at least once: the same event starts a second execution.
    let (sfn, machine) = (server.sfn(), server.field("state machine:"));
    let listed = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap();
    let owner = listed.executions()[0].execution_arn().to_string();
    let input = sfn.describe_execution().execution_arn(&owner).send().await.unwrap().input().unwrap().to_string();
    sfn.start_execution().state_machine_arn(&machine).name("again").input(input).send().await.unwrap();
    let outputs = ended(&server, 2).await;
    assert_eq!(outputs[1]["asset"]["kind"], "duplicate", "{:#}", outputs[1]);
    assert_eq!(outputs[1]["asset"]["duplicateOf"], owner.as_str());
    assert!(outputs[1].get("publish").is_none(), "a duplicate publishes nothing");
}
