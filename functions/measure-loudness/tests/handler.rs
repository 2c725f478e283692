//! MeasureLoudness on real media against the embedded S3 endpoint, checked against ffmpeg's
//! ebur128 run directly on the local file and against levels known by construction.

use std::path::Path;

use measure_loudness::{Clients, handler};
use mediaflow_core::contract::{AssetInput, MediaInput, Source};
use mediaflow_core::loudness::{Loudness, parse_ebur128_summary};
use mediaflow_core::probe::{FFPROBE_ARGS, parse_ffprobe};
use mediaflow_core::{ErrorName, Named};
use mediaflow_s3::EmbeddedS3;
use mediaflow_testkit::ffmpeg;

async fn start(dir: &Path) -> (EmbeddedS3, Clients) {
    let s3 = EmbeddedS3::start(&dir.join("data"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), ffmpeg: "ffmpeg".into() };
    (s3, clients)
}

fn ffprobe(path: &Path) -> serde_json::Value {
    let out = std::process::Command::new("ffprobe").args(FFPROBE_ARGS).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Uploads a local file and gives MeasureLoudness what the pipeline would: source, asset, probe.
async fn upload(s3: &EmbeddedS3, file: &Path, key: &str) -> MediaInput {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await.unwrap();
    s3.client().put_object().bucket("watch").key(key).body(body).send().await.unwrap();
    let bytes = std::fs::read(file).unwrap();
    let probe = parse_ffprobe(ffprobe(file).to_string().as_bytes()).unwrap();
    let AssetInput { source, asset } =
        AssetInput::classified(Source::new("watch", key, bytes.len() as u64, "e"), &bytes).unwrap();
    MediaInput { source, asset, probe }
}

/// What ffmpeg's ebur128 says of the local file, run as a user would run it.
fn measured_directly(file: &Path) -> Loudness {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-nostats", "-i"])
        .arg(file)
        .args(["-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    parse_ebur128_summary(&String::from_utf8_lossy(&out.stderr)).expect("a summary")
}

fn assert_close(got: &Loudness, want: &Loudness, what: &str) {
    let near = |a: f64, b: f64| (a - b).abs() <= 0.1;
    assert!(near(got.integrated_lufs, want.integrated_lufs), "{what}: {got:?} vs {want:?}");
    assert!(near(got.range_lu, want.range_lu), "{what}: {got:?} vs {want:?}");
    match (got.true_peak_dbtp, want.true_peak_dbtp) {
        (Some(a), Some(b)) => assert!(near(a, b), "{what}: {got:?} vs {want:?}"),
        (a, b) => assert_eq!(a, b, "{what}"),
    }
}

/// EBU Tech 3341's reference: a 1 kHz sine of peak -23 dBFS in both stereo channels measures
/// -23.0 LUFS, and its true peak is its peak. lavfi's sine peaks at 1/8 (-18.06 dBFS).
#[tokio::test(flavor = "multi_thread")]
async fn a_tone_of_known_level_measures_as_ebu_r128_says() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let wav = dir.path().join("tone.wav");
    let sine = "sine=frequency=1000:sample_rate=48000:duration=3";
    let stereo = "volume=-4.94dB,pan=stereo|c0=c0|c1=c0";
    ffmpeg(&["-f", "lavfi", "-i", sine, "-af", stereo, "-c:a", "pcm_s24le", wav.to_str().unwrap()]);
    let loudness = handler(upload(&s3, &wav, "inputs/levels/tone.wav").await, &clients).await.unwrap();
    assert!((loudness.integrated_lufs - -23.0).abs() <= 0.1, "{loudness:?}");
    assert!((loudness.true_peak_dbtp.unwrap() - -23.0).abs() <= 0.2, "{loudness:?}");
    assert_close(&loudness, &measured_directly(&wav), "tone.wav");
}

/// Noise that steps from loud to quiet has a range, and the handler reads what ffmpeg reads.
#[tokio::test(flavor = "multi_thread")]
async fn noise_at_two_levels_has_a_range() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let wav = dir.path().join("noise.wav");
    let noise = "anoisesrc=color=pink:sample_rate=48000:amplitude=0.5:seed=7:duration=3";
    let steps = "volume='if(lt(t,1.5),0.5,0.05)':eval=frame";
    ffmpeg(&["-f", "lavfi", "-i", noise, "-af", steps, "-ac", "2", wav.to_str().unwrap()]);
    let loudness = handler(upload(&s3, &wav, "inputs/noise.wav").await, &clients).await.unwrap();
    assert_close(&loudness, &measured_directly(&wav), "noise.wav");
    assert!(loudness.range_lu > 5.0, "{loudness:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_video_with_sound_and_an_mp3() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let mp4 = dir.path().join("clip.mp4");
    let mp3 = dir.path().join("song.mp3");
    mediaflow_testkit::video(&mp4, 320, 180, 2.0, true);
    mediaflow_testkit::tone(&mp3, 2.0);
    for (file, key) in [(&mp4, "inputs/a b/clip+1.mp4"), (&mp3, "inputs/song.mp3")] {
        let loudness = handler(upload(&s3, file, key).await, &clients).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_close(&loudness, &measured_directly(file), key);
        // lavfi's sine at 1/8 in one channel: about -21 LUFS at 440 Hz.
        assert!((-23.0..-19.0).contains(&loudness.integrated_lufs), "{key}: {loudness:?}");
    }
}

/// Digital silence is BS.1770's floor and has no true peak; it is a measurement, not a failure.
#[tokio::test(flavor = "multi_thread")]
async fn silence_measures_at_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let wav = dir.path().join("silent.wav");
    ffmpeg(&["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "2", wav.to_str().unwrap()]);
    let loudness = handler(upload(&s3, &wav, "inputs/silent.wav").await, &clients).await.unwrap();
    assert_eq!(loudness, Loudness { integrated_lufs: -70.0, range_lu: 0.0, true_peak_dbtp: None });
}

#[tokio::test(flavor = "multi_thread")]
async fn no_audio_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let mp4 = dir.path().join("mute.mp4");
    mediaflow_testkit::video(&mp4, 320, 180, 1.0, false);
    let err = handler(upload(&s3, &mp4, "inputs/mute.mp4").await, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidInput);
    assert_eq!(err.name().as_str(), "MediaFlow.InvalidInput");
}

/// Audio whose every frame fails to decode (its payload overwritten, its header intact), and an
/// upload replaced by text after the probe: both `InvalidMedia`, with ffmpeg's reason and
/// without the presigned URL's secrets.
#[tokio::test(flavor = "multi_thread")]
async fn audio_that_does_not_decode_is_invalid_media() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let m4a = dir.path().join("broken.m4a");
    let sine = "sine=frequency=440:sample_rate=48000:duration=2";
    ffmpeg(&["-f", "lavfi", "-i", sine, "-c:a", "aac", m4a.to_str().unwrap()]);
    scramble_mdat(&m4a);
    let err = handler(upload(&s3, &m4a, "inputs/broken.m4a").await, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidMedia, "{err}");
    assert!(err.to_string().contains("Error while decoding stream #0:0: Invalid data found"), "{err}");

    let wav = dir.path().join("tone.wav");
    mediaflow_testkit::tone(&wav, 1.0);
    let input = upload(&s3, &wav, "inputs/tone.wav").await;
    let text = b"replaced by text".to_vec();
    s3.client().put_object().bucket("watch").key("inputs/tone.wav").body(text.into()).send().await.unwrap();
    let err = handler(input, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidMedia, "{err}");
    assert!(err.to_string().contains("s3://watch/inputs/tone.wav: Invalid data found"), "{err}");
    assert!(!err.to_string().contains("X-Amz-Credential=mediaflow"), "{err}");
}

/// S3 gone mid-way is for a retry, not a verdict on the file.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_store_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let wav = dir.path().join("tone.wav");
    mediaflow_testkit::tone(&wav, 1.0);
    let input = upload(&s3, &wav, "inputs/tone.wav").await;
    // Nothing listens on port 1: ffmpeg's connection is refused.
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:1")
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("a", "b", None, None, "test"))
        .force_path_style(true)
        .build();
    let unreachable = Clients { s3: aws_sdk_s3::Client::from_conf(config), ..clients };
    let err = handler(input, &unreachable).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::Transient, "{err}");
    assert!(err.to_string().contains("Connection refused"), "{err}");
}

/// Overwrites the audio payload of an MP4 (its `mdat` box) past the first bytes, so the
/// container and stream header still read but no frame decodes.
fn scramble_mdat(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"mdat").expect("an mdat box");
    let size = u32::from_be_bytes(bytes[at - 4..at].try_into().unwrap()) as usize;
    for (i, b) in bytes[at + 20..at - 4 + size].iter_mut().enumerate() {
        *b = (i * 131 + 7) as u8;
    }
    std::fs::write(path, bytes).unwrap();
}
