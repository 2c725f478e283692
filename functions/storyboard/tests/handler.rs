//! Storyboard on real JPEG frames made by ffmpeg, against the embedded S3 endpoint: the sprite
//! read back with ffprobe and decoded, the map parsed here and by the W3C WebVTT parser.

use std::path::Path;

use image::RgbImage;
use mediaflow_core::contract::{Source, Storyboard, StoryboardInput};
use mediaflow_core::probe::{FFPROBE_ARGS, Probe};
use mediaflow_core::publish::{staged_key, staging_prefix};
use mediaflow_core::storyboard::{FRAMES_FOLDER, NAME_MODIFIER, StoryboardPlan, frame_key};
use mediaflow_core::{ErrorName, Named};
use mediaflow_s3::EmbeddedS3;
use mediaflow_testkit::ffmpeg;
use storyboard::{Clients, handler};

const FRAMES: u32 = 12;
const DURATION: f64 = 11.5;

async fn start(dir: &Path) -> (EmbeddedS3, Clients) {
    let s3 = EmbeddedS3::start(&dir.join("data"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let clients = Clients { s3: s3.client(), destination_bucket: "public".into() };
    (s3, clients)
}

/// What BuildJob and Probe would hand the step for `key`: 160x90 tiles, one a second.
fn input(key: &str) -> StoryboardInput {
    let source = Source::new("watch", key, 1000, "etag1");
    let stem = Path::new(key).file_stem().unwrap().to_str().unwrap();
    let frames_prefix = format!("{}{FRAMES_FOLDER}{stem}{NAME_MODIFIER}", staging_prefix(&source));
    let storyboard =
        StoryboardPlan { interval_seconds: 1, max_tiles: FRAMES, tile_width: 160, tile_height: 90, frames_prefix };
    let probe: Probe = serde_json::from_value(
        serde_json::json!({"container": "mov,mp4,m4a,3gp,3g2,mj2", "durationSeconds": DURATION}),
    )
    .unwrap();
    StoryboardInput { source, storyboard, probe }
}

/// `FRAMES` JPEGs of testsrc, its hue turning, as MediaConvert writes them (160x90, one a second), numbered from
/// 0; the last `odd` frames one pixel larger each way, as MediaConvert's rounding can make them.
fn make_frames(dir: &Path, odd: u32) -> Vec<Vec<u8>> {
    let pattern = dir.join("f%07d.jpg");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x90:rate=1",
        // The hue turns a full circle over the frames: each frame unlike the others.
        "-vf",
        "hue=H=2*PI*t/12",
        "-frames:v",
        &FRAMES.to_string(),
        "-q:v",
        "3",
        "-start_number",
        "0",
        pattern.to_str().unwrap(),
    ]);
    (0..FRAMES)
        .map(|n| {
            let path = dir.join(format!("f{n:07}.jpg"));
            if n >= FRAMES - odd {
                let odd_path = dir.join(format!("odd{n}.jpg"));
                ffmpeg(&["-i", path.to_str().unwrap(), "-vf", "scale=161:91", odd_path.to_str().unwrap()]);
                std::fs::read(odd_path).unwrap()
            } else {
                std::fs::read(path).unwrap()
            }
        })
        .collect()
}

async fn put(s3: &EmbeddedS3, key: &str, body: Vec<u8>) {
    s3.client().put_object().bucket("watch").key(key).body(body.into()).send().await.unwrap();
}

async fn get(s3: &EmbeddedS3, key: &str, content_type: &str) -> Vec<u8> {
    let got = s3.client().get_object().bucket("watch").key(key).send().await.unwrap();
    assert_eq!(got.content_type(), Some(content_type), "{key}");
    got.body.collect().await.unwrap().into_bytes().to_vec()
}

/// The sprite's width and height as ffprobe reads them: an independent decoder.
fn ffprobe_size(path: &Path) -> (u32, u32) {
    let out = std::process::Command::new("ffprobe").args(FFPROBE_ARGS).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let probe: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stream = &probe["streams"][0];
    assert_eq!(stream["codec_name"], "mjpeg");
    (stream["width"].as_u64().unwrap() as u32, stream["height"].as_u64().unwrap() as u32)
}

/// Each cue of the map: (start s, end s, x, y, w, h), the text checked to name `sprite`.
fn parse_map(vtt: &str, sprite: &str) -> Vec<(f64, f64, u32, u32, u32, u32)> {
    let seconds = |t: &str| t.split(':').fold(0.0, |acc, part| acc * 60.0 + part.parse::<f64>().unwrap());
    assert!(vtt.starts_with("WEBVTT\n"));
    let lines: Vec<&str> = vtt.lines().collect();
    let mut cues = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((start, end)) = line.split_once(" --> ") {
            let text = lines[i + 1];
            let (name, fragment) = text.split_once("#xywh=").unwrap();
            assert_eq!(name, sprite);
            let r: Vec<u32> = fragment.split(',').map(|n| n.parse().unwrap()).collect();
            cues.push((seconds(start), seconds(end), r[0], r[1], r[2], r[3]));
        }
    }
    cues
}

