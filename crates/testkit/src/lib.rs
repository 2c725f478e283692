//! What the tests share: real media made with ffmpeg (lavfi's testsrc2 and sine), and the W3C
//! WebVTT parser run over files. For tests only.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod http;
pub mod mediaconvert;
pub mod runtime_api;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository exists")
}

/// Runs ffmpeg quietly; the tests need it, as the pipeline does.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (scripts/ensure-tools)");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test clip from testsrc2 (and a sine tone when `audio`), H.264/AAC; the container follows
/// the extension.
pub fn video(path: &Path, width: u32, height: u32, seconds: f32, audio: bool) {
    let size = format!("testsrc2=size={width}x{height}:rate=25");
    let secs = seconds.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &size];
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
    }
    args.extend(["-t", &secs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);
    if audio {
        args.extend(["-c:a", "aac", "-shortest"]);
    }
    args.push(path.to_str().expect("UTF-8 path"));
    ffmpeg(&args);
}

/// A large 1080p MP4 of at least `megabytes`, at a camera-like 8 Mb/s with its index at the
/// end as cameras write it: four seconds encoded once, then repeated without re-encoding.
pub fn large_video(path: &Path, megabytes: u64) {
    let segment = path.with_extension("segment.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1920x1080:rate=25,noise=alls=20:allf=t",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        "8M",
        "-maxrate",
        "8M",
        "-bufsize",
        "8M",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        segment.to_str().expect("UTF-8 path"),
    ]);
    let segment_size = std::fs::metadata(&segment).expect("written").len();
    // `-stream_loop n` plays the segment n + 1 times; the remuxed copies come out a little
    // smaller than the segment, so one play more than the division asks for.
    let loops = (megabytes * 1_000_000).div_ceil(segment_size).to_string();
    let seg = segment.to_str().expect("UTF-8 path");
    ffmpeg(&["-stream_loop", &loops, "-i", seg, "-c", "copy", path.to_str().expect("UTF-8 path")]);
    let _ = std::fs::remove_file(&segment);
    let size = std::fs::metadata(path).expect("written").len();
    assert!(size >= megabytes * 1_000_000, "{} is only {size} bytes", path.display());
}

/// A sine tone; the codec follows the extension (`.wav`, `.mp3`, …).
pub fn tone(path: &Path, seconds: f32) {
    let secs = seconds.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        &secs,
        path.to_str().expect("UTF-8 path"),
    ]);
}

/// Runs the W3C WebVTT parser (npm `webvtt-parser`) over `files`; panics with its report when
/// any file has an error.
pub fn assert_w3c_webvtt(files: &[PathBuf]) {
    let repo = repo();
    assert!(
        repo.join("node_modules/webvtt-parser").exists(),
        "webvtt-parser is missing: run `npm ci` (scripts/test does)"
    );
    let out = Command::new("node").arg(repo.join("scripts/check-vtt.cjs")).args(files).output().expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the W3C WebVTT parser found errors:\n{report}");
    assert!(report.contains(&format!("{} valid, 0 invalid", files.len())), "{report}");
}

/// A 640×360 MP4 of noise with a tone, `seconds` long: about 7 MB a second (noise does not
/// compress), so a test gets a large upload that transcodes in moments.
pub fn noise_video(path: &Path, seconds: u32) {
    let seconds = seconds.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "nullsrc=s=640x360:r=25,geq=lum='random(1)*255':cb=128:cr=128",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        &seconds,
        "-c:v",
        "mpeg4",
        "-q:v",
        "1",
        "-c:a",
        "aac",
        "-shortest",
        path.to_str().expect("UTF-8 path"),
    ]);
}

/// `text` spoken by espeak-ng (150 words a minute) into the WAV file `path`.
pub fn speech(path: &Path, text: &str) {
    let out = Command::new("espeak-ng")
        .args(["-s", "150", "-w"])
        .arg(path)
        .arg(text)
        .output()
        .expect("espeak-ng is installed (scripts/ensure-tools)");
    assert!(out.status.success(), "espeak-ng: {}", String::from_utf8_lossy(&out.stderr));
}

/// A 320×180 test picture with `text` spoken over it (H.264/AAC; the container follows the
/// extension), as long as the speech, or `seconds` when given (the sound padded with silence).
pub fn speaking_video(path: &Path, text: &str, seconds: Option<u32>) {
    let wav = path.with_extension("speech.wav");
    speech(&wav, text);
    let wav = wav.to_str().expect("UTF-8 path");
    let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-i", wav, "-map", "0:v", "-map", "1:a"];
    let t = seconds.map(|s| s.to_string());
    if let Some(t) = &t {
        args.extend(["-t", t, "-af", "apad"]);
    }
    args.extend(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]);
    args.push(path.to_str().expect("UTF-8 path"));
    ffmpeg(&args);
}

/// A 320×180 test picture over digital silence (H.264/AAC): sound that holds no speech.
pub fn silent_sound_video(path: &Path, seconds: u32) {
    let t = seconds.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-f",
        "lavfi",
        "-i",
        "anullsrc=channel_layout=stereo:sample_rate=48000",
        "-t",
        &t,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        path.to_str().expect("UTF-8 path"),
    ]);
}
