//! BuildJob: shipped templates, an override in the watch bucket, bad templates.

use build_job::{Clients, handler};
use mediaflow_core::ErrorName;
use mediaflow_core::Named;
use mediaflow_core::classify::classify;
use mediaflow_core::contract::{MediaInput, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::probe::parse_ffprobe;
use mediaflow_s3::EmbeddedS3;
use serde_json::json;

fn input(key: &str, width: Option<u32>, height: u32) -> MediaInput {
    let mut streams = vec![json!({"codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "48000"})];
    if let Some(w) = width {
        streams.push(json!({"codec_type": "video", "codec_name": "h264", "width": w, "height": height, "avg_frame_rate": "25/1"}));
    }
    let probe = parse_ffprobe(
        json!({"streams": streams, "format": {"format_name": "mov,mp4", "duration": "60.0"}}).to_string().as_bytes(),
    )
    .unwrap();
    let head: &[u8] = if width.is_some() { b"\0\0\0\x20ftypisom" } else { b"RIFF\0\0\0\0WAVEfmt " };
    MediaInput {
        source: Source::new("watch", key, 1, "e"),
        asset: classify(&SourceKey::parse(key).unwrap(), head),
        probe,
    }
}

async fn start(dir: &std::path::Path) -> (EmbeddedS3, Clients) {
    let s3 = EmbeddedS3::start(dir, &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients {
        s3: s3.client(),
        destination_bucket: "public".into(),
        video_template_key: None,
        audio_template_key: None,
        price_table_key: None,
    };
    (s3, clients)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_templates() {
    let dir = tempfile::tempdir().unwrap();
    let (_s3, clients) = start(dir.path()).await;
    let video = handler(input("inputs/a/talk.mp4", Some(1280), 720), &clients).await.unwrap();
    assert_eq!(video.template, "job.json");
    let keys: Vec<_> = video.outputs.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["audiovideo/a/talk_360p.mp4", "audiovideo/a/talk_480p.mp4", "audiovideo/a/talk_720p.mp4"]);
    assert_eq!(video.job["Settings"]["Inputs"][0]["FileInput"], "s3://watch/inputs/a/talk.mp4");
    let audio = handler(input("inputs/a/ep.wav", None, 0), &clients).await.unwrap();
    assert_eq!(audio.template, "job-audio.json");
    assert_eq!(audio.outputs[0].key, "audiovideo/a/ep.mp3");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_template_in_the_watch_bucket_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, mut clients) = start(dir.path()).await;
    let mut template = mediaflow_core::templates::video();
    template["Settings"]["OutputGroups"][0]["Outputs"].as_array_mut().unwrap().truncate(2);
    template["Priority"] = json!(42);
    let body = serde_json::to_vec(&template).unwrap();
    s3.client().put_object().bucket("watch").key(".mediaflow/job.json").body(body.into()).send().await.unwrap();
    clients.video_template_key = Some(".mediaflow/job.json".into());
    let plan = handler(input("inputs/talk.mp4", Some(1920), 1080), &clients).await.unwrap();
    assert_eq!(plan.template, "s3://watch/.mediaflow/job.json");
    assert_eq!(plan.outputs.len(), 2);
    assert_eq!(plan.job["Priority"], 42);

    s3.client()
        .put_object()
        .bucket("watch")
        .key(".mediaflow/job.json")
        .body(b"{ nope".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = handler(input("inputs/talk.mp4", Some(1920), 1080), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidTemplate);
    s3.client()
        .put_object()
        .bucket("watch")
        .key(".mediaflow/job.json")
        .body(b"{\"Settings\": {}}".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = handler(input("inputs/talk.mp4", Some(1920), 1080), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidTemplate);
    assert!(err.to_string().contains("OutputGroups"), "{err}");

    clients.video_template_key = Some(".mediaflow/missing.json".into());
    let err = handler(input("inputs/talk.mp4", Some(1920), 1080), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::Configuration);
}
