//! `mediaflow plan` on real media made with ffmpeg: what a user sees before uploading.

mod common;

use std::path::Path;

use common::{assert_valid, mediaflow};
use mediaflow_testkit::{ffmpeg, tone, video};
use serde_json::Value;

/// Runs `plan --json` on `file` (relative to `dir`) and returns the plan.
fn plan(dir: &Path, file: &str) -> Value {
    let out = mediaflow(dir, &["plan", "--json", file]);
    assert!(out.status.success(), "plan {file}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn outputs(plan: &Value) -> Vec<&str> {
    plan["outputs"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect()
}

fn sizes(plan: &Value) -> Vec<(String, u64, u64)> {
    plan["job"]["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["label"].as_str().unwrap().to_string(), r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap())
        })
        .collect()
}

fn s(label: &str, w: u64, h: u64) -> (String, u64, u64) {
    (label.to_string(), w, h)
}

#[test]
fn a_full_hd_clip_gets_every_rung_a_frame_and_its_documents() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("course")).unwrap();
    video(&dir.path().join("course/talk.mp4"), 1920, 1080, 2.0, true);
    let p = plan(dir.path(), "course/talk.mp4");
    assert_eq!(p["key"], "inputs/course/talk.mp4");
    assert_eq!(p["asset"]["kind"], "video");
    assert_eq!(p["asset"]["container"], "mp4");
    assert_eq!(
        outputs(&p),
        [
            "original/course/talk.mp4",
            "audiovideo/course/talk_360p.mp4",
            "audiovideo/course/talk_480p.mp4",
            "audiovideo/course/talk_720p.mp4",
            "audiovideo/course/talk_1080p.mp4",
            "thumbnail/course/talk.jpg",
            "json/course/talk.json"
        ]
    );
    assert_eq!(sizes(&p), [s("360p", 640, 360), s("480p", 854, 480), s("720p", 1280, 720), s("1080p", 1920, 1080)]);
    // Shorter than 7 s: the frame comes from the middle.
    assert_eq!(p["thumbnail"]["atSeconds"], 1.0);
    assert_eq!((p["thumbnail"]["width"].as_u64(), p["thumbnail"]["height"].as_u64()), (Some(1920), Some(1080)));
    assert_valid("Probe", &p["probe"]);
    assert_valid("JobPlan", &p["job"]);
    let probe = &p["probe"];
    assert_eq!(probe["video"]["codec"], "h264");
    assert_eq!(probe["video"]["frameRate"], 25.0);
    assert_eq!(probe["audio"][0]["codec"], "aac");
    assert!((probe["durationSeconds"].as_f64().unwrap() - 2.0).abs() < 0.1);
    let job = &p["job"]["job"];
    assert_eq!(job["Settings"]["Inputs"][0]["FileInput"], "s3://mediaflow-watch/inputs/course/talk.mp4");
    assert_eq!(
        job["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"],
        "s3://mediaflow-public/audiovideo/course/talk"
    );
    // 2 s is billed as the 10 s minimum per output: 10/60 × (2 × $0.0075 SD + 2 × $0.015 HD),
    // and the storyboard's frames as one more SD output.
    let cost = &p["job"]["cost"];
    assert_eq!(cost["tier"], "basic");
    assert!((cost["total"].as_f64().unwrap() - 10.0 / 60.0 * 0.0525).abs() < 1e-6, "{cost}");
    let storyboard = &p["job"]["storyboard"];
    assert_eq!((storyboard["intervalSeconds"].as_u64(), storyboard["maxTiles"].as_u64()), (Some(1), Some(2)));
}

#[test]
fn plan_names_what_makes_a_template_professional() {
    let dir = tempfile::tempdir().unwrap();
    video(&dir.path().join("talk.mp4"), 1280, 720, 1.0, true);
    let mut template = mediaflow_core::templates::video();
    for output in template["Settings"]["OutputGroups"][0]["Outputs"].as_array_mut().unwrap() {
        output["VideoDescription"]["CodecSettings"]["H264Settings"]["QualityTuningLevel"] = "MULTI_PASS_HQ".into();
    }
    std::fs::write(dir.path().join("pro.json"), template.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mediaflow"))
        .args(["plan", "--template", "pro.json", "talk.mp4"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("professional tier"), "{text}");
    assert!(
        text.contains("warning:    AVC multi-pass HQ (QualityTuningLevel MULTI_PASS_HQ) makes the whole job bill at the Professional tier"),
        "{text}"
    );
}

#[test]
fn portrait_and_rotated_clips_get_portrait_rungs() {
    let dir = tempfile::tempdir().unwrap();
    video(&dir.path().join("upright.mp4"), 1080, 1920, 1.0, true);
    let p = plan(dir.path(), "upright.mp4");
    assert_eq!(sizes(&p).last().unwrap(), &s("1080p", 1080, 1920));

    // A phone recording: stored landscape, shown portrait.
    video(&dir.path().join("stored.mp4"), 1280, 720, 1.0, true);
    ffmpeg(&[
        "-i",
        dir.path().join("stored.mp4").to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        dir.path().join("phone.mov").to_str().unwrap(),
    ]);
    let p = plan(dir.path(), "phone.mov");
    let v = &p["probe"]["video"];
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(1280), Some(720)));
    assert!(matches!(v["rotation"].as_u64(), Some(90 | 270)), "{v}");
    assert_eq!((v["displayWidth"].as_u64(), v["displayHeight"].as_u64()), (Some(720), Some(1280)));
    assert_eq!(sizes(&p), [s("360p", 360, 640), s("480p", 480, 854), s("720p", 720, 1280)]);
    assert_eq!((p["thumbnail"]["width"].as_u64(), p["thumbnail"]["height"].as_u64()), (Some(720), Some(1280)));
}

