//! Publish against the embedded S3 endpoint: the staged set made public whole, an earlier
//! upload's leftovers removed, a superseded upload publishing nothing, a busy guard retried.

use futures::{StreamExt, TryStreamExt};
use mediaflow_core::ErrorName;
use mediaflow_core::Named;
use mediaflow_core::classify::classify;
use mediaflow_core::contract::{
    ExecutionDocument, MetadataResult, OutputFile, PublishInput, PublishStatus, Renditions, Source, Stream,
    StreamVariant,
};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::publish::{SegmentListing, guard_key, listing_key, staged_key};
use mediaflow_s3::EmbeddedS3;
use publish::{Clients, handler};

/// The document of an upload of `inputs/a/talk.mp4` (its `sequencer`) with renditions `labels`.
fn input(sequencer: &str, labels: &[&str]) -> PublishInput {
    let key = SourceKey::parse("inputs/a/talk.mp4").unwrap();
    let mut source = Source::new("watch", key.key(), 10, "src");
    source.sequencer = Some(sequencer.into());
    let outputs = labels
        .iter()
        .map(|l| OutputFile {
            key: key.rendition_key(l),
            label: Some(l.to_string()),
            width: None,
            height: None,
            duration_ms: None,
        })
        .collect();
    PublishInput {
        document: ExecutionDocument {
            asset: classify(&key, b"\0\0\0\x20ftypisom"),
            renditions: Some(Renditions { bucket: "public".into(), job_id: None, outputs, streams: Vec::new() }),
            metadata: Some(MetadataResult {
                bucket: "public".into(),
                key: key.metadata_key(),
                size: 2,
                etag: "m".into(),
            }),
            source,
            assembly: None,
            original: None,
            probe: None,
            plan: None,
            storyboard: None,
            loudness: None,
            thumbnail: None,
            caption: None,
            transcription: None,
            auto_caption: None,
            publish: None,
            lost_event: None,
        },
        execution_id: format!("arn:aws:states:us-east-1:123456789012:execution:mediaflow-pipeline:{sequencer}"),
        uploaded_at: "2026-12-01T10:00:00Z".parse().unwrap(),
    }
}