/// Mean absolute difference of two same-size RGB images.
fn difference(a: &RgbImage, b: &RgbImage) -> f64 {
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

async fn run(s3: &EmbeddedS3, clients: &Clients, input: &StoryboardInput) -> (Storyboard, Vec<u8>, String) {
    let board = handler(input.clone(), clients).await.unwrap();
    let image = get(s3, &staged_key(&input.source, &board.image.key), "image/jpeg").await;
    let map = get(s3, &staged_key(&input.source, &board.map.key), "text/vtt").await;
    (board, image, String::from_utf8(map).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn twelve_frames_make_a_sprite_and_a_map_that_tiles_it() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let input = input("inputs/a b/talk+1.mp4");
    let frames = make_frames(dir.path(), 2);
    let prefix = &input.storyboard.frames_prefix;
    // Stored in reverse, so the listing's order is not the frames' order by accident.
    for (n, jpeg) in frames.iter().enumerate().rev() {
        put(&s3, &frame_key(prefix, n as u32), jpeg.clone()).await;
    }
    // Not frames: another stem's under the same letters, and a file that is not numbered.
    put(&s3, &format!("{prefix}2.0000000.jpg"), frames[0].clone()).await;
    put(&s3, &format!("{prefix}.listing"), b"x".to_vec()).await;

    let (board, image, map) = run(&s3, &clients, &input).await;
    assert_eq!(board.bucket, "public");
    assert_eq!(board.image.key, "thumbnail/a b/talk+1.storyboard.jpg");
    assert_eq!(board.map.key, "thumbnail/a b/talk+1.storyboard.vtt");
    assert_eq!((board.grid.tiles, board.grid.columns, board.grid.rows), (12, 10, 2));
    assert_eq!((board.grid.tile_width, board.grid.tile_height, board.grid.interval_seconds), (160, 90, 1));
    assert_eq!((board.image.size, board.map.size), (image.len() as u64, map.len() as u64));

    let sprite_path = s3.path_of("watch", &staged_key(&input.source, &board.image.key));
    let (width, height) = ffprobe_size(&sprite_path);
    assert_eq!((width, height), (board.grid.columns * board.grid.tile_width, board.grid.rows * board.grid.tile_height));

    let cues = parse_map(&map, "talk+1.storyboard.jpg");
    assert_eq!(cues.len(), FRAMES as usize);
    assert_eq!(cues[0].0, 0.0);
    assert!(cues.windows(2).all(|c| c[0].1 == c[1].0), "contiguous cues: {map}");
    assert_eq!(cues.last().unwrap().1, DURATION);
    let mut seen = std::collections::HashSet::new();
    for &(_, _, x, y, w, h) in &cues {
        assert!(x + w <= width && y + h <= height, "({x},{y},{w},{h}) outside the sprite");
        assert_eq!((w, h), (160, 90));
        assert!(seen.insert((x, y)), "two cues on one tile");
    }

    // Each cue's rectangle shows its own frame (scaled ones too), not its neighbour.
    let sprite = image::load_from_memory(&image).unwrap().into_rgb8();
    for (i, &(_, _, x, y, w, h)) in cues.iter().enumerate() {
        let tile = image::imageops::crop_imm(&sprite, x, y, w, h).to_image();
        let own = image::imageops::resize(
            &image::load_from_memory(&frames[i]).unwrap().into_rgb8(),
            w,
            h,
            image::imageops::FilterType::Triangle,
        );
        let other = image::load_from_memory(&frames[(i + 6) % frames.len()]).unwrap().into_rgb8();
        let other = image::imageops::resize(&other, w, h, image::imageops::FilterType::Triangle);
        let (near, far) = (difference(&tile, &own), difference(&tile, &other));
        assert!(near < 8.0 && far > 40.0, "cue {i}: {near:.1} from its frame, {far:.1} from another");
    }

    let map_path = s3.path_of("watch", &staged_key(&input.source, &board.map.key));
    mediaflow_testkit::assert_w3c_webvtt(&[map_path]);
}

#[tokio::test(flavor = "multi_thread")]
async fn running_twice_writes_the_same_storyboard() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let input = input("inputs/talk.mp4");
    for (n, jpeg) in make_frames(dir.path(), 0).into_iter().enumerate() {
        put(&s3, &frame_key(&input.storyboard.frames_prefix, n as u32), jpeg).await;
    }
    let (first, first_image, first_map) = run(&s3, &clients, &input).await;
    let (second, second_image, second_map) = run(&s3, &clients, &input).await;
    assert_eq!(first, second);
    assert_eq!((first_image, first_map), (second_image, second_map));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_frames_and_a_frame_that_is_no_jpeg_are_frame_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let input = input("inputs/talk.mp4");
    let err = handler(input.clone(), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::FrameFailed);
    assert_eq!(err.name().as_str(), "MediaFlow.FrameFailed");
    assert!(err.to_string().contains(&input.storyboard.frames_prefix), "{err}");

    put(&s3, &frame_key(&input.storyboard.frames_prefix, 0), b"not a jpeg".to_vec()).await;
    let err = handler(input.clone(), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::FrameFailed);
    assert!(err.to_string().contains(".0000000.jpg"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gap_in_the_frames_is_a_frame_failure_not_a_shifted_map() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, clients) = start(dir.path()).await;
    let input = input("inputs/talk.mp4");
    let frames = make_frames(dir.path(), 0);
    for n in [0, 1, 3] {
        put(&s3, &frame_key(&input.storyboard.frames_prefix, n), frames[n as usize].clone()).await;
    }
    let err = handler(input.clone(), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::FrameFailed);
    assert!(err.to_string().contains("frame 2 is missing"), "{err}");
}
