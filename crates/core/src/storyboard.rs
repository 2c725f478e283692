//! The storyboard: small frames of a video tiled into one sprite
//! (`thumbnail/<dir>/<stem>.storyboard.jpg`), with a WebVTT map
//! (`thumbnail/<dir>/<stem>.storyboard.vtt`) whose cues name each tile by a `#xywh=` fragment, so
//! a player shows the tile under the pointer while scrubbing.
//!
//! MediaConvert takes the frames (a `FRAME_CAPTURE` output group in the job the pipeline builds,
//! written to the upload's staging folder), and the Storyboard step tiles them. MediaConvert
//! cannot tile frames itself.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ladder::scale_to_short_side;

/// A tile's width in pixels (its height follows the picture's shape).
pub const TILE_WIDTH: u32 = 160;
/// At most about this many tiles: one every N whole seconds, N as small as keeps to it.
pub const MAX_TILES: u32 = 100;
/// The sprite's grid is at most this many columns wide.
pub const MAX_COLUMNS: u32 = 10;
/// JPEG quality MediaConvert and the sprite encode at (1-100).
pub const QUALITY: u8 = 80;
/// The name modifier of the frame outputs: `<stem>_storyboard.0000000.jpg`.
pub const NAME_MODIFIER: &str = "_storyboard";
/// The folder of the upload's staging where MediaConvert writes the frames.
pub const FRAMES_FOLDER: &str = "frames/";

/// The storyboard BuildJob asks for: how often a frame is taken, how many at most, how big.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryboardPlan {
    /// Seconds between two frames (the first at 0).
    pub interval_seconds: u32,
    /// How many frames the job takes at most.
    pub max_tiles: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    /// Watch-bucket key prefix of the frames: MediaConvert appends `.0000000.jpg`, `.0000001.jpg`, …
    pub frames_prefix: String,
}

/// The plan for a video of `duration_seconds` whose picture shows `width`×`height`, its frames
/// under `frames_prefix`. `None` for a picture too short to sample (no duration) or too thin for
/// any tile MediaConvert will make.
pub fn plan(duration_seconds: Option<f64>, width: u32, height: u32, frames_prefix: String) -> Option<StoryboardPlan> {
    let duration = duration_seconds.filter(|d| d.is_finite() && *d > 0.0)?;
    let interval = ((duration / f64::from(MAX_TILES)).ceil() as u32).max(1);
    let max_tiles = ((duration / f64::from(interval)).ceil() as u32).clamp(1, MAX_TILES);
    let (tile_width, tile_height) = tile_size(width, height)?;
    Some(StoryboardPlan { interval_seconds: interval, max_tiles, tile_width, tile_height, frames_prefix })
}

/// The sides MediaConvert accepts for an output (`Width`, `Height`: 32 to 8192 in its API model).
const MIN_SIDE: u32 = 32;
const MAX_SIDE: u32 = 8192;

/// A tile's size: [`TILE_WIDTH`] wide (or the picture's width, when narrower), even sides; a
/// picture so wide or so small that a side would fall under [`MIN_SIDE`] gets that side at the
/// minimum and the other at the picture's aspect. `None` when the other side would then pass
/// [`MAX_SIDE`] (a picture over 256 times as wide as tall).
pub fn tile_size(width: u32, height: u32) -> Option<(u32, u32)> {
    if width == 0 || height == 0 {
        return None;
    }
    let target_width = TILE_WIDTH.min(width);
    let (w, h) = if width >= height {
        scale_to_short_side(
            width,
            height,
            ((f64::from(target_width) * f64::from(height) / f64::from(width)) as u32).max(2),
        )
    } else {
        scale_to_short_side(width, height, target_width)
    };
    let (w, h) = if w.min(h) >= MIN_SIDE {
        (w, h)
    } else {
        let long = |a: u32, b: u32| (f64::from(MIN_SIDE) * f64::from(a) / f64::from(b) / 2.0).round() as u32 * 2;
        if width >= height { (long(width, height), MIN_SIDE) } else { (MIN_SIDE, long(height, width)) }
    };
    (w.max(h) <= MAX_SIDE).then_some((w, h))
}

/// The key of frame `n` (from 0) under `prefix`, as MediaConvert numbers them.
pub fn frame_key(prefix: &str, n: u32) -> String {
    format!("{prefix}.{n:07}.jpg")
}

