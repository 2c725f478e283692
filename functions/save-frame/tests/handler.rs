//! SaveFrame on real media against the embedded S3 endpoint; the JPEG checked with ffprobe.

use mediaflow_core::Named;
use std::path::Path;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetInput, MediaInput, Source};
use mediaflow_core::probe::{FFPROBE_ARGS, parse_ffprobe};
use mediaflow_core::publish::staged_key;
use mediaflow_s3::EmbeddedS3;
use mediaflow_testkit::{ffmpeg, video};
use save_frame::{Clients, handler};

async fn start(dir: &Path) -> (EmbeddedS3, Clients) {
    let s3 = EmbeddedS3::start(&dir.join("data"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients =
        Clients { s3: s3.client(), destination_bucket: "public".into(), ffmpeg: "ffmpeg".into(), frame_seconds: 7.0 };
    (s3, clients)
}

fn ffprobe(path: &Path) -> serde_json::Value {
    let out = std::process::Command::new("ffprobe").args(FFPROBE_ARGS).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Uploads a local file and gives SaveFrame what the pipeline would: source, asset, probe.
async fn upload(s3: &EmbeddedS3, file: &Path, key: &str) -> MediaInput {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await.unwrap();
    s3.client().put_object().bucket("watch").key(key).body(body).send().await.unwrap();
    let bytes = std::fs::read(file).unwrap();
    let probe = parse_ffprobe(ffprobe(file).to_string().as_bytes()).unwrap();
    let AssetInput { source, asset } =
        AssetInput::classified(Source::new("watch", key, bytes.len() as u64, "e"), &bytes).unwrap();
    MediaInput { source, asset, probe }
}

/// The saved JPEG's width and height, as ffprobe reads them.
async fn saved_size(s3: &EmbeddedS3, source: &Source, key: &str) -> (u64, u64) {
    let staged = staged_key(source, key);
    let path = s3.path_of("watch", &staged);
    let got = s3.client().get_object().bucket("watch").key(&staged).send().await.unwrap();
    assert_eq!(got.content_type(), Some("image/jpeg"));
    let probe = ffprobe(&path);
    let stream = &probe["streams"][0];
    assert_eq!(stream["codec_name"], "mjpeg");
    (stream["width"].as_u64().unwrap(), stream["height"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn seven_seconds_into_a_long_clip_at_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    video(&dir.path().join("long.mp4"), 1920, 1080, 9.0, true);
    let input = upload(&s3, &dir.path().join("long.mp4"), "inputs/a b/long+1.mp4").await;
    let thumb = handler(input.clone(), &clients).await.unwrap();
    assert_eq!(thumb.key, "thumbnail/a b/long+1.jpg");
    assert_eq!((thumb.at_seconds, thumb.width, thumb.height), (7.0, 1920, 1080));
    assert_eq!(saved_size(&s3, &input.source, &thumb.key).await, (1920, 1080));
}

#[tokio::test(flavor = "multi_thread")]
async fn short_and_rotated_clips() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    video(&dir.path().join("stored.mp4"), 1280, 720, 3.0, false);
    let phone = dir.path().join("phone.mov");
    ffmpeg(&[
        "-i",
        dir.path().join("stored.mp4").to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        phone.to_str().unwrap(),
    ]);
    let input = upload(&s3, &phone, "inputs/phone.mov").await;
    let thumb = handler(input.clone(), &clients).await.unwrap();
    assert_eq!(thumb.at_seconds, 1.5);
    assert_eq!((thumb.width, thumb.height), (720, 1280));
    assert_eq!(
        saved_size(&s3, &input.source, &thumb.key).await,
        (720, 1280),
        "the frame is turned as the player turns it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_picture_and_unreadable_media_are_frame_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    mediaflow_testkit::tone(&dir.path().join("tone.wav"), 1.0);
    let err = handler(upload(&s3, &dir.path().join("tone.wav"), "inputs/tone.wav").await, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::FrameFailed);

    video(&dir.path().join("ok.mp4"), 640, 360, 2.0, false);
    let mut input = upload(&s3, &dir.path().join("ok.mp4"), "inputs/ok.mp4").await;
    s3.client()
        .put_object()
        .bucket("watch")
        .key("inputs/ok.mp4")
        .body(b"replaced by text".to_vec().into())
        .send()
        .await
        .unwrap();
    input.probe.duration_seconds = Some(2.0);
    let err = handler(input, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::FrameFailed);
    assert!(!err.to_string().contains("X-Amz-Credential=mediaflow"), "{err}");
}

/// Video whose input seek lands on nothing that decodes, or that has no frame at the time,
/// still gets its frame: a long-GOP MPEG-TS (one keyframe, no index), an MPEG-TS cut from a
/// longer recording (timestamps from 1,000 s), and a one-frame video.
#[tokio::test(flavor = "multi_thread")]
async fn every_picture_that_decodes_gets_its_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let d = dir.path();
    let src = "testsrc2=size=640x360:rate=25";
    let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
    let long_gop = d.join("longgop.ts");
    let late = d.join("late.ts");
    let one = d.join("one.mp4");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    ffmpeg(
        &[
            &["-f", "lavfi", "-i", src, "-t", "10"][..],
            &x264,
            &["-g", "1000", "-sc_threshold", "0", "-f", "mpegts", &path(&long_gop)],
        ]
        .concat(),
    );
    ffmpeg(
        &[
            &["-f", "lavfi", "-i", src, "-t", "10"][..],
            &x264,
            &["-output_ts_offset", "1000", "-f", "mpegts", &path(&late)],
        ]
        .concat(),
    );
    ffmpeg(&[&["-f", "lavfi", "-i", src, "-frames:v", "1"][..], &x264, &[path(&one).as_str()]].concat());
    for (file, key) in [(&long_gop, "inputs/longgop.ts"), (&late, "inputs/late.ts"), (&one, "inputs/one.mp4")] {
        let input = upload(&s3, file, key).await;
        let thumb = handler(input.clone(), &clients).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(saved_size(&s3, &input.source, &thumb.key).await, (640, 360), "{key}");
    }
}

/// The common case reads little of the upload: the input seek fetches by range.
#[tokio::test(flavor = "multi_thread")]
async fn the_common_case_reads_a_fraction_of_the_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    mediaflow_testkit::large_video(&dir.path().join("big.mp4"), 40);
    let input = upload(&s3, &dir.path().join("big.mp4"), "inputs/big.mp4").await;
    handler(input.clone(), &clients).await.unwrap();
    let read = s3.bytes_served("watch", "inputs/big.mp4");
    assert!(read * 4 < input.source.size, "read {read} of {} bytes", input.source.size);
}
