//! `mediaflow process --job-template infra/job-hls.json`: MP4 renditions and an HLS ladder
//! named as MediaConvert names it, read back by ffprobe; segments aligned across variants; a
//! smaller re-upload removes the variant it no longer reaches, segments and all.

mod common;

use std::path::Path;

use serde_json::Value;

fn process(dir: &Path) {
    let template = common::repo().join("infra/job-hls.json");
    let out = common::mediaflow(
        dir,
        &["process", "--data", "data", "--job-template", template.to_str().unwrap(), "talk.mp4"],
    );
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The segment durations of a variant playlist, as written.
fn durations(playlist: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(playlist).unwrap();
    text.lines().filter_map(|l| l.strip_prefix("#EXTINF:")).map(|d| d.trim_end_matches(',').parse().unwrap()).collect()
}

/// The video streams ffprobe finds through a master playlist: (width, height) of each variant.
fn variants_of(master: &Path) -> Vec<(u64, u64)> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "program_stream=codec_type,width,height", "-of", "json"])
        .arg(master)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe cannot open {}: {}", master.display(), String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut sizes: Vec<(u64, u64)> = json["programs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["streams"].as_array().unwrap().clone())
        .filter(|s| s["codec_type"] == "video")
        .map(|s| (s["width"].as_u64().unwrap(), s["height"].as_u64().unwrap()))
        .collect();
    sizes.sort();
    sizes
}

#[test]
fn the_hls_template_makes_an_aligned_ladder_beside_the_mp4s_and_a_reupload_trims_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    mediaflow_testkit::video(&d.join("talk.mp4"), 1280, 720, 14.0, true);
    process(d);
    let av = d.join("data/s3/public/audiovideo");
    for rung in ["360p", "480p", "720p"] {
        assert!(av.join(format!("talk_{rung}.mp4")).exists(), "the MP4 rendition {rung} is kept");
        assert!(av.join(format!("talk_{rung}_00001.ts")).exists(), "segments are named as MediaConvert names them");
    }
    assert!(!av.join("talk_1080p.m3u8").exists(), "no rung above the source");
    assert_eq!(variants_of(&av.join("talk.m3u8")), [(640, 360), (854, 480), (1280, 720)], "one variant per kept rung");

    // Keyframes every 2 s on every rung, segments of 6 s: the variants cut at the same times.
    let ladder: Vec<Vec<f64>> =
        ["360p", "480p", "720p"].iter().map(|r| durations(&av.join(format!("talk_{r}.m3u8")))).collect();
    assert!(ladder.iter().all(|d| d == &ladder[0]), "segments aligned across variants: {ladder:?}");
    assert_eq!(ladder[0].len(), 3, "{ladder:?}");
    assert!(ladder[0].iter().all(|s| *s <= 6.0 + 1e-3), "within the 6 s target: {ladder:?}");
    assert!((ladder[0].iter().sum::<f64>() - 14.0).abs() < 0.1, "{ladder:?}");

    let document: Value =
        serde_json::from_slice(&std::fs::read(d.join("data/s3/public/json/talk.json")).unwrap()).unwrap();
    common::assert_valid("MetadataDocument", &document);
    let stream = &document["streaming"][0];
    assert_eq!(stream["master"]["key"], "audiovideo/talk.m3u8");
    let labels: Vec<&str> =
        stream["variants"].as_array().unwrap().iter().map(|v| v["playlist"]["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["360p", "480p", "720p"]);
    assert!(
        stream["variants"].as_array().unwrap().iter().all(|v| v["segments"] == 3 && v["bandwidth"].as_u64() > Some(0))
    );
    assert_eq!(
        document["cost"]["outputs"].as_array().unwrap().len(),
        7,
        "each MP4, each variant and the storyboard's frames are billed"
    );

    // A smaller upload of the name: the 720p variant goes, playlist and segments.
    mediaflow_testkit::video(&d.join("talk.mp4"), 854, 480, 8.0, true);
    process(d);
    assert_eq!(variants_of(&av.join("talk.m3u8")), [(640, 360), (854, 480)]);
    let left: Vec<String> =
        std::fs::read_dir(&av).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!left.iter().any(|f| f.starts_with("talk_720p")), "nothing of the 720p rung is left: {left:?}");
    assert!(!left.iter().any(|f| f == "talk_360p_00003.ts"), "the longer upload's last segment went too: {left:?}");
}
