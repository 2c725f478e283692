//! The MediaConvert stand-in, driven by `aws-sdk-mediaconvert` with the job the pipeline builds
//! for a real clip: one ffmpeg run, outputs in the public bucket, events as MediaConvert sends.

use std::path::Path;
use std::time::Duration;

use mediaflow_core::contract::{JobStateChangeEvent, JobStatus};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::mediaconvert::to_wire;
use mediaflow_core::plan::{PlanConfig, job_for, template_for};
use mediaflow_core::probe::{FFPROBE_ARGS, parse_ffprobe};
use mediaflow_local::EmbeddedS3;
use mediaflow_local::mediaconvert::{MediaConvertEndpoint, Settings};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

struct World {
    s3: EmbeddedS3,
    mediaconvert: MediaConvertEndpoint,
    client: aws_sdk_mediaconvert::Client,
}

async fn world(dir: &Path) -> World {
    let s3 = EmbeddedS3::start(&dir.join("data"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let settings = Settings { jobs_dir: Some(dir.join("jobs")), ..Settings::new(s3.client(), dir.join("work")) };
    let mediaconvert = MediaConvertEndpoint::start(settings, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = mediaconvert.client();
    World { s3, mediaconvert, client }
}

fn ffprobe(path: &Path) -> Value {
    let out = std::process::Command::new("ffprobe").args(FFPROBE_ARGS).arg(path).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Uploads `file` as `key` and builds the job the pipeline would, as CreateJob's body.
async fn job_for_upload(w: &World, file: &Path, key: &str, token: &str) -> Value {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await.unwrap();
    w.s3.client().put_object().bucket("watch").key(key).body(body).send().await.unwrap();
    let probe = parse_ffprobe(ffprobe(file).to_string().as_bytes()).unwrap();
    let (name, template) = template_for(&probe);
    let config = PlanConfig::new("watch", "public");
    let plan = job_for(&SourceKey::parse(key).unwrap(), &probe, name, &template, &config).unwrap();
    let mut job = plan.job;
    job["Role"] = json!("arn:aws:iam::123456789012:role/mediaconvert");
    job["ClientRequestToken"] = json!(token);
    job["UserMetadata"] = json!({"application": "mediaflow", "ref": token});
    to_wire(&job)
}

/// CreateJob with `body` as written (the SDK's `JobSettings` has no serde support; the
async fn until_ended(
    events: &mut UnboundedReceiver<JobStateChangeEvent>,
    id: &str,
) -> (Vec<JobStatus>, JobStateChangeEvent) {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(120), events.recv()).await.unwrap().unwrap();
        if event.detail.job_id != id {
            continue;
        }
        seen.push(event.detail.status);
        if matches!(event.detail.status, JobStatus::Complete | JobStatus::Error | JobStatus::Canceled) {
            return (seen, event);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipelines_job_becomes_renditions_in_the_public_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut events = w.mediaconvert.events();
    let clip = dir.path().join("talk.mp4");
    mediaflow_testkit::video(&clip, 1280, 720, 2.0, true);
    let body = job_for_upload(&w, &clip, "inputs/course/talk.mp4", "ref-1").await;

    let id = mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await;
    assert_eq!(
        mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await,
        id,
        "the same clientRequestToken is the same job"
    );
    let (statuses, complete) = until_ended(&mut events, &id).await;
    assert_eq!(statuses, [JobStatus::Progressing, JobStatus::Complete], "{:?}", complete.detail.error_message);
    assert_eq!(complete.detail.user_metadata["ref"], "ref-1");

    let details = &complete.detail.output_group_details[0].output_details;
    let paths: Vec<&str> = details.iter().map(|d| d.output_file_paths[0].as_str()).collect();
    assert_eq!(
        paths,
        [
            "s3://public/audiovideo/course/talk_360p.mp4",
            "s3://public/audiovideo/course/talk_480p.mp4",
            "s3://public/audiovideo/course/talk_720p.mp4"
        ],
        "the ladder stops at the source's 720p"
    );
    for (detail, (width, height)) in details.iter().zip([(640, 360), (854, 480), (1280, 720)]) {
        let key = detail.output_file_paths[0].trim_start_matches("s3://public/");
        let probed = ffprobe(&w.s3.path_of("public", key));
        let streams = probed["streams"].as_array().unwrap();
        let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
        assert_eq!((video["width"].as_u64(), video["height"].as_u64()), (Some(width), Some(height)), "{key}");
        assert_eq!(video["codec_name"], "h264");
        assert!(streams.iter().any(|s| s["codec_type"] == "audio" && s["codec_name"] == "aac"), "{key}");
        let ms = detail.duration_in_ms.unwrap();
        assert!((1900..=2100).contains(&ms), "{key}: {ms} ms");
        // Read from the MP4's header, it is the duration ffprobe gives the file.
        let seconds: f64 = probed["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert_eq!(ms, (seconds * 1000.0).round() as u64, "{key}");
        let size = detail.video_details.as_ref().unwrap();
        assert_eq!((size.width_in_px as u64, size.height_in_px as u64), (width, height));
    }

    let got = w.client.get_job().id(&id).send().await.unwrap();
    let job = got.job().unwrap();
    assert_eq!(job.status().map(|s| s.as_str()), Some("COMPLETE"));
    assert_eq!(job.job_percent_complete(), Some(100));
    assert_eq!(w.client.list_jobs().send().await.unwrap().jobs().len(), 1);
    let progress = w.mediaconvert.jobs();
    assert_eq!(
        (progress[0].input.as_str(), progress[0].status.as_str(), progress[0].percent),
        ("s3://watch/inputs/course/talk.mp4", "COMPLETE", 100)
    );
    let missing = w.client.get_job().id("nope").send().await.unwrap_err();
    assert!(missing.into_service_error().is_not_found_exception());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsupported_setting_and_an_unreadable_input_end_in_error() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut events = w.mediaconvert.events();
    let clip = dir.path().join("clip.mp4");
    mediaflow_testkit::video(&clip, 640, 360, 1.0, false);

    let mut body = job_for_upload(&w, &clip, "inputs/clip.mp4", "ref-hevc").await;
    body["settings"]["outputGroups"][0]["outputs"][0]["videoDescription"]["codecSettings"]["codec"] = json!("H_265");
    let id = mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await;
    let (_, error) = until_ended(&mut events, &id).await;
    assert_eq!(error.detail.status, JobStatus::Error);
    assert_eq!(error.detail.error_code, Some(1030));
    let message = error.detail.error_message.unwrap();
    assert!(message.contains("settings.outputGroups[0].outputs[0].videoDescription.codecSettings.codec"), "{message}");

    let body = job_for_upload(&w, &clip, "inputs/clip.mp4", "ref-corrupt").await;
    std::fs::write(w.s3.path_of("watch", "inputs/clip.mp4"), b"not a video at all").unwrap();
    let id = mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await;
    let (_, error) = until_ended(&mut events, &id).await;
    assert_eq!((error.detail.status, error.detail.error_code), (JobStatus::Error, Some(1010)));
    let message = error.detail.error_message.unwrap();
    assert!(!message.contains("X-Amz-Signature"), "the presigned URL stays out of the message: {message}");
    assert!(w.s3.path_of("public", "audiovideo/clip_360p.mp4").metadata().is_err(), "nothing written");
}

/// While ffmpeg runs, the job's percent moves between 0 and 100, as ffmpeg's stats lines say.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_job_reports_how_far_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let clip = dir.path().join("long.mp4");
    mediaflow_testkit::video(&clip, 1920, 1080, 12.0, true);
    let body = job_for_upload(&w, &clip, "inputs/long.mp4", "ref-progress").await;
    mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await;
    let mut seen = Vec::new();
    for _ in 0..1200 {
        let jobs = w.mediaconvert.jobs();
        let job = &jobs[0];
        if job.status == "COMPLETE" {
            break;
        }
        seen.push(job.percent);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.iter().any(|p| (1..100).contains(p)), "no percent between 0 and 100 in {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "it only moves on: {seen:?}");
}
