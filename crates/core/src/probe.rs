//! What ffprobe says about an upload, reduced to what the pipeline and its users need.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// The ffprobe arguments whose JSON [`parse_ffprobe`] reads; the input URL or path follows them.
pub const FFPROBE_ARGS: &[&str] = &["-v", "error", "-print_format", "json", "-show_format", "-show_streams"];

/// A probed upload.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// ffprobe's format name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    pub duration_seconds: Option<f64>,
    pub bit_rate: Option<u64>,
    pub size: Option<u64>,
    /// The first video stream that is a picture sequence (cover art is not video).
    pub video: Option<VideoStream>,
    #[serde(default)]
    pub audio: Vec<AudioStream>,
    #[serde(default)]
    pub subtitles: Vec<SubtitleStream>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoStream {
    pub codec: String,
    /// Coded size, as stored.
    pub width: u32,
    pub height: u32,
    /// Clockwise degrees a player turns the picture (0, 90, 180 or 270).
    pub rotation: u32,
    /// Size as shown, after rotation.
    pub display_width: u32,
    pub display_height: u32,
    pub frame_rate: Option<f64>,
    pub pixel_format: Option<String>,
    pub color_transfer: Option<String>,
    /// PQ (SMPTE 2084) or HLG transfer.
    pub hdr: bool,
    pub bit_rate: Option<u64>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudioStream {
    pub codec: String,
    pub channels: u32,
    pub sample_rate: u32,
    pub language: Option<String>,
    pub bit_rate: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubtitleStream {
    pub codec: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl Probe {
    /// The size a viewer sees, if there is a picture.
    pub fn display_size(&self) -> Option<(u32, u32)> {
        self.video.as_ref().map(|v| (v.display_width, v.display_height))
    }
}

/// Reads the JSON of `ffprobe` run with [`FFPROBE_ARGS`]. A file with neither audio nor video is
/// `InvalidMedia`.
pub fn parse_ffprobe(json: &[u8]) -> Result<Probe, Error> {
    let doc: Value =
        serde_json::from_slice(json).map_err(|e| Error::InvalidMedia(format!("ffprobe output is not JSON: {e}")))?;
    let format = doc.get("format").ok_or_else(|| Error::InvalidMedia("ffprobe found no container format".into()))?;
    let streams = doc.get("streams").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let of_type = |t: &'static str| streams.iter().filter(move |s| str_of(s, "codec_type") == Some(t));

    let video = of_type("video")
        .find(|s| s.pointer("/disposition/attached_pic").and_then(Value::as_i64) != Some(1))
        .map(video_stream)
        .transpose()?;
    let audio: Vec<AudioStream> = of_type("audio")
        .map(|s| AudioStream {
            codec: str_of(s, "codec_name").unwrap_or("unknown").to_string(),
            channels: num_of(s, "channels").unwrap_or(0) as u32,
            sample_rate: num_of(s, "sample_rate").unwrap_or(0) as u32,
            language: language_of(s),
            bit_rate: num_of(s, "bit_rate"),
        })
        .collect();
    let subtitles = of_type("subtitle")
        .map(|s| SubtitleStream {
            codec: str_of(s, "codec_name").unwrap_or("unknown").to_string(),
            language: language_of(s),
        })
        .collect();
    if video.is_none() && audio.is_empty() {
        return Err(if streams.is_empty() {
            Error::InvalidMedia("the file has no stream ffprobe can read".into())
        } else {
            Error::UnsupportedMedia(format!("the file holds {} stream(s) but no audio or video", streams.len()))
        });
    }
    Ok(Probe {
        container: str_of(format, "format_name").unwrap_or("unknown").to_string(),
        duration_seconds: float_of(format, "duration").filter(|d| d.is_finite() && *d > 0.0),
        bit_rate: num_of(format, "bit_rate"),
        size: num_of(format, "size"),
        video,
        audio,
        subtitles,
    })
}

fn video_stream(s: &Value) -> Result<VideoStream, Error> {
    let width = num_of(s, "width").unwrap_or(0) as u32;
    let height = num_of(s, "height").unwrap_or(0) as u32;
    if width == 0 || height == 0 {
        return Err(Error::InvalidMedia("the video stream has no picture size".into()));
    }
    let rotation = rotation_of(s);
    let (display_width, display_height) = crate::ladder::display_size(width, height, rotation);
    let color_transfer = str_of(s, "color_transfer").map(str::to_string);
    Ok(VideoStream {
        codec: str_of(s, "codec_name").unwrap_or("unknown").to_string(),
        width,
        height,
        rotation,
        display_width,
        display_height,
        frame_rate: rate_of(s, "avg_frame_rate").or_else(|| rate_of(s, "r_frame_rate")),
        pixel_format: str_of(s, "pix_fmt").map(str::to_string),
        hdr: matches!(color_transfer.as_deref(), Some("smpte2084" | "arib-std-b67")),
        color_transfer,
        bit_rate: num_of(s, "bit_rate"),
    })
}

/// Clockwise display rotation. ffprobe gives a display matrix rotation (counter-clockwise,
/// e.g. -90 for a phone held upright) or, from older muxers, a `rotate` tag (clockwise).
fn rotation_of(s: &Value) -> u32 {
    let matrix = s
        .get("side_data_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|d| d.get("rotation").and_then(|r| r.as_f64().or_else(|| r.as_str()?.parse().ok())))
        .map(|ccw| -ccw);
    let tag = || s.pointer("/tags/rotate").and_then(Value::as_str).and_then(|r| r.parse::<f64>().ok());
    let clockwise = matrix.or_else(tag).unwrap_or(0.0);
    let quarter = (clockwise / 90.0).round() as i64;
    (quarter.rem_euclid(4) * 90) as u32
}

fn str_of<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str).filter(|s| !s.is_empty() && *s != "unknown")
}

/// ffprobe prints most numbers as strings.
fn num_of(v: &Value, field: &str) -> Option<u64> {
    match v.get(field)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn float_of(v: &Value, field: &str) -> Option<f64> {
    match v.get(field)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `30000/1001` → 29.97; `0/0` → none.
fn rate_of(v: &Value, field: &str) -> Option<f64> {
    let (n, d) = str_of(v, field)?.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0 && n > 0.0).then(|| (n / d * 1000.0).round() / 1000.0)
}

fn language_of(s: &Value) -> Option<String> {
    s.pointer("/tags/language").and_then(Value::as_str).filter(|l| !l.is_empty() && *l != "und").map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;
    use serde_json::json;

    fn probe(v: Value) -> Result<Probe, Error> {
        parse_ffprobe(v.to_string().as_bytes())
    }

    fn phone_clip() -> Value {
        // Shape of ffprobe 5+ output for a phone recording held upright.
        json!({
            "streams": [
                {"index": 0, "codec_name": "h264", "codec_type": "video", "width": 1920, "height": 1080,
                 "pix_fmt": "yuv420p", "r_frame_rate": "30/1", "avg_frame_rate": "30000/1001",
                 "bit_rate": "8000000", "disposition": {"attached_pic": 0},
                 "side_data_list": [{"side_data_type": "Display Matrix", "displaymatrix": "...", "rotation": -90}]},
                {"index": 1, "codec_name": "aac", "codec_type": "audio", "sample_rate": "48000", "channels": 2,
                 "bit_rate": "128000", "tags": {"language": "eng"}}
            ],
            "format": {"filename": "x.mov", "format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.345000",
                       "size": "12345678", "bit_rate": "8000123"}
        })
    }

    #[test]
    fn reads_a_rotated_phone_clip() {
        let p = probe(phone_clip()).unwrap();
        assert_eq!(p.container, "mov,mp4,m4a,3gp,3g2,mj2");
        assert_eq!(p.duration_seconds, Some(12.345));
        assert_eq!((p.size, p.bit_rate), (Some(12_345_678), Some(8_000_123)));
        let v = p.video.as_ref().unwrap();
        assert_eq!((v.width, v.height, v.rotation), (1920, 1080, 90));
        assert_eq!((v.display_width, v.display_height), (1080, 1920));
        assert_eq!(v.frame_rate, Some(29.97));
        assert!(!v.hdr);
        assert_eq!(p.audio[0].channels, 2);
        assert_eq!(p.audio[0].sample_rate, 48000);
        assert_eq!(p.audio[0].language.as_deref(), Some("eng"));
        assert_eq!(p.display_size(), Some((1080, 1920)));
    }

    #[test]
    fn rotation_from_tags_and_every_quarter() {
        for (matrix, want) in [(-90.0, 90), (90.0, 270), (180.0, 180), (-180.0, 180), (0.0, 0), (-270.0, 270)] {
            let mut v = phone_clip();
            v["streams"][0]["side_data_list"][0]["rotation"] = json!(matrix);
            assert_eq!(probe(v).unwrap().video.unwrap().rotation, want, "{matrix}");
        }
        let mut v = phone_clip();
        v["streams"][0].as_object_mut().unwrap().remove("side_data_list");
        v["streams"][0]["tags"] = json!({"rotate": "270"});
        assert_eq!(probe(v).unwrap().video.unwrap().rotation, 270);
    }

    #[test]
    fn cover_art_is_not_video() {
        let v = json!({
            "streams": [
                {"codec_name": "mp3", "codec_type": "audio", "sample_rate": "44100", "channels": 2},
                {"codec_name": "mjpeg", "codec_type": "video", "width": 500, "height": 500,
                 "disposition": {"attached_pic": 1}}
            ],
            "format": {"format_name": "mp3", "duration": "3.0"}
        });
        let p = probe(v).unwrap();
        assert!(p.video.is_none());
        assert_eq!(p.audio[0].codec, "mp3");
    }

    #[test]
    fn hdr_and_subtitles() {
        let mut v = phone_clip();
        v["streams"][0]["color_transfer"] = json!("smpte2084");
        v["streams"][0]["pix_fmt"] = json!("yuv420p10le");
        v["streams"].as_array_mut().unwrap().push(json!(
            {"codec_name": "mov_text", "codec_type": "subtitle", "tags": {"language": "fra"}}));
        let p = probe(v).unwrap();
        assert!(p.video.as_ref().unwrap().hdr);
        assert_eq!(p.subtitles, vec![SubtitleStream { codec: "mov_text".into(), language: Some("fra".into()) }]);
    }

    #[test]
    fn not_media_is_invalid_media() {
        let none = json!({"streams": [], "format": {"format_name": "tty"}});
        assert_eq!(probe(none).unwrap_err().name(), crate::ErrorName::InvalidMedia);
        let data_only =
            json!({"streams": [{"codec_type": "data", "codec_name": "bin_data"}], "format": {"format_name": "mpegts"}});
        assert_eq!(probe(data_only).unwrap_err().name(), crate::ErrorName::UnsupportedMedia);
        assert!(parse_ffprobe(b"not json").is_err());
        assert!(probe(json!({"streams": []})).is_err());
        let sizeless =
            json!({"streams": [{"codec_type": "video", "codec_name": "h264"}], "format": {"format_name": "mp4"}});
        assert!(probe(sizeless).is_err());
        // A duration of N/A is simply absent.
        let mut v = phone_clip();
        v["format"]["duration"] = json!("N/A");
        assert_eq!(probe(v).unwrap().duration_seconds, None);
    }
}
