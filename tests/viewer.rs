//! What a viewer notices, end to end through `mediaflow process`: every video's storyboard
//! (a sprite and the WebVTT map a player scrubs with) and every transcoded upload at the same
//! loudness. Checked with tools we did not write: ffmpeg's `ebur128` filter on the published
//! files, ffprobe for the sprite's size, the W3C's WebVTT parser for the map.

mod common;

use std::path::Path;

use mediaflow_testkit::{assert_w3c_webvtt, ffmpeg};
use serde_json::Value;

/// The shipped templates' target, and how far a rendition may land from it.
const TARGET_LUFS: f64 = -16.0;
const TOLERANCE_LU: f64 = 1.0;

/// A 320×180 clip of `seconds` whose sound is a 440 Hz tone changed by `gain_db` (the tone
/// alone measures about -21 LUFS), or silent video when `gain_db` is `None`.
fn clip(path: &Path, seconds: u32, gain_db: Option<i32>) {
    let t = seconds.to_string();
    let tone = format!("sine=frequency=440:sample_rate=48000,volume={}dB", gain_db.unwrap_or(0));
    let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"];
    if gain_db.is_some() {
        args.extend(["-f", "lavfi", "-i", &tone]);
    }
    args.extend(["-t", &t, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);
    if gain_db.is_some() {
        args.extend(["-c:a", "aac", "-b:a", "128k"]);
    }
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
}

/// Integrated loudness and true peak of `path`'s audio, by ffmpeg's own `ebur128`.
fn ebur128(path: &Path) -> (f64, f64) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let summary = &log[log.rfind("Summary:").unwrap_or_else(|| panic!("no summary for {path:?}: {log}"))..];
    let value = |label: &str| -> f64 {
        let line = summary.lines().map(str::trim).find(|l| l.starts_with(label)).unwrap();
        line[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    (value("I:"), value("Peak:"))
}

fn document(public: &Path, key: &str) -> Value {
    let doc: Value = serde_json::from_slice(&std::fs::read(public.join(key)).unwrap()).unwrap();
    common::assert_valid("MetadataDocument", &doc);
    doc
}

/// `hh:mm:ss.ttt` or `mm:ss.ttt` in seconds.
fn seconds(timestamp: &str) -> f64 {
    timestamp.split(':').fold(0.0, |total, part| total * 60.0 + part.parse::<f64>().unwrap())
}

/// Checks a storyboard as a player reads it: the map's cues run from 0 to the video's end
/// without gaps, each names a tile of the sprite (inside it, none twice), and the tiles fill
/// the grid the document states.
fn check_storyboard(public: &Path, doc: &Value, stem: &str) {
    let board = &doc["storyboard"];
    let (image, map) = (format!("thumbnail/{stem}.storyboard.jpg"), format!("thumbnail/{stem}.storyboard.vtt"));
    assert_eq!((board["image"]["key"].as_str(), board["map"]["key"].as_str()), (Some(&*image), Some(&*map)));
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=width,height,codec_name", "-of", "json"])
        .arg(public.join(&image))
        .output()
        .unwrap();
    let stream = serde_json::from_slice::<Value>(&probe.stdout).unwrap()["streams"][0].clone();
    assert_eq!(stream["codec_name"], "mjpeg", "{image}");
    let (width, height) = (stream["width"].as_u64().unwrap(), stream["height"].as_u64().unwrap());
    assert_eq!((Some(width), Some(height)), (board["image"]["width"].as_u64(), board["image"]["height"].as_u64()));
    let (tile_w, tile_h) =
        (board["grid"]["tileWidth"].as_u64().unwrap(), board["grid"]["tileHeight"].as_u64().unwrap());
    assert_eq!(
        (width, height),
        (board["grid"]["columns"].as_u64().unwrap() * tile_w, board["grid"]["rows"].as_u64().unwrap() * tile_h)
    );

    assert_w3c_webvtt(&[public.join(&map)]);
    let text = std::fs::read_to_string(public.join(&map)).unwrap();
    let sprite = format!("{stem}.storyboard.jpg#xywh=");
    let lines: Vec<&str> = text.lines().collect();
    let mut end_of_last = 0.0;
    let mut tiles = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((start, end)) = line.split_once(" --> ") else { continue };
        let (start, end) = (seconds(start), seconds(end.split_whitespace().next().unwrap()));
        assert!((start - end_of_last).abs() < 1e-6 && end > start, "cue {line} follows {end_of_last}");
        end_of_last = end;
        let xywh: Vec<u64> =
            lines[i + 1].strip_prefix(&sprite).unwrap().split(',').map(|n| n.parse().unwrap()).collect();
        let [x, y, w, h] = xywh[..] else { panic!("{}", lines[i + 1]) };
        assert!((w, h) == (tile_w, tile_h) && x + w <= width && y + h <= height && x % w == 0 && y % h == 0);
        assert!(!tiles.contains(&(x, y)), "tile {x},{y} named twice");
        tiles.push((x, y));
    }
    assert_eq!(tiles.len() as u64, board["grid"]["tiles"].as_u64().unwrap());
    let duration = doc["probe"]["durationSeconds"].as_f64().unwrap();
    assert!((end_of_last - duration).abs() < 0.002, "the map ends at {end_of_last}, the video at {duration}");
}

#[test]
fn every_video_gets_a_storyboard_and_every_transcode_the_target_loudness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    clip(&d.join("quiet.mp4"), 12, Some(-14));
    clip(&d.join("loud.mp4"), 3, Some(12));
    clip(&d.join("silent.mp4"), 3, None);
    let mp3 = d.join("tone.mp3");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:duration=3,volume=-10dB",
        "-c:a",
        "libmp3lame",
        mp3.to_str().unwrap(),
    ]);
    let wav = d.join("speech.wav");
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=550:duration=3,volume=-20dB", wav.to_str().unwrap()]);

    let files = ["quiet.mp4", "loud.mp4", "silent.mp4", "tone.mp3", "speech.wav"];
    let mut args = vec!["process", "--json", "--data", "data"];
    args.extend(files);
    let out = common::mediaflow(d, &args);
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let public = d.join("data/s3/public");

    // Loudness: measured on the upload as ffmpeg measures it, and every transcoded output at
    // the target, whatever the source's level.
    for (stem, rendition) in [("quiet", "quiet_180p.mp4"), ("loud", "loud_180p.mp4"), ("speech", "speech.mp3")] {
        let doc = document(&public, &format!("json/{stem}.json"));
        let upload = d.join(format!("{stem}.{}", if stem == "speech" { "wav" } else { "mp4" }));
        let (source_lufs, _) = ebur128(&upload);
        let recorded = doc["loudness"]["source"]["integratedLufs"].as_f64().unwrap();
        assert!((recorded - source_lufs).abs() <= 0.1, "{stem}: recorded {recorded}, ffmpeg says {source_lufs}");
        assert_eq!(doc["loudness"]["normalizedTo"]["targetLkfs"].as_f64(), Some(TARGET_LUFS), "{stem}");
        let (lufs, peak) = ebur128(&public.join("audiovideo").join(rendition));
        assert!(
            (lufs - TARGET_LUFS).abs() <= TOLERANCE_LU,
            "{rendition}: {lufs} LUFS from a {source_lufs} LUFS source"
        );
        assert!(peak <= -1.0 + 0.5, "{rendition}: true peak {peak} dBTP");
    }
    let quiet = document(&public, "json/quiet.json")["loudness"]["source"]["integratedLufs"].as_f64().unwrap();
    let loud = document(&public, "json/loud.json")["loudness"]["source"]["integratedLufs"].as_f64().unwrap();
    assert!(quiet < -30.0 && loud > -12.0, "the sources differ: {quiet} and {loud} LUFS");

    // An MP3 is delivered byte for byte, its loudness only recorded.
    assert_eq!(std::fs::read(public.join("audiovideo/tone.mp3")).unwrap(), std::fs::read(&mp3).unwrap());
    let tone = document(&public, "json/tone.json");
    assert!(tone["loudness"]["source"]["integratedLufs"].is_number() && tone["loudness"].get("normalizedTo").is_none());
    assert!(tone.get("storyboard").is_none());

    // A video without sound: a storyboard, no loudness.
    let silent = document(&public, "json/silent.json");
    assert!(silent.get("loudness").is_none(), "{}", silent["loudness"]);

    // Storyboards: 12 s at one tile a second wraps into a second row; 3 s is one row.
    for stem in ["quiet", "loud", "silent"] {
        check_storyboard(&public, &document(&public, &format!("json/{stem}.json")), stem);
    }
    let quiet = document(&public, "json/quiet.json");
    assert_eq!(
        (quiet["storyboard"]["grid"]["tiles"].as_u64(), quiet["storyboard"]["grid"]["rows"].as_u64()),
        (Some(12), Some(2))
    );
    // Audio has none, and the frames MediaConvert took stay out of the public bucket.
    assert!(!public.join("thumbnail/speech.storyboard.jpg").exists());
    let walk = walkdir(&public);
    assert!(walk.iter().all(|k| !k.contains("_storyboard.")), "frames made public: {walk:?}");
}

fn walkdir(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}
