//! SaveMetadata against the embedded S3 endpoint.

use mediaflow_core::ErrorName;
use mediaflow_core::classify::classify;
use mediaflow_core::contract::{ExecutionDocument, OutputFile, Renditions, SaveMetadataInput, Source, StoredObject};
use mediaflow_core::keys::SourceKey;
use mediaflow_local::EmbeddedS3;
use save_metadata::{Clients, handler};

async fn put(s3: &EmbeddedS3, bucket: &str, key: &str, bytes: &[u8]) -> String {
    let out = s3.client().put_object().bucket(bucket).key(key).body(bytes.to_vec().into()).send().await.unwrap();
    out.e_tag().unwrap().trim_matches('"').to_string()
}

fn input(labels: &[&str]) -> SaveMetadataInput {
    let key = SourceKey::parse("inputs/a/talk.mp4").unwrap();
    SaveMetadataInput {
        document: ExecutionDocument {
            source: Source::new("watch", key.key(), 10, "src"),
            asset: classify(&key, b"\0\0\0\x20ftypisom"),
            assembly: None,
            original: Some(StoredObject {
                bucket: "public".into(),
                key: key.original_key(),
                size: 10,
                etag: "src".into(),
            }),
            probe: None,
            plan: None,
            renditions: Some(Renditions {
                bucket: "public".into(),
                job_id: Some("job-1".into()),
                outputs: labels
                    .iter()
                    .map(|l| OutputFile {
                        key: key.rendition_key(l),
                        label: Some(l.to_string()),
                        width: None,
                        height: None,
                        duration_ms: Some(2000),
                    })
                    .collect(),
            }),
            thumbnail: None,
            caption: None,
            metadata: None,
            lost_event: None,
        },
        execution_id: "arn:aws:states:us-east-1:000000000000:execution:mediaflow:x".into(),
        started_at: "2026-11-25T10:00:00Z".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_the_document_and_removes_only_stale_renditions_of_this_stem() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), destination_bucket: "public".into() };
    let e360 = put(&s3, "public", "audiovideo/a/talk_360p.mp4", b"three-sixty").await;
    put(&s3, "public", "audiovideo/a/talk_720p.mp4", b"seven-twenty").await;
    // An earlier 1080p upload of the same stem, and another stem that starts the same.
    put(&s3, "public", "audiovideo/a/talk_1080p.mp4", b"old").await;
    put(&s3, "public", "audiovideo/a/talk-2_1080p.mp4", b"other").await;

    let result = handler(input(&["360p", "720p"]), &clients).await.unwrap();
    assert_eq!(result.key, "json/a/talk.json");
    assert_eq!(result.removed, ["audiovideo/a/talk_1080p.mp4"]);
    let got = s3.client().get_object().bucket("public").key("json/a/talk.json").send().await.unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(doc["source"]["key"], "inputs/a/talk.mp4");
    assert_eq!(doc["outputs"][0]["size"], 11);
    assert_eq!(doc["outputs"][0]["etag"], e360);
    assert_eq!(doc["original"]["key"], "original/a/talk.mp4");
    let listed = s3.client().list_objects_v2().bucket("public").prefix("audiovideo/").send().await.unwrap();
    let keys: Vec<_> = listed.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(keys, ["audiovideo/a/talk-2_1080p.mp4", "audiovideo/a/talk_360p.mp4", "audiovideo/a/talk_720p.mp4"]);
    // Twice is the same.
    assert!(handler(input(&["360p", "720p"]), &clients).await.unwrap().removed.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_output_is_an_output_mismatch_and_nothing_is_written_or_removed() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), destination_bucket: "public".into() };
    put(&s3, "public", "audiovideo/a/talk_360p.mp4", b"x").await;
    put(&s3, "public", "audiovideo/a/talk_1080p.mp4", b"old").await;
    let err = handler(input(&["360p", "720p"]), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::OutputMismatch);
    assert!(err.to_string().contains("talk_720p.mp4"), "{err}");
    let listed = s3.client().list_objects_v2().bucket("public").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(2));
}