/// The frame number of `key` under `prefix`, when it is one.
pub fn frame_number(prefix: &str, key: &str) -> Option<u32> {
    split_frame_key(key).filter(|(p, _)| *p == prefix).map(|(_, n)| n)
}

/// A frame's key as its prefix and number: `<prefix>.<n as 7 digits>.jpg`.
pub fn split_frame_key(key: &str) -> Option<(&str, u32)> {
    let (prefix, digits) = key.strip_suffix(".jpg")?.rsplit_once('.')?;
    let number = (digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())??;
    Some((prefix, number))
}

/// Whether a MediaConvert output (a member of a group's `Outputs`) captures frames.
pub fn is_frame_capture(output: &Value) -> bool {
    output.pointer("/VideoDescription/CodecSettings/Codec").and_then(Value::as_str) == Some("FRAME_CAPTURE")
}

/// The MediaConvert output group that takes the frames: a file group writing JPEGs to
/// `destination` (`s3://bucket/<frames_prefix without the name modifier>`).
pub fn frame_capture_group(plan: &StoryboardPlan, destination: &str) -> Value {
    json!({
        "Name": "Storyboard frames",
        "OutputGroupSettings": {
            "Type": "FILE_GROUP_SETTINGS",
            "FileGroupSettings": { "Destination": destination }
        },
        "Outputs": [{
            "NameModifier": NAME_MODIFIER,
            "ContainerSettings": { "Container": "RAW" },
            "VideoDescription": {
                "Width": plan.tile_width,
                "Height": plan.tile_height,
                "ScalingBehavior": "DEFAULT",
                "CodecSettings": {
                    "Codec": "FRAME_CAPTURE",
                    "FrameCaptureSettings": {
                        "FramerateNumerator": 1,
                        "FramerateDenominator": plan.interval_seconds,
                        "MaxCaptures": plan.max_tiles,
                        "Quality": QUALITY
                    }
                }
            }
        }]
    })
}

/// Where tile `index` sits in a sprite of `columns` columns.
pub fn tile_origin(index: u32, columns: u32, tile_width: u32, tile_height: u32) -> (u32, u32) {
    ((index % columns) * tile_width, (index / columns) * tile_height)
}

/// The grid for `tiles` tiles: (columns, rows).
pub fn grid(tiles: u32) -> (u32, u32) {
    let columns = tiles.clamp(1, MAX_COLUMNS);
    (columns, tiles.div_ceil(columns).max(1))
}

/// The largest side a JPEG can have: a sprite must fit in it.
pub const MAX_SPRITE_SIDE: u32 = 65_535;

/// The sprite's size in pixels for `tiles` tiles of `tile_width`×`tile_height` in [`grid`];
/// `None` when a tile has no area or the sprite would not fit in a JPEG.
pub fn sprite_size(tiles: u32, tile_width: u32, tile_height: u32) -> Option<(u32, u32)> {
    let (columns, rows) = grid(tiles);
    let width = columns.checked_mul(tile_width)?;
    let height = rows.checked_mul(tile_height)?;
    (tile_width > 0 && tile_height > 0 && width <= MAX_SPRITE_SIDE && height <= MAX_SPRITE_SIDE)
        .then_some((width, height))
}

