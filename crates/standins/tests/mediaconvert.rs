//! The MediaConvert stand-in, driven by `aws-sdk-mediaconvert` with the job the pipeline builds
//! for a real clip: one ffmpeg run, outputs in the public bucket, events as MediaConvert sends.

use std::path::Path;
use std::time::Duration;

use mediaflow_core::contract::{JobPlan, JobStateChangeEvent, JobStatus};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::mediaconvert::to_wire;
use mediaflow_core::plan::{PlanConfig, job_for, template_for};
use mediaflow_core::probe::{FFPROBE_ARGS, parse_ffprobe};
use mediaflow_s3::EmbeddedS3;
use mediaflow_standins::mediaconvert::{MediaConvertEndpoint, Settings};
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
    plan_for_upload(w, file, key, token).await.0
}

/// [`job_for_upload`], with the plan it comes from.
async fn plan_for_upload(w: &World, file: &Path, key: &str, token: &str) -> (Value, JobPlan) {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await.unwrap();
    w.s3.client().put_object().bucket("watch").key(key).body(body).send().await.unwrap();
    let probe = parse_ffprobe(ffprobe(file).to_string().as_bytes()).unwrap();
    let (name, template) = template_for(&probe);
    let config = PlanConfig::new("watch", "public");
    let plan = job_for(&SourceKey::parse(key).unwrap(), &probe, name, &template, &config).unwrap();
    let mut job = plan.job.clone();
    job["Role"] = json!("arn:aws:iam::123456789012:role/mediaconvert");
    job["ClientRequestToken"] = json!(token);
    job["UserMetadata"] = json!({"application": "mediaflow", "ref": token});
    (to_wire(&job), plan)
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

/// A 640×360 clip of `seconds` whose sound is `audio` (a lavfi source, mono, made stereo).
fn clip_with_sound(path: &Path, seconds: u32, audio: &str) {
    let secs = seconds.to_string();
    let audio = format!("{audio},pan=stereo|c0=c0|c1=c0");
    mediaflow_testkit::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25",
        "-f",
        "lavfi",
        "-i",
        &audio,
        "-t",
        &secs,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        path.to_str().unwrap(),
    ]);
}

/// Integrated loudness and true peak of `path`, as ffmpeg's `ebur128` measures them.
fn loudness_of(path: &Path) -> mediaflow_core::loudness::Loudness {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-nostats", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    mediaflow_core::loudness::parse_ebur128_summary(&log).unwrap_or_else(|| panic!("no summary: {log}"))
}

/// Quiet sound with sharp peaks: a -40 dBFS tone with a short -10 dBFS burst each second,
/// about -34 LUFS. Lifting it 18 dB would take the bursts past the -1 dBTP limit: loudnorm has
/// to leave linear mode.
const QUIET: &str = "aevalsrc=0.01*sin(2*PI*440*t)+if(lt(mod(t\\,1)\\,0.003)\\,0.3*sin(2*PI*1500*t)\\,0):s=48000";
/// Loud sound: pink noise limited near full scale, about -8 LUFS.
const LOUD: &str = "anoisesrc=color=pink:amplitude=1:sample_rate=48000,volume=6dB,alimiter=limit=0.8:level=disabled";

