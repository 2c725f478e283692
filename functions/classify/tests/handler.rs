//! Classify against the embedded S3 endpoint, fed the events the endpoint itself emits.

use mediaflow_core::Named;
use std::time::Duration;

use classify::{Clients, handler};
use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetKind, ClassifyInput, ClassifyOutput, ObjectCreatedEvent};
use mediaflow_s3::EmbeddedS3;

struct World {
    s3: EmbeddedS3,
    events: tokio::sync::mpsc::UnboundedReceiver<ObjectCreatedEvent>,
    clients: Clients,
}

async fn world(dir: &std::path::Path) -> World {
    let s3 = EmbeddedS3::start(dir, &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let events = s3.events();
    let clients = Clients { s3: s3.client() };
    World { s3, events, clients }
}

/// Uploads `bytes` as `key`; returns the event S3 sent for it.
async fn upload(w: &mut World, key: &str, bytes: Vec<u8>) -> ObjectCreatedEvent {
    w.s3.client().put_object().bucket("watch").key(key).body(bytes.into()).send().await.unwrap();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), w.events.recv()).await.unwrap().unwrap();
        if event.detail.object.key == key {
            return event;
        }
    }
}

async fn run(w: &World, event: &ObjectCreatedEvent, execution: &str) -> Result<ClassifyOutput, classify::Error> {
    handler(ClassifyInput { event: event.clone(), execution_id: execution.to_string() }, &w.clients).await
}

fn mp4_bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x20];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
    v.resize(len, 0x42);
    v
}

const EXEC_A: &str = "arn:aws:states:us-east-1:000000000000:execution:mediaflow:a";
const EXEC_B: &str = "arn:aws:states:us-east-1:000000000000:execution:mediaflow:b";

#[tokio::test(flavor = "multi_thread")]
async fn kinds_from_extension_and_first_bytes_read_with_one_small_get() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = world(dir.path()).await;
    let cases: Vec<(&str, Vec<u8>, AssetKind)> = vec![
        ("inputs/team a/talk+final 100%.mp4", mp4_bytes(3 * 1024 * 1024), AssetKind::Video),
        ("inputs/notes.mp4", b"these are notes, not a video\n".to_vec(), AssetKind::Unsupported),
        ("inputs/talk.en.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHi\n".to_vec(), AssetKind::Caption),
        ("inputs/song.mp3", b"ID3\x04\0\0\0\0\0\0rest".to_vec(), AssetKind::Mp3),
        ("inputs/movie.mp4.CHUNK0", b"part".to_vec(), AssetKind::Chunk),
        ("inputs/empty.mov", Vec::new(), AssetKind::Unsupported),
    ];
    for (key, bytes, kind) in cases {
        let size = bytes.len() as u64;
        let event = upload(&mut w, key, bytes).await;
        let out = run(&w, &event, EXEC_A).await.unwrap();
        assert_eq!(out.asset.kind, kind, "{key}: {:?}", out.asset.reason);
        assert_eq!((out.source.key.as_str(), out.source.size), (key, size));
        assert_eq!(out.source.etag, event.detail.object.etag);
        assert!(w.s3.bytes_served("watch", key) <= 4096, "{key}: read {} bytes", w.s3.bytes_served("watch", key));
    }
    let docx = upload(&mut w, "inputs/report.docx", b"PK\x03\x04".to_vec()).await;
    let unsupported = run(&w, &docx, EXEC_A).await.unwrap();
    assert!(unsupported.asset.reason.unwrap().contains(".docx"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_delivery_is_a_duplicate_and_a_redrive_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = world(dir.path()).await;
    let event = upload(&mut w, "inputs/talk.mp4", mp4_bytes(10_000)).await;
    assert_eq!(run(&w, &event, EXEC_A).await.unwrap().asset.kind, AssetKind::Video);
    // The same execution again (a redrive, or a retried Classify): still its own.
    assert_eq!(run(&w, &event, EXEC_A).await.unwrap().asset.kind, AssetKind::Video);
    // Another execution for the same delivery: a duplicate, naming the owner.
    let dup = run(&w, &event, EXEC_B).await.unwrap();
    assert_eq!(dup.asset.kind, AssetKind::Duplicate);
    assert_eq!(dup.asset.duplicate_of.as_deref(), Some(EXEC_A));
    // A new upload to the same key is a new upload.
    let again = upload(&mut w, "inputs/talk.mp4", mp4_bytes(20_000)).await;
    assert_eq!(run(&w, &again, EXEC_B).await.unwrap().asset.kind, AssetKind::Video);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deliveries_have_exactly_one_owner() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = world(dir.path()).await;
    let event = upload(&mut w, "inputs/race.mp4", mp4_bytes(10_000)).await;
    let w = std::sync::Arc::new(w);
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let (w, event) = (w.clone(), event.clone());
            tokio::spawn(async move { run(&w, &event, &format!("{EXEC_A}-{i}")).await.unwrap() })
        })
        .collect();
    let mut owners = 0;
    for r in runs {
        if r.await.unwrap().asset.kind == AssetKind::Video {
            owners += 1;
        }
    }
    assert_eq!(owners, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn url_encoded_keys_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = world(dir.path()).await;
    let mut event = upload(&mut w, "inputs/My Talk (final).mp4", mp4_bytes(5000)).await;
    event.detail.object.key = "inputs/My+Talk+%28final%29.mp4".into();
    let out = run(&w, &event, EXEC_A).await.unwrap();
    assert_eq!(out.source.key, "inputs/My Talk (final).mp4");
    assert_eq!(out.asset.kind, AssetKind::Video);
    // A key that really holds `+` and `%` is taken as delivered.
    let literal = upload(&mut w, "inputs/a+b%20.mp4", mp4_bytes(5000)).await;
    assert_eq!(run(&w, &literal, EXEC_A).await.unwrap().source.key, "inputs/a+b%20.mp4");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_keys_gone_uploads_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = world(dir.path()).await;
    let mut event = upload(&mut w, "inputs/ok.mp4", mp4_bytes(100)).await;
    event.detail.object.key = "inputs/missing.mp4".into();
    let err = run(&w, &event, EXEC_A).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidInput);
    assert!(err.to_string().contains("does not exist"), "{err}");

    let escaping = upload(&mut w, "inputs/a/../b.mp4", mp4_bytes(100)).await;
    let err = run(&w, &escaping, EXEC_A).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidKey);
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "MediaFlow.InvalidKey");

    event.detail.object.key = "inputs/new folder/".into();
    let folder = run(&w, &event, EXEC_A).await.unwrap();
    assert_eq!(folder.asset.kind, AssetKind::Unsupported);
    assert_eq!(folder.asset.reason.as_deref(), Some("a folder, not a file"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_whose_key_holds_a_newer_upload_is_superseded_and_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = world(dir.path()).await;
    let older = upload(&mut w, "inputs/r.mp4", mp4_bytes(5000)).await;
    let newer = upload(&mut w, "inputs/r.mp4", mp4_bytes(6000)).await;
    let out = run(&w, &older, "exec-old").await.unwrap();
    assert_eq!(out.asset.kind, AssetKind::Superseded);
    assert_eq!(out.source.etag, older.detail.object.etag.trim_matches('"'), "the source is the event's upload");
    assert!(out.asset.reason.unwrap().contains(newer.detail.object.etag.trim_matches('"')));
    let claims = w.s3.client().list_objects_v2().bucket("watch").prefix(".mediaflow/claims/").send().await.unwrap();
    assert_eq!(claims.key_count(), Some(0));
    assert_eq!(run(&w, &newer, "exec-new").await.unwrap().asset.kind, AssetKind::Video);
}