/// When tile `index` of `tiles` shows, in milliseconds: from its frame's time to the next
/// frame's, the last one to the end of the media. Cues stay contiguous and never empty, even
/// when the probed duration ends before the last frame's time (the last tile then shows for one
/// interval) or is unknown.
pub fn cue_span(index: u32, tiles: u32, interval_seconds: u32, duration_seconds: Option<f64>) -> (u64, u64) {
    let interval = u64::from(interval_seconds.max(1)) * 1000;
    let start = u64::from(index) * interval;
    if index + 1 < tiles {
        return (start, start + interval);
    }
    let end = duration_seconds
        .filter(|d| d.is_finite())
        .map(|d| (d * 1000.0).round() as u64)
        .filter(|end| *end > start)
        .unwrap_or(start + interval);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_a_hundred_tiles_at_most_one_every_whole_second() {
        let p = plan(Some(60.0), 1920, 1080, "f".into()).unwrap();
        assert_eq!((p.interval_seconds, p.max_tiles, p.tile_width, p.tile_height), (1, 60, 160, 90));
        let p = plan(Some(3.0 * 3600.0), 1920, 1080, "f".into()).unwrap();
        assert_eq!((p.interval_seconds, p.max_tiles), (108, 100));
        let p = plan(Some(100.5), 1080, 1920, "f".into()).unwrap();
        assert_eq!((p.interval_seconds, p.max_tiles, p.tile_width, p.tile_height), (2, 51, 160, 284));
        let p = plan(Some(0.4), 120, 68, "f".into()).unwrap();
        assert_eq!((p.interval_seconds, p.max_tiles, p.tile_width, p.tile_height), (1, 1, 120, 68));
        assert_eq!(plan(None, 1920, 1080, "f".into()), None);
        assert_eq!(plan(Some(0.0), 1920, 1080, "f".into()), None);
    }

    #[test]
    fn every_tile_side_is_one_mediaconvert_accepts() {
        assert_eq!(tile_size(1920, 1080), Some((160, 90)));
        // Wider than 5:1: the short side at 32, the long one at the picture's aspect.
        assert_eq!(tile_size(1920, 360), Some((170, 32)));
        assert_eq!(tile_size(1920, 200), Some((308, 32)));
        assert_eq!(tile_size(200, 1920), Some((160, 1536)));
        assert_eq!(tile_size(20, 1920), Some((32, 3072)));
        // Smaller than a tile: made up to 32.
        assert_eq!(tile_size(16, 16), Some((32, 32)));
        assert_eq!(tile_size(8192, 32), Some((8192, 32)));
        assert_eq!(tile_size(8194, 16), None, "the long side would pass 8192");
        assert_eq!(tile_size(0, 1080), None);
        for (w, h) in [(1920, 1080), (1080, 1920), (640, 480), (7680, 4320), (33, 8000), (4000, 31), (2, 2)] {
            let (tw, th) = tile_size(w, h).unwrap();
            assert!((MIN_SIDE..=MAX_SIDE).contains(&tw) && (MIN_SIDE..=MAX_SIDE).contains(&th), "{w}x{h}: {tw}x{th}");
            assert!(tw % 2 == 0 && th % 2 == 0, "{w}x{h}: {tw}x{th}");
        }
        assert_eq!(plan(Some(60.0), 100_000, 100, "f".into()), None);
    }

    #[test]
    fn frames_are_numbered_as_mediaconvert_numbers_them() {
        assert_eq!(frame_key("s/frames/a/talk_storyboard", 12), "s/frames/a/talk_storyboard.0000012.jpg");
        assert_eq!(frame_number("s/frames/a/talk_storyboard", "s/frames/a/talk_storyboard.0000012.jpg"), Some(12));
        assert_eq!(frame_number("s/frames/a/talk_storyboard", "s/frames/a/talk_storyboard.12.jpg"), None);
        assert_eq!(frame_number("s/frames/a/talk", "s/frames/a/talk_storyboard.0000012.jpg"), None);
    }

    #[test]
    fn the_grid_is_at_most_ten_columns_wide() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(10), (10, 1));
        assert_eq!(grid(11), (10, 2));
        assert_eq!(grid(100), (10, 10));
        assert_eq!(tile_origin(0, 10, 160, 90), (0, 0));
        assert_eq!(tile_origin(9, 10, 160, 90), (1440, 0));
        assert_eq!(tile_origin(10, 10, 160, 90), (0, 90));
    }

    #[test]
    fn the_sprite_fits_in_a_jpeg() {
        assert_eq!(sprite_size(12, 160, 90), Some((1600, 180)));
        assert_eq!(sprite_size(3, 160, 284), Some((480, 284)));
        assert_eq!(sprite_size(100, 160, 6553), Some((1600, 65_530)));
        assert_eq!(sprite_size(100, 160, 6554), None, "ten rows past 65,535 pixels");
        assert_eq!(sprite_size(1, 0, 90), None);
        assert_eq!(sprite_size(1, 160, u32::MAX), None);
    }

    #[test]
    fn cues_are_contiguous_from_zero_to_the_duration() {
        let spans: Vec<_> = (0..12).map(|i| cue_span(i, 12, 1, Some(11.5))).collect();
        assert_eq!(spans[0], (0, 1000));
        assert_eq!(spans[11], (11_000, 11_500), "the last cue ends at the duration");
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(cue_span(2, 3, 108, Some(10_800.0)), (216_000, 10_800_000));
        // A duration the frames outran, or none, still gives the last tile an interval.
        assert_eq!(cue_span(2, 3, 2, Some(3.0)), (4000, 6000));
        assert_eq!(cue_span(2, 3, 2, None), (4000, 6000));
        assert_eq!(cue_span(0, 1, 1, Some(0.4)), (0, 400));
    }
}
