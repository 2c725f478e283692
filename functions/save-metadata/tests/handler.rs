//! SaveMetadata against the embedded S3 endpoint.

use mediaflow_core::ErrorName;
use mediaflow_core::Named;
use mediaflow_core::classify::classify;
use mediaflow_core::contract::{ExecutionDocument, OutputFile, Renditions, SaveMetadataInput, Source, StoredObject};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::publish::staged_key;
use mediaflow_s3::EmbeddedS3;
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
            storyboard: None,
            loudness: None,
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
                streams: Vec::new(),
            }),
            thumbnail: None,
            caption: None,
            transcription: None,
            auto_caption: None,
            metadata: None,
            publish: None,
            lost_event: None,
        },
        execution_id: "arn:aws:states:us-east-1:000000000000:execution:mediaflow:x".into(),
        started_at: "2026-11-25T10:00:00Z".into(),
    }
}

/// Where the output public at `key` is staged for the upload of [`input`].
fn staged(key: &str) -> String {
    staged_key(&input(&[]).document.source, key)
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_the_document_beside_the_staged_outputs_and_nothing_public() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), destination_bucket: "public".into() };
    let e360 = put(&s3, "watch", &staged("audiovideo/a/talk_360p.mp4"), b"three-sixty").await;
    put(&s3, "watch", &staged("audiovideo/a/talk_720p.mp4"), b"seven-twenty").await;

    let result = handler(input(&["360p", "720p"]), &clients).await.unwrap();
    assert_eq!(
        (result.bucket.as_str(), result.key.as_str()),
        ("public", "json/a/talk.json"),
        "named by its public key"
    );
    let got = s3.client().get_object().bucket("watch").key(staged("json/a/talk.json")).send().await.unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(doc["source"]["key"], "inputs/a/talk.mp4");
    assert_eq!(doc["outputs"][0]["key"], "audiovideo/a/talk_360p.mp4");
    assert_eq!(doc["outputs"][0]["size"], 11);
    assert_eq!(doc["outputs"][0]["etag"], e360);
    assert_eq!(doc["original"]["key"], "original/a/talk.mp4");
    let public = s3.client().list_objects_v2().bucket("public").send().await.unwrap();
    assert_eq!(public.key_count(), Some(0), "nothing is public before Publish");
    // Twice is the same.
    assert_eq!(handler(input(&["360p", "720p"]), &clients).await.unwrap().key, "json/a/talk.json");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_output_is_an_output_mismatch_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), destination_bucket: "public".into() };
    put(&s3, "watch", &staged("audiovideo/a/talk_360p.mp4"), b"x").await;
    let err = handler(input(&["360p", "720p"]), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::OutputMismatch);
    assert!(err.to_string().contains("talk_720p.mp4"), "{err}");
    let listed = s3.client().list_objects_v2().bucket("watch").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(1), "no document beside one missing output");
}
