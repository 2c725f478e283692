//! HLS output groups as MediaConvert writes them: for each output a variant playlist
//! `<stem><NameModifier>.m3u8` with segments `<stem><NameModifier>_00001.ts` (ffmpeg's hls muxer
//! writes both), and the group's master playlist `<stem>.m3u8`, written here from what the
//! variants hold: measured peak and average bandwidth, resolution, frame rate and codecs.

use std::path::Path;

use m3u8_rs::{MasterPlaylist, Resolution, VariantStream};

/// One variant as made: its playlist's file name (the master's URI of it), the folder ffmpeg
/// wrote it and its segments in, its picture, and its codecs (RFC 6381).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub uri: String,
    pub width: u64,
    pub height: u64,
    pub frame_rate: Option<f64>,
    pub codecs: Option<String>,
}

/// The segments a variant playlist names, with their durations in seconds.
pub fn segments(playlist: &[u8]) -> Result<Vec<(String, f64)>, String> {
    mediaflow_core::hls::segments(playlist).map_err(|e| e.to_string())
}

/// Peak and average bits a second of the segments in `dir` (with their durations): what a
/// master playlist's BANDWIDTH and AVERAGE-BANDWIDTH say.
pub fn bandwidth(dir: &Path, segments: &[(String, f64)]) -> std::io::Result<(u64, u64)> {
    let (mut peak, mut bits, mut seconds) = (0.0f64, 0.0f64, 0.0f64);
    for (uri, duration) in segments {
        let size = std::fs::metadata(dir.join(uri))?.len() as f64 * 8.0;
        if *duration > 0.0 {
            peak = peak.max(size / duration);
        }
        bits += size;
        seconds += duration;
    }
    let average = if seconds > 0.0 { bits / seconds } else { 0.0 };
    Ok((peak.ceil() as u64, average.ceil() as u64))
}

/// RFC 6381 codecs of H.264 `profile` (ffprobe's name) at `level` (ffprobe's, e.g. 31), with
/// AAC-LC audio when there is sound.
pub fn codecs(profile: &str, level: u32, audio: bool) -> Option<String> {
    let profile_idc = match profile {
        "Constrained Baseline" | "Baseline" => "42",
        "Main" => "4d",
        "High" => "64",
        _ => return None,
    };
    let constraints = if profile == "Constrained Baseline" { "e0" } else { "00" };
    let video = format!("avc1.{profile_idc}{constraints}{level:02x}");
    Some(if audio { format!("{video},mp4a.40.2") } else { video })
}

/// The master playlist of `variants`, each with its (peak, average) bandwidth, lowest first.
pub fn master(variants: &[(Variant, (u64, u64))]) -> Vec<u8> {
    let mut sorted: Vec<&(Variant, (u64, u64))> = variants.iter().collect();
    sorted.sort_by_key(|(v, (peak, _))| (*peak, v.height));
    let playlist = MasterPlaylist {
        version: Some(3),
        independent_segments: true,
        variants: sorted
            .into_iter()
            .map(|(v, (peak, average))| VariantStream {
                uri: v.uri.clone(),
                bandwidth: *peak,
                average_bandwidth: Some(*average),
                codecs: v.codecs.clone(),
                resolution: Some(Resolution { width: v.width, height: v.height }),
                frame_rate: v.frame_rate,
                ..VariantStream::default()
            })
            .collect(),
        ..MasterPlaylist::default()
    };
    let mut out = Vec::new();
    playlist.write_to(&mut out).expect("writing to memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_names_each_variant_with_what_it_measured() {
        let low = Variant {
            uri: "talk_360p.m3u8".into(),
            width: 640,
            height: 360,
            frame_rate: Some(25.0),
            codecs: codecs("High", 30, true),
        };
        let high = Variant { uri: "talk_720p.m3u8".into(), width: 1280, height: 720, ..low.clone() };
        let text = String::from_utf8(master(&[(high, (2_400_000, 2_000_000)), (low, (900_000, 700_000))])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#EXTM3U");
        let first = text.find("talk_360p.m3u8").unwrap();
        assert!(first < text.find("talk_720p.m3u8").unwrap(), "lowest first:\n{text}");
        assert!(text.contains("BANDWIDTH=900000,AVERAGE-BANDWIDTH=700000"), "{text}");
        assert!(text.contains("CODECS=\"avc1.64001e,mp4a.40.2\"") && text.contains("RESOLUTION=640x360"), "{text}");
        assert!(text.contains("#EXT-X-INDEPENDENT-SEGMENTS"), "{text}");
    }

    #[test]
    fn bandwidth_is_measured_over_the_segments() {
        let found = [("a_00001.ts".to_string(), 6.0), ("a_00002.ts".to_string(), 2.0)];
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a_00001.ts"), vec![0; 6000]).unwrap();
        std::fs::write(dir.path().join("a_00002.ts"), vec![0; 3000]).unwrap();
        // 48,000 bits over 6 s and 24,000 over 2 s: peak 12,000 b/s, average 72,000 / 8 = 9,000.
        assert_eq!(bandwidth(dir.path(), &found).unwrap(), (12_000, 9_000));
        assert_eq!(codecs("Main", 31, false).as_deref(), Some("avc1.4d001f"));
        assert_eq!(codecs("High 4:4:4", 31, false), None);
    }
}
