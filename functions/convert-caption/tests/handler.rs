//! The handler against the embedded S3 endpoint, with the real `aws-sdk-s3` client.

use mediaflow_core::Named;
use std::path::Path;

use convert_caption::{Clients, handler};
use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetInput, CaptionFormat, Source};
use mediaflow_core::publish::staged_key;
use mediaflow_s3::EmbeddedS3;

const CAPTIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/captions/testdata");

struct World {
    s3: EmbeddedS3,
    clients: Clients,
}

async fn world(dir: &Path) -> World {
    let s3 = EmbeddedS3::start(dir, &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), destination_bucket: "public".into() };
    World { s3, clients }
}

/// Uploads `bytes` as `key` and returns the input Classify would give ConvertCaption.
async fn upload(w: &World, key: &str, bytes: Vec<u8>) -> AssetInput {
    let put = w.s3.client().put_object().bucket("watch").key(key).body(bytes.clone().into()).send().await.unwrap();
    AssetInput::classified(Source::new("watch", key, bytes.len() as u64, put.e_tag().unwrap()), &bytes).unwrap()
}

/// The output public at `key` as staged for the upload `source`, with its Content-Type.
async fn fetch(w: &World, source: &Source, key: &str) -> (Vec<u8>, Option<String>) {
    let got = w.s3.client().get_object().bucket("watch").key(staged_key(source, key)).send().await.unwrap();
    let content_type = got.content_type().map(str::to_string);
    (got.body.collect().await.unwrap().into_bytes().to_vec(), content_type)
}

fn w3c_valid(path: &Path) {
    mediaflow_testkit::assert_w3c_webvtt(&[path.to_path_buf()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn subrip_in_a_sub_folder_becomes_webvtt_with_its_language() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let srt = std::fs::read(format!("{CAPTIONS}/srt/windows-1252.srt")).unwrap();
    let input = upload(&w, "inputs/course 1/talk+intro.fr.srt", srt).await;
    let staged = |key: &str| staged_key(&input.source, key);
    let result = handler(input.clone(), &w.clients).await.unwrap();
    assert_eq!(result.key, "closed-caption/course 1/talk+intro.fr.vtt");
    assert_eq!((result.format, result.language.as_deref(), result.cues), (CaptionFormat::Srt, Some("fr"), 2));
    let (vtt, content_type) = fetch(&w, &input.source, &result.key).await;
    assert_eq!(content_type.as_deref(), Some("text/vtt; charset=utf-8"));
    assert_eq!(result.size, vtt.len() as u64);
    let text = String::from_utf8(vtt).unwrap();
    assert!(text.starts_with("WEBVTT\n\n") && text.contains("Déjà vu, señor. Ça coûte 5 €."), "{text}");
    w3c_valid(&w.s3.path_of("watch", &staged(&result.key)));
    let head = w.s3.client().head_object().bucket("watch").key(staged(&result.key)).send().await.unwrap();
    assert_eq!(head.e_tag().unwrap().trim_matches('"'), result.etag);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_converts_and_valid_webvtt_is_kept_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    for (file, key) in [
        ("sbv/youtube.sbv", "inputs/yt.sbv"),
        ("ttml/netflix.dfxp", "inputs/show.en-US.dfxp"),
        ("ttml/basic.ttml", "inputs/basic.ttml"),
        ("vtt/broken.vtt", "inputs/broken.vtt"),
    ] {
        let input = upload(&w, key, std::fs::read(format!("{CAPTIONS}/{file}")).unwrap()).await;
        let result = handler(input.clone(), &w.clients).await.unwrap_or_else(|e| panic!("{file}: {e}"));
        w3c_valid(&w.s3.path_of("watch", &staged_key(&input.source, &result.key)));
    }
    let valid = std::fs::read(format!("{CAPTIONS}/vtt/valid.vtt")).unwrap();
    let input = upload(&w, "inputs/valid.vtt", valid.clone()).await;
    let result = handler(input.clone(), &w.clients).await.unwrap();
    assert_eq!(fetch(&w, &input.source, &result.key).await.0, valid);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_named_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let input = upload(&w, "inputs/bad.srt", std::fs::read(format!("{CAPTIONS}/srt/bad-timing.srt")).unwrap()).await;
    let err = handler(input, &w.clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidCaption);
    assert!(err.to_string().starts_with("line 6: expected a timing line"), "{err}");
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "MediaFlow.InvalidCaption");
    let listed = w.s3.client().list_objects_v2().bucket("public").send().await.unwrap();
    assert!(listed.contents().is_empty());
    // The upload is kept.
    w.s3.client().head_object().bucket("watch").key("inputs/bad.srt").send().await.unwrap();

    let mut gone = upload(&w, "inputs/gone.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n".to_vec()).await;
    gone.source.key = "inputs/never-uploaded.srt".into();
    assert_eq!(handler(gone, &w.clients).await.unwrap_err().name(), ErrorName::InvalidInput);

    let video = upload(&w, "inputs/clip.mp4", b"\0\0\0\x20ftypisom\0\0\0\0".to_vec()).await;
    assert_eq!(handler(video, &w.clients).await.unwrap_err().name(), ErrorName::InvalidInput);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_store_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let input = upload(&w, "inputs/a.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n".to_vec()).await;
    // Nothing listens on port 1.
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:1")
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("a", "b", None, None, "test"))
        .force_path_style(true)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    let clients = Clients { s3: aws_sdk_s3::Client::from_conf(config), destination_bucket: "public".into() };
    assert_eq!(handler(input, &clients).await.unwrap_err().name(), ErrorName::Transient);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_access_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let input = upload(&w, "inputs/a.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n".to_vec()).await;
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(w.s3.endpoint())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("not-our-key", "wrong", None, None, "test"))
        .force_path_style(true)
        .build();
    let clients = Clients { s3: aws_sdk_s3::Client::from_conf(config), destination_bucket: "public".into() };
    let err = handler(input, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::Configuration, "{err}");
}
