//! Probe against the embedded S3 endpoint, on real media made with ffmpeg.

use mediaflow_core::Named;
use std::path::Path;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{ProbeInput, Source};
use mediaflow_s3::EmbeddedS3;
use mediaflow_testkit::{large_video, tone, video};
use probe::{Clients, handler};

async fn start(dir: &Path) -> (EmbeddedS3, Clients) {
    let s3 = EmbeddedS3::start(&dir.join("data"), &["watch"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), ffprobe: "ffprobe".into() };
    (s3, clients)
}

async fn upload(s3: &EmbeddedS3, file: &Path, key: &str) -> ProbeInput {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await.unwrap();
    let put = s3.client().put_object().bucket("watch").key(key).body(body).send().await.unwrap();
    ProbeInput { source: Source::new("watch", key, std::fs::metadata(file).unwrap().len(), put.e_tag().unwrap()) }
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_video_portrait_and_audio_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    video(&dir.path().join("land.mp4"), 1920, 1080, 2.0, true);
    video(&dir.path().join("port.mov"), 1080, 1920, 1.0, false);
    tone(&dir.path().join("tone.wav"), 1.0);

    let land =
        handler(upload(&s3, &dir.path().join("land.mp4"), "inputs/a b/land+1 100%.mp4").await, &clients).await.unwrap();
    let v = land.video.as_ref().unwrap();
    assert_eq!((v.width, v.height, v.rotation, v.codec.as_str()), (1920, 1080, 0, "h264"));
    assert_eq!(v.frame_rate, Some(25.0));
    assert_eq!(land.audio.len(), 1);
    assert!((land.duration_seconds.unwrap() - 2.0).abs() < 0.1);

    let port = handler(upload(&s3, &dir.path().join("port.mov"), "inputs/port.mov").await, &clients).await.unwrap();
    assert_eq!(port.display_size(), Some((1080, 1920)));
    assert!(port.audio.is_empty());

    let wav = handler(upload(&s3, &dir.path().join("tone.wav"), "inputs/tone.wav").await, &clients).await.unwrap();
    assert!(wav.video.is_none());
    assert_eq!(wav.audio[0].sample_rate, 44100);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_file_is_probed_without_downloading_it() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let file = dir.path().join("big.mp4");
    large_video(&file, 200);
    let size = std::fs::metadata(&file).unwrap().len();
    let probe = handler(upload(&s3, &file, "inputs/big.mp4").await, &clients).await.unwrap();
    assert_eq!(probe.size, Some(size));
    assert_eq!(probe.video.unwrap().width, 1920);
    let read = s3.bytes_served("watch", "inputs/big.mp4");
    // ffprobe reads the header, the index at the end and a few packets, each over a GET it
    // abandons once it has what it needs; a download would be all of it. The count includes
    // what was in flight when ffprobe let go of a GET, which grows with the machine's load:
    // typically 0.6 to 0.95 MiB (BENCHMARKS.md), 2.05 MiB once on 2 busy cores. The bound, a
    // twentieth of the file, tells a probe from a download whatever the load.
    println!("probing {size} bytes read {read} bytes");
    assert!(read < size / 20, "probing {size} bytes read {read} bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_and_fake_media_are_invalid_media_with_no_secret_in_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let corrupt = dir.path().join("corrupt.mp4");
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypisom\0\0\0\0isomiso2");
    bytes.extend((0..100_000u32).map(|i| (i * 7919 % 251) as u8));
    std::fs::write(&corrupt, bytes).unwrap();
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "not a video at all\n").unwrap();
    let truncated = dir.path().join("truncated.mp4");
    video(&dir.path().join("whole.mp4"), 640, 360, 2.0, true);
    let whole = std::fs::read(dir.path().join("whole.mp4")).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 3]).unwrap();
    for (file, key) in
        [(&corrupt, "inputs/corrupt.mp4"), (&text, "inputs/notes.mp4"), (&truncated, "inputs/truncated.mp4")]
    {
        let err = handler(upload(&s3, file, key).await, &clients).await.unwrap_err();
        assert_eq!(err.name(), ErrorName::InvalidMedia, "{key}: {err}");
        let message = err.to_string();
        assert!(!message.contains("X-Amz-Signature=") || message.contains("X-Amz-Signature=REDACTED"), "{message}");
        assert!(!message.contains("X-Amz-Credential=mediaflow"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_ffprobe_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, mut clients) = start(dir.path()).await;
    video(&dir.path().join("a.mp4"), 320, 240, 1.0, false);
    clients.ffprobe = "/nonexistent/ffprobe".into();
    let err = handler(upload(&s3, &dir.path().join("a.mp4"), "inputs/a.mp4").await, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::Configuration);
}