#[test]
fn small_and_silent_clips() {
    let dir = tempfile::tempdir().unwrap();
    video(&dir.path().join("tiny.mp4"), 320, 240, 1.0, true);
    let p = plan(dir.path(), "tiny.mp4");
    assert_eq!(sizes(&p), [s("240p", 320, 240)]);
    assert!(outputs(&p).contains(&"audiovideo/tiny_240p.mp4"));

    video(&dir.path().join("silent.mp4"), 640, 360, 1.0, false);
    let p = plan(dir.path(), "silent.mp4");
    assert!(p["probe"]["audio"].as_array().unwrap().is_empty());
    for output in p["job"]["job"]["Settings"]["OutputGroups"][0]["Outputs"].as_array().unwrap() {
        assert!(output.get("AudioDescriptions").is_none(), "a silent source gets no audio: {output}");
    }
}

#[test]
fn audio_is_transcoded_to_mp3_and_mp3_is_copied() {
    let dir = tempfile::tempdir().unwrap();
    tone(&dir.path().join("episode.wav"), 1.0);
    let p = plan(dir.path(), "episode.wav");
    assert_eq!(p["asset"]["kind"], "audio");
    assert_eq!(p["job"]["template"], "job-audio.json");
    assert_eq!(outputs(&p), ["original/episode.wav", "audiovideo/episode.mp3", "json/episode.json"]);
    assert!(p.get("thumbnail").is_none());

    tone(&dir.path().join("song.mp3"), 1.0);
    let p = plan(dir.path(), "song.mp3");
    assert_eq!(p["asset"]["kind"], "mp3");
    assert!(p.get("job").is_none());
    assert_eq!(outputs(&p), ["audiovideo/song.mp3", "json/song.json"]);
}

#[test]
fn captions_and_unsupported_files_are_planned_without_ffprobe() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("talk.en.srt"), "1\n00:00:01,000 --> 00:00:02,000\nHello\n").unwrap();
    let p = plan(dir.path(), "talk.en.srt");
    assert_eq!(p["asset"]["kind"], "caption");
    assert_eq!(p["asset"]["captionFormat"], "srt");
    assert_eq!(p["asset"]["name"]["language"], "en");
    assert_eq!(outputs(&p), ["closed-caption/talk.en.vtt"]);

    std::fs::write(dir.path().join("notes.mp4"), "these are my notes, not a video\n").unwrap();
    let p = plan(dir.path(), "notes.mp4");
    assert_eq!(p["asset"]["kind"], "unsupported");
    assert!(p["asset"]["reason"].as_str().unwrap().contains("text file"), "{p}");
    assert!(outputs(&p).is_empty());

    std::fs::write(dir.path().join("movie.mp4.CHUNK2"), b"part").unwrap();
    let p = plan(dir.path(), "movie.mp4.CHUNK2");
    assert_eq!(p["asset"]["kind"], "chunk");
    assert_eq!(p["asset"]["chunk"]["targetKey"], "inputs/movie.mp4");
}

#[test]
fn names_with_spaces_plus_percent_and_unicode_keep_their_folders() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("équipe a/2026");
    std::fs::create_dir_all(&folder).unwrap();
    video(&folder.join("my talk+final 100%.mp4"), 640, 360, 1.0, true);
    let p = plan(dir.path(), "équipe a/2026/my talk+final 100%.mp4");
    assert_eq!(p["key"], "inputs/équipe a/2026/my talk+final 100%.mp4");
    assert!(outputs(&p).contains(&"audiovideo/équipe a/2026/my talk+final 100%_360p.mp4"), "{p}");
    assert!(outputs(&p).contains(&"json/équipe a/2026/my talk+final 100%.json"));
}

#[test]
fn bad_input_gives_a_clear_message_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let fail = |args: &[&str], expect: &str| {
        let out = mediaflow(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    };
    fail(&["plan", "missing.mp4"], "cannot read missing.mp4");
    std::fs::create_dir(dir.path().join("folder.mp4")).unwrap();
    fail(&["plan", "folder.mp4"], "is a folder");

    // MP4's first bytes, then garbage: it classifies as video and fails in the probe.
    let mut corrupt = vec![0, 0, 0, 0x18];
    corrupt.extend_from_slice(b"ftypisom\0\0\0\0isomiso2");
    corrupt.extend((0..50_000u32).map(|i| (i * 7919 % 251) as u8));
    std::fs::write(dir.path().join("corrupt.mp4"), corrupt).unwrap();
    fail(&["plan", "corrupt.mp4"], "MediaFlow.InvalidMedia");

    video(&dir.path().join("ok.mp4"), 640, 360, 1.0, true);
    std::fs::write(dir.path().join("bad.json"), "{ not json").unwrap();
    fail(&["plan", "--template", "bad.json", "ok.mp4"], "MediaFlow.InvalidTemplate");
    std::fs::write(dir.path().join("empty.json"), "{}").unwrap();
    fail(&["plan", "--template", "empty.json", "ok.mp4"], "MediaFlow.InvalidTemplate");
    fail(&["plan", "--ffprobe", "/nonexistent/ffprobe", "ok.mp4"], "apt-get install ffmpeg");
}

#[test]
fn the_human_view_names_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    video(&dir.path().join("clip.mp4"), 1280, 720, 1.0, true);
    let out = mediaflow(dir.path(), &["plan", "clip.mp4"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "kind:       video",
        "renditions: 360p 640×360, 480p 854×480, 720p 1280×720",
        "audiovideo/clip_720p.mp4",
        "\"FileInput\"",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
