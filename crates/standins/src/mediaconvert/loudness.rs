//! The measuring side of `AudioNormalizationSettings`: loudnorm's first pass over the source's
//! audio, once per job (every output of the job normalizes the same audio), then each
//! normalized output's `-af` made loudnorm's second pass with the measured values.
//!
//! loudnorm is linear (one gain, exact) when that gain keeps the true peak under the limit;
//! otherwise it falls back to dynamic mode (gain riding and a true-peak limiter), which misses
//! the target by a few LU on short or peaky audio. For those, a calibration run of the second
//! pass itself says where it lands, and its `offset` gain is corrected by the miss.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::compile::{Compiled, Loudnorm, Measured};

/// How long one analysis of the source's audio may take (audio decodes far faster than real
/// time: a three-hour source takes about a minute).
const PASS_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Calibration runs at most per target, and the miss (LU) that needs no more.
const CALIBRATIONS: usize = 2;
const CLOSE_ENOUGH: f64 = 0.25;
/// The sample rate when neither the output nor the source says one.
const FALLBACK_RATE: u64 = 48_000;

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("cannot run ffmpeg to measure the audio: {0}")]
    Run(#[from] std::io::Error),
    #[error("measuring the audio's loudness took longer than {} s", PASS_TIMEOUT.as_secs())]
    TimedOut,
    #[error("measuring the audio's loudness failed: {0}")]
    Failed(String),
}

/// Fills in the `-af` of every normalized output of `compiled`, measuring the source at `url`
/// (`shown` in messages instead: a presigned URL's signature is a credential).
pub(super) async fn normalize(
    ffmpeg: &Path,
    url: &str,
    shown: &str,
    compiled: &mut Compiled,
) -> Result<(), MeasureError> {
    let Some(first) = compiled.loudness.first() else { return Ok(()) };
    let first = Loudnorm::of(&first.target);
    let (ok, log) = analyse(ffmpeg, url, &first.first_pass()).await?;
    let source_rate = source_sample_rate(&log);
    let measured = match Measured::parse(&log) {
        Some(measured) if ok => measured,
        // No audio (nothing to normalize, the outputs have none) or digital silence (nothing
        // to bring up): the outputs keep what the source has.
        _ if ok || source_rate.is_none() => {
            for fix in &compiled.loudness {
                compiled.args[fix.arg] = "anull".into();
            }
            return Ok(());
        }
        _ => return Err(MeasureError::Failed(last_line(&log).replace(url, shown))),
    };
    // The offset of each dynamic target, calibrated once per job.
    let mut offsets: Vec<(Loudnorm, f64)> = Vec::new();
    for fix in compiled.loudness.clone() {
        let loudnorm = Loudnorm::of(&fix.target);
        let rate = fix.sample_rate.or(source_rate).unwrap_or(FALLBACK_RATE);
        let offset = if loudnorm.linear(&measured) {
            0.0
        } else if let Some((_, offset)) = offsets.iter().find(|(l, _)| *l == loudnorm) {
            *offset
        } else {
            // The first pass's own miss is the best first guess for its own target.
            let start = if loudnorm == first { measured.target_offset } else { 0.0 };
            let offset = calibrate(ffmpeg, url, &loudnorm, &measured, start).await?;
            offsets.push((loudnorm.clone(), offset));
            offset
        };
        compiled.args[fix.arg] = loudnorm.second_pass(&measured, offset, Some(rate));
    }
    Ok(())
}

/// The `offset` that lands loudnorm's dynamic second pass on its target, from `offset`.
async fn calibrate(
    ffmpeg: &Path,
    url: &str,
    loudnorm: &Loudnorm,
    measured: &Measured,
    mut offset: f64,
) -> Result<f64, MeasureError> {
    for _ in 0..CALIBRATIONS {
        let (_, log) = analyse(ffmpeg, url, &loudnorm.second_pass(measured, offset, None)).await?;
        let Some(landed) = Measured::parse(&log).map(|m| m.output_i).filter(|i| i.is_finite()) else { break };
        let miss = loudnorm.target - landed;
        // loudnorm takes offsets of ±99 dB.
        offset = (offset + miss).clamp(-99.0, 99.0);
        if miss.abs() <= CLOSE_ENOUGH {
            break;
        }
    }
    Ok(offset)
}

/// Runs `filter` over the source's first audio stream; whether ffmpeg succeeded, and its log.
async fn analyse(ffmpeg: &Path, url: &str, filter: &str) -> Result<(bool, String), MeasureError> {
    let run = tokio::process::Command::new(ffmpeg)
        .args(["-hide_banner", "-nostdin", "-nostats", "-i", url])
        .args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-af", filter, "-f", "null", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PASS_TIMEOUT, run).await.map_err(|_| MeasureError::TimedOut)??;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// The sample rate of the source's first audio stream, as ffmpeg describes its input
/// (`Stream #0:1(und): Audio: aac (LC), 44100 Hz, stereo, fltp`).
pub(super) fn source_sample_rate(log: &str) -> Option<u64> {
    let inputs = log.split("Output #0").next().unwrap_or(log);
    let line = inputs.lines().find(|l| l.trim_start().starts_with("Stream #0:") && l.contains(": Audio: "))?;
    line.split(", ").find_map(|part| part.trim().strip_suffix(" Hz")?.trim().parse().ok())
}

fn last_line(log: &str) -> String {
    log.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("ffmpeg failed").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_rate_is_its_first_audio_streams() {
        let log = "Input #0, mov,mp4,m4a, from 'x':\n  Stream #0:0[0x1](und): Video: h264, yuv420p, 640x360, 25 fps\n  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)\nOutput #0, null, to 'pipe:':\n  Stream #0:0: Audio: pcm_s16le, 192000 Hz, stereo\n";
        assert_eq!(source_sample_rate(log), Some(44100));
        assert_eq!(source_sample_rate("Stream #0:0: Video: h264\nOutput #0\n  Stream #0:0: Audio: x, 8000 Hz"), None);
    }
}