/// The pipeline's job on a quiet and on a loud clip: every rendition lands within 1 LU of the
/// templates' -16 LUFS under their -1 dBTP limit, and the storyboard's frames are written as
/// MediaConvert names them, one a second from 0.
#[tokio::test(flavor = "multi_thread")]
async fn renditions_are_normalized_and_the_storyboard_frames_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut events = w.mediaconvert.events();
    for (name, audio, source_lufs) in [("quiet", QUIET, -34.0), ("loud", LOUD, -8.0)] {
        let clip = dir.path().join(format!("{name}.mp4"));
        clip_with_sound(&clip, 4, audio);
        let source = loudness_of(&clip);
        assert!((source.integrated_lufs - source_lufs).abs() < 2.0, "{name} source: {source:?}");
        let key = format!("inputs/{name}.mp4");
        let (body, plan) = plan_for_upload(&w, &clip, &key, &format!("ref-{name}")).await;
        let id = mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await;
        let (statuses, complete) = until_ended(&mut events, &id).await;
        assert_eq!(statuses, [JobStatus::Progressing, JobStatus::Complete], "{:?}", complete.detail.error_message);

        let groups = &complete.detail.output_group_details;
        assert_eq!(groups.len(), 2, "the renditions' group and the frames': {groups:?}");
        for detail in &groups[0].output_details {
            let key = detail.output_file_paths[0].trim_start_matches("s3://public/");
            let file = w.s3.path_of("public", key);
            let measured = loudness_of(&file);
            assert!((measured.integrated_lufs + 16.0).abs() <= 1.0, "{name} {key}: {measured:?} from {source:?}");
            let peak = measured.true_peak_dbtp.unwrap();
            assert!(peak <= -0.5, "{name} {key}: true peak {peak} dBTP over -1 (+0.5)");
            let audio =
                ffprobe(&file)["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == "audio").cloned();
            assert_eq!(audio.unwrap()["sample_rate"], "48000", "{name} {key}: the rate the output asks for");
        }
        assert_eq!(groups[0].output_details.len(), plan.outputs.len(), "{name}: only the planned renditions");

        // Frames: one a second from 0 of a 4 s clip (a frame at 0, 1, 2, 3), the detail naming
        // the last as MediaConvert's does.
        let board = plan.storyboard.clone().expect("a video has a storyboard");
        assert_eq!(board.interval_seconds, 1);
        let count = 4.min(board.max_tiles);
        let last = mediaflow_core::storyboard::frame_key(&board.frames_prefix, count - 1);
        let frames = &groups[1];
        assert_eq!(frames.group_type, "FILE_GROUP");
        assert_eq!(frames.output_details[0].output_file_paths, [format!("s3://public/{last}")]);
        let size = frames.output_details[0].video_details.as_ref().unwrap();
        assert_eq!((size.width_in_px, size.height_in_px), (board.tile_width, board.tile_height));
        for n in 0..count {
            let frame = w.s3.path_of("public", &mediaflow_core::storyboard::frame_key(&board.frames_prefix, n));
            let picture = &ffprobe(&frame)["streams"][0];
            assert_eq!(picture["codec_name"], "mjpeg", "{}", frame.display());
            assert_eq!(
                (picture["width"].as_u64(), picture["height"].as_u64()),
                (Some(u64::from(board.tile_width)), Some(u64::from(board.tile_height)))
            );
        }
        let past = mediaflow_core::storyboard::frame_key(&board.frames_prefix, count);
        assert!(w.s3.path_of("public", &past).metadata().is_err(), "no frame past {count}");
        let renditions = mediaflow_core::mediaconvert::renditions(&complete.detail, "public");
        assert!(renditions.outputs.iter().all(|o| o.key.ends_with(".mp4")), "frames are no renditions: {renditions:?}");
    }
}

/// The job with the storyboard's group and the normalization, read back by the SDK through
/// GetJob, is made of MediaConvert's API model: every member and enum value known to it.
#[tokio::test(flavor = "multi_thread")]
async fn the_storyboard_and_normalization_are_in_mediaconverts_model() {
    use aws_sdk_mediaconvert::types::{
        AudioNormalizationAlgorithm, AudioNormalizationAlgorithmControl, AudioNormalizationPeakCalculation,
        ContainerType, OutputGroupType, VideoCodec,
    };
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let clip = dir.path().join("talk.mp4");
    mediaflow_testkit::video(&clip, 640, 360, 1.0, true);
    let (body, plan) = plan_for_upload(&w, &clip, "inputs/talk.mp4", "ref-model").await;
    let id = mediaflow_testkit::mediaconvert::create_job(&w.client, &body).await;
    let got = w.client.get_job().id(&id).send().await.unwrap();
    let settings = got.job().unwrap().settings().unwrap();
    let groups = settings.output_groups();
    assert_eq!(groups.len(), 2);
    let frames = &groups[1];
    let group_settings = frames.output_group_settings().unwrap();
    assert_eq!(group_settings.r#type(), Some(&OutputGroupType::FileGroupSettings));
    let output = &frames.outputs()[0];
    assert_eq!(output.container_settings().unwrap().container(), Some(&ContainerType::Raw));
    let video = output.video_description().unwrap();
    let codec = video.codec_settings().unwrap();
    assert_eq!(codec.codec(), Some(&VideoCodec::FrameCapture));
    let capture = codec.frame_capture_settings().unwrap();
    let board = plan.storyboard.unwrap();
    assert_eq!(
        (capture.framerate_numerator(), capture.framerate_denominator(), capture.max_captures(), capture.quality()),
        (Some(1), Some(board.interval_seconds as i32), Some(board.max_tiles as i32), Some(80))
    );
    assert_eq!((video.width(), video.height()), (Some(board.tile_width as i32), Some(board.tile_height as i32)));
    for output in groups[0].outputs() {
        let normalization = output.audio_descriptions()[0].audio_normalization_settings().unwrap();
        assert_eq!(normalization.algorithm(), Some(&AudioNormalizationAlgorithm::ItuBs17703));
        assert_eq!(normalization.algorithm_control(), Some(&AudioNormalizationAlgorithmControl::CorrectAudio));
        assert_eq!(normalization.peak_calculation(), Some(&AudioNormalizationPeakCalculation::TruePeak));
        assert_eq!(
            (normalization.target_lkfs(), normalization.true_peak_limiter_threshold()),
            (Some(-16.0), Some(-1.0))
        );
    }
}
