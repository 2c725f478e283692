//! The job templates shipped with the pipeline, compiled in: `infra/job.json` for video,
//! `infra/job-audio.json` for audio-only uploads. Users edit those files (or configure an
//! override object); see `infra/README.md`.

use serde_json::Value;

pub const VIDEO_NAME: &str = "job.json";
pub const AUDIO_NAME: &str = "job-audio.json";
pub const VIDEO_JSON: &str = include_str!("../../../infra/job.json");
pub const AUDIO_JSON: &str = include_str!("../../../infra/job-audio.json");
/// The video template with an HLS ladder beside the MP4s (`--job-template infra/job-hls.json`).
pub const HLS_JSON: &str = include_str!("../../../infra/job-hls.json");

pub fn video() -> Value {
    serde_json::from_str(VIDEO_JSON).expect("infra/job.json is JSON (a test checks it)")
}

pub fn audio() -> Value {
    serde_json::from_str(AUDIO_JSON).expect("infra/job-audio.json is JSON (a test checks it)")
}

pub fn hls() -> Value {
    serde_json::from_str(HLS_JSON).expect("infra/job-hls.json is JSON (a test checks it)")
}