/// Stages every output `input` names, each holding `content`.
async fn stage(s3: &EmbeddedS3, input: &PublishInput, content: &str) {
    for key in mediaflow_core::publish::publish_waves(&input.document, &[]).unwrap().concat() {
        let staged = staged_key(&input.document.source, &key);
        s3.client()
            .put_object()
            .bucket("watch")
            .key(staged)
            .body(content.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

async fn public(s3: &EmbeddedS3) -> Vec<String> {
    let listed = s3.client().list_objects_v2().bucket("public").send().await.unwrap();
    listed.contents().iter().filter_map(|o| o.key().map(String::from)).collect()
}

async fn body(s3: &EmbeddedS3, key: &str) -> String {
    let got = s3.client().get_object().bucket("public").key(key).send().await.unwrap();
    String::from_utf8(got.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

fn clients(s3: &EmbeddedS3) -> Clients {
    Clients {
        s3: s3.client(),
        destination_bucket: "public".into(),
        single_copy_limit: mediaflow_lambda::SINGLE_COPY_LIMIT,
        part_bytes: mediaflow_lambda::PART_BYTES,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_newest_set_is_published_whole_and_replaces_only_what_it_does_not_remake() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = clients(&s3);
    // Outputs from before any record: a 1080p of this stem, and another stem that starts the same.
    for key in ["audiovideo/a/talk_1080p.mp4", "audiovideo/a/talk-2_1080p.mp4"] {
        s3.client().put_object().bucket("public").key(key).body(b"old".to_vec().into()).send().await.unwrap();
    }
    let first = input("01", &["360p", "720p"]);
    stage(&s3, &first, "first").await;
    let result = handler(first.clone(), &clients).await.unwrap();
    assert_eq!(result.status, PublishStatus::Published);
    assert_eq!(result.removed, ["audiovideo/a/talk_1080p.mp4"]);
    assert_eq!(
        public(&s3).await,
        [
            "audiovideo/a/talk-2_1080p.mp4",
            "audiovideo/a/talk_360p.mp4",
            "audiovideo/a/talk_720p.mp4",
            "json/a/talk.json"
        ]
    );
    let staged = s3.client().list_objects_v2().bucket("watch").prefix(".mediaflow/staging/").send().await.unwrap();
    assert_eq!(staged.key_count(), Some(0), "the staging is emptied");
    // Twice is the same.
    assert_eq!(handler(first, &clients).await.unwrap().status, PublishStatus::Published);

    // A newer upload with fewer rungs: its set, and no 720p of the first.
    let second = input("02", &["360p"]);
    stage(&s3, &second, "second").await;
    let result = handler(second, &clients).await.unwrap();
    assert_eq!(result.removed, ["audiovideo/a/talk_720p.mp4"]);
    assert_eq!(public(&s3).await, ["audiovideo/a/talk-2_1080p.mp4", "audiovideo/a/talk_360p.mp4", "json/a/talk.json"]);
    assert_eq!(body(&s3, "json/a/talk.json").await, "second");

    // The first upload's execution, late: superseded, nothing published, its staging emptied.
    let late = input("01", &["360p", "720p", "1080p"]);
    let late = PublishInput { execution_id: "late".into(), ..late };
    stage(&s3, &late, "late").await;
    let result = handler(late, &clients).await.unwrap();
    assert_eq!(result.status, PublishStatus::Superseded);
    assert!(result.reason.unwrap().contains("mediaflow-pipeline:02"));
    assert_eq!(body(&s3, "audiovideo/a/talk_360p.mp4").await, "second");
    let staged = s3.client().list_objects_v2().bucket("watch").prefix(".mediaflow/staging/").send().await.unwrap();
    assert_eq!(staged.key_count(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guard_held_by_another_publish_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let name = SourceKey::parse("inputs/a/talk.mp4").unwrap();
    let guard = serde_json::json!({"guard": {"executionId": "other", "since": chrono::Utc::now()}});
    let record = guard_key(&name, mediaflow_core::contract::AssetKind::Video);
    s3.client()
        .put_object()
        .bucket("watch")
        .key(record)
        .body(guard.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    let mine = input("05", &["360p"]);
    stage(&s3, &mine, "mine").await;
    let err = handler(mine, &clients(&s3)).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::Transient, "{err}");
    assert!(public(&s3).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_superseded_publish_releases_a_guard_it_took_before_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = clients(&s3);
    let newer = input("02", &["360p"]);
    stage(&s3, &newer, "newer").await;
    handler(newer, &clients).await.unwrap();
    // The older upload's publish had taken the guard, then its process died.
    let older = input("01", &["360p"]);
    let record_key =
        guard_key(&SourceKey::parse("inputs/a/talk.mp4").unwrap(), mediaflow_core::contract::AssetKind::Video);
    let got = s3.client().get_object().bucket("watch").key(&record_key).send().await.unwrap();
    let mut record: serde_json::Value =
        serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap();
    record["guard"] = serde_json::json!({"executionId": older.execution_id, "since": chrono::Utc::now()});
    let guarded = record.to_string().into_bytes();
    s3.client().put_object().bucket("watch").key(&record_key).body(guarded.into()).send().await.unwrap();

    stage(&s3, &older, "older").await;
    assert_eq!(handler(older, &clients).await.unwrap().status, PublishStatus::Superseded);
    let got = s3.client().get_object().bucket("watch").key(&record_key).send().await.unwrap();
    let record: serde_json::Value = serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap();
    assert!(record.get("guard").is_none(), "the guard is released: {record:#}");
    assert_eq!(body(&s3, "audiovideo/a/talk_360p.mp4").await, "newer");
}

/// Step Functions refuses a state's output over 256 KiB.
const STATE_LIMIT: usize = 256 * 1024;

/// A 3-hour HLS ladder at 6 s segments: 1,800 a rung.
const THREE_HOURS: usize = 3 * 3600 / 6;

/// An HLS ladder of four rungs of `segments_per_rung` segments, staged as await-mediaconvert
/// leaves it: the playlists, the segments and their listing.
async fn stage_ladder(s3: &EmbeddedS3, input: &mut PublishInput, segments_per_rung: usize) -> usize {
    let key = SourceKey::parse("inputs/a/talk.mp4").unwrap();
    let source = input.document.source.clone();
    let master = format!("{}.m3u8", key.rendition_base());
    let listing = listing_key(&staged_key(&source, &master)).unwrap();
    let mut variants = Vec::new();
    let mut segments = Vec::new();
    for label in ["360p", "480p", "720p", "1080p"] {
        variants.push(StreamVariant {
            playlist: format!("{}_{label}.m3u8", key.rendition_base()),
            label: Some(label.into()),
            width: None,
            height: None,
            bandwidth: 1_000_000,
            segments: segments_per_rung as u32,
        });
        segments.extend((1..=segments_per_rung).map(|n| format!("{}_{label}_{n:05}.ts", key.rendition_base())));
    }
    let ladder = SegmentListing { master: master.clone(), segments: segments.clone() };
    let body = serde_json::to_vec(&ladder).unwrap();
    s3.client().put_object().bucket("watch").key(&listing).body(body.into()).send().await.unwrap();
    let stream = Stream { master: master.clone(), listing, variants };
    input.document.renditions.as_mut().unwrap().streams.push(stream);
    let client = s3.client();
    let staged: Vec<String> = mediaflow_core::publish::publish_waves(&input.document, &[ladder])
        .unwrap()
        .concat()
        .into_iter()
        .map(|k| staged_key(&source, &k))
        .collect();
    futures::stream::iter(staged)
        .map(|key| {
            let client = client.clone();
            async move { client.put_object().bucket("watch").key(key).body(b"ts".to_vec().into()).send().await }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    segments.len()
}

/// What grows with the video's length stays out of the state: a 3-hour ladder is published
/// whole, its result names the files and counts the segments, and a later upload without the
/// ladder removes every segment of it, within Step Functions' limit too.
#[tokio::test(flavor = "multi_thread")]
async fn a_three_hour_ladder_is_published_and_replaced_within_the_state_limit() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = clients(&s3);
    let mut first = input("01", &["360p", "1080p"]);
    let segments = stage_ladder(&s3, &mut first, THREE_HOURS).await;
    assert_eq!(segments, 7200);

    let result = handler(first.clone(), &clients).await.unwrap();
    let size = serde_json::to_vec(&result).unwrap().len();
    assert!(size < STATE_LIMIT / 16, "the result takes {size} bytes of the state");
    assert_eq!(result.segments as usize, segments);
    assert!(result.published.contains(&"audiovideo/a/talk.m3u8".to_string()));
    assert!(result.published.iter().all(|k| !k.ends_with(".ts")), "segments are counted, not listed");
    let mut public_segments = 0;
    let mut pages = s3.client().list_objects_v2().bucket("public").prefix("audiovideo/a/").into_paginator().send();
    while let Some(page) = pages.next().await {
        public_segments += page.unwrap().contents().iter().filter(|o| o.key().unwrap().ends_with(".ts")).count();
    }
    assert_eq!(public_segments, segments, "every segment is public");
    let staged = s3.client().list_objects_v2().bucket("watch").prefix(".mediaflow/staging/").send().await.unwrap();
    assert_eq!(staged.key_count(), Some(0), "the staging, listing and all, is emptied");
    // Run again (a retry, a resumed run): the same set, from the record, with staging gone.
    let again = handler(first.clone(), &clients).await.unwrap();
    assert_eq!(
        (again.status, again.segments, &again.published),
        (PublishStatus::Published, result.segments, &result.published)
    );

    // A newer upload without the ladder: the earlier one goes, counted.
    let second = input("02", &["360p"]);
    stage(&s3, &second, "second").await;
    let result = handler(second, &clients).await.unwrap();
    assert!(serde_json::to_vec(&result).unwrap().len() < STATE_LIMIT / 16);
    assert_eq!(result.removed_segments as usize, segments);
    assert!(result.removed.contains(&"audiovideo/a/talk.m3u8".to_string()));
    assert_eq!(public(&s3).await, ["audiovideo/a/talk_360p.mp4", "json/a/talk.json"]);

    // The first execution, late (its staging restaged): superseded, twice, leaving nothing.
    let mut late = input("01", &["360p", "1080p"]);
    late.execution_id = "late".into();
    stage_ladder(&s3, &mut late, 2).await;
    for _ in 0..2 {
        assert_eq!(handler(late.clone(), &clients).await.unwrap().status, PublishStatus::Superseded);
    }
    assert_eq!(public(&s3).await, ["audiovideo/a/talk_360p.mp4", "json/a/talk.json"]);
    let staged = s3.client().list_objects_v2().bucket("watch").prefix(".mediaflow/staging/").send().await.unwrap();
    assert_eq!(staged.key_count(), Some(0));
}

/// A staged output that is missing is found before anything goes public.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_staged_output_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = EmbeddedS3::start(dir.path(), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mine = input("01", &["360p", "720p"]);
    stage(&s3, &mine, "mine").await;
    let gone = staged_key(&mine.document.source, "audiovideo/a/talk_720p.mp4");
    s3.client().delete_object().bucket("watch").key(&gone).send().await.unwrap();
    let err = handler(mine, &clients(&s3)).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::OutputMismatch, "{err}");
    assert!(err.to_string().contains(&gone), "{err}");
    assert!(public(&s3).await.is_empty(), "nothing partial is public");
}
