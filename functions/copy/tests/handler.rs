//! copy-mp3 and archive-original against the embedded S3 endpoint.

use copy::{Clients, archive_original, copy_mp3};
use mediaflow_core::ErrorName;
use mediaflow_core::Named;
use mediaflow_core::contract::{AssetInput, Source};
use mediaflow_core::publish::staged_key;
use mediaflow_s3::EmbeddedS3;

async fn start(dir: &std::path::Path) -> (EmbeddedS3, Clients) {
    let s3 = EmbeddedS3::start(&dir.join("data"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients {
        s3: s3.client(),
        destination_bucket: "public".into(),
        single_copy_limit: mediaflow_lambda::SINGLE_COPY_LIMIT,
        part_bytes: mediaflow_lambda::PART_BYTES,
    };
    (s3, clients)
}

async fn upload(s3: &EmbeddedS3, key: &str, bytes: &[u8]) -> AssetInput {
    let put = s3
        .client()
        .put_object()
        .bucket("watch")
        .key(key)
        .content_type("video/quicktime")
        .body(bytes.to_vec().into())
        .send()
        .await
        .unwrap();
    AssetInput::classified(Source::new("watch", key, bytes.len() as u64, put.e_tag().unwrap()), bytes).unwrap()
}

/// The output public at `key` as staged for the upload `source`, with its Content-Type.
async fn fetch(s3: &EmbeddedS3, source: &Source, key: &str) -> (Vec<u8>, Option<String>) {
    let got = s3.client().get_object().bucket("watch").key(staged_key(source, key)).send().await.unwrap();
    let content_type = got.content_type().map(str::to_string);
    (got.body.collect().await.unwrap().into_bytes().to_vec(), content_type)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mp3_is_delivered_unchanged_as_audio_mpeg() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let file = dir.path().join("song.mp3");
    mediaflow_testkit::tone(&file, 2.0);
    let bytes = std::fs::read(&file).unwrap();
    let input = upload(&s3, "inputs/pod cast/ep+1 100%.mp3", &bytes).await;
    let out = copy_mp3(input.clone(), &clients).await.unwrap();
    assert_eq!(out.outputs.len(), 1);
    assert_eq!(out.outputs[0].key, "audiovideo/pod cast/ep+1 100%.mp3");
    let (copied, content_type) = fetch(&s3, &input.source, &out.outputs[0].key).await;
    assert_eq!(copied, bytes);
    assert_eq!(content_type.as_deref(), Some("audio/mpeg"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_original_is_archived_byte_for_byte_and_twice_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let file = dir.path().join("clip.mov");
    mediaflow_testkit::video(&file, 640, 360, 1.0, true);
    let bytes = std::fs::read(&file).unwrap();
    let input = upload(&s3, "inputs/équipe/clip final.mov", &bytes).await;
    let first = archive_original(input.clone(), &clients).await.unwrap();
    let again = archive_original(input.clone(), &clients).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(first.key, "original/équipe/clip final.mov");
    assert_eq!(first.size, bytes.len() as u64);
    let (copied, content_type) = fetch(&s3, &input.source, &first.key).await;
    assert_eq!(copied, bytes);
    assert_eq!(content_type.as_deref(), Some("video/quicktime"));
}

#[tokio::test(flavor = "multi_thread")]
async fn large_uploads_are_copied_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, mut clients) = start(dir.path()).await;
    clients.single_copy_limit = 8 * 1024 * 1024;
    clients.part_bytes = 5 * 1024 * 1024;
    let bytes: Vec<u8> = (0..12 * 1024 * 1024 + 123).map(|i| (i % 251) as u8).collect();
    let input = upload(&s3, "inputs/big.mov", &bytes).await;
    let out = archive_original(input.clone(), &clients).await.unwrap();
    let (copied, content_type) = fetch(&s3, &input.source, &out.key).await;
    assert_eq!(copied, bytes);
    assert_eq!(content_type.as_deref(), Some("video/quicktime"), "kept as a copy in one piece keeps it");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_that_does_not_match_the_upload_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let mut input = upload(&s3, "inputs/changed.mov", b"\0\0\0\x20ftypqt  ").await;
    // The upload was replaced after Classify saw it.
    input.source.size += 1;
    let err = archive_original(input.clone(), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::OutputMismatch);
    input.source.size -= 1;
    input.source.etag = "0123456789abcdef0123456789abcdef".into();
    assert_eq!(archive_original(input.clone(), &clients).await.unwrap_err().name(), ErrorName::OutputMismatch);
    assert_eq!(copy_mp3(input, &clients).await.unwrap_err().name(), ErrorName::InvalidInput);
}
