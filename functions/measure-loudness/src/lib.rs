//! MeasureLoudness: the integrated loudness, loudness range and true peak (ITU-R BS.1770 /
//! EBU R 128) of the upload's first audio stream, measured by ffmpeg's `ebur128` filter over a
//! presigned URL. Loudness integrates over the whole programme, so every sample is decoded.

use std::path::PathBuf;
use std::time::Duration;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::MediaInput;
use mediaflow_core::loudness::{Loudness, parse_ebur128_summary};
use mediaflow_lambda::{Shared, presigned_get, redact, run_tool};

/// How long ffmpeg may read, and the presigned URL stays valid: under a 900 s Lambda, with
/// room to report.
pub const MEASURE_TIMEOUT: Duration = Duration::from_secs(840);

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    /// The ffmpeg to run (`FFMPEG_PATH`, default `ffmpeg` on PATH).
    pub ffmpeg: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the upload has no audio stream to measure")]
    NoAudio,
    #[error("no loudness measured: {why}")]
    NotMeasured { why: String, name: ErrorName },
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::NoAudio => ErrorName::InvalidInput,
    Error::NotMeasured { name, .. } => *name,
});

/// The arguments that measure `url`'s first audio stream. The summary is logged at info, so the
/// log level stays there; `framelog=verbose` moves the ten lines a second of running values
/// below it, and `level` tags each line with its level, which tells the errors apart.
pub fn ffmpeg_args(url: &str) -> [&str; 17] {
    [
        "-loglevel",
        "level+info",
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-i",
        url,
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-af",
        "ebur128=peak=true:framelog=verbose",
        "-f",
        "null",
        "-",
    ]
}

pub async fn handler(input: MediaInput, clients: &Clients) -> Result<Loudness, Error> {
    let MediaInput { source, probe, .. } = input;
    if probe.audio.is_empty() {
        return Err(Error::NoAudio);
    }
    let url = presigned_get(&clients.s3, &source.bucket, &source.key, MEASURE_TIMEOUT).await?;
    let run = run_tool(&clients.ffmpeg, &ffmpeg_args(&url), MEASURE_TIMEOUT).await?;
    // ffmpeg names its input in errors: the upload's S3 name instead, secrets blanked either way.
    let named = format!("s3://{}/{}", source.bucket, source.key);
    // (run_tool's lines come redacted: the URL is found as redacted too.)
    let redacted_url = redact(&url);
    let scrub = |line: &str| redact(&line.replace(&redacted_url, &named));
    let summary = parse_ebur128_summary(&run.stderr_tail.join("\n"));
    let logged = read_log(&run.stderr_tail);
    match (run.succeeded, summary, logged.interrupted) {
        (true, Some(loudness), None) => {
            tracing::info!(
                bucket = %source.bucket,
                key = %source.key,
                integrated_lufs = loudness.integrated_lufs,
                range_lu = loudness.range_lu,
                true_peak_dbtp = ?loudness.true_peak_dbtp,
                "measured"
            );
            Ok(loudness)
        }
        (_, _, Some(line)) => Err(Error::NotMeasured {
            why: format!("ffmpeg could not read the whole upload: {}", scrub(&line)),
            name: ErrorName::Transient,
        }),
        // Undecodable audio still gets a summary (of nothing: -70 LUFS), but ffmpeg fails.
        _ => {
            let why = logged.last_error.or(logged.last_warning).unwrap_or_else(|| "ffmpeg logged no error".into());
            Err(Error::NotMeasured { why: scrub(&why), name: ErrorName::InvalidMedia })
        }
    }
}

/// A line's text when ffmpeg logged it at `level` (`error`, …), without the level's tag. The tag
/// opens the line, after the logging component's `[name @ 0x…]` when there is one; elsewhere it
/// is text (a tag's value).
fn at_level(line: &str, level: &str) -> Option<String> {
    let tag = format!("[{level}] ");
    if let Some(text) = line.strip_prefix(&tag) {
        return Some(text.trim().to_string());
    }
    let (component, rest) = line.split_once("] ")?;
    let text = rest.strip_prefix(&tag).filter(|_| component.starts_with('[') && component.contains(" @ "))?;
    Some(format!("{component}] {}", text.trim()))
}

/// An error of ffmpeg's that says the upload was not fully read for a reason a later attempt
/// may not meet: the network or S3, not the file. ffmpeg may still end well and log a summary
/// of what it read, which would be a wrong measurement.
fn interrupted(error: &str) -> bool {
    const MARKS: [&str; 8] = [
        "Server returned 5",
        "Stream ends prematurely",
        "Connection refused",
        "Connection reset",
        "Connection timed out",
        "Network is unreachable",
        "Temporary failure in name resolution",
        "Broken pipe",
    ];
    MARKS.iter().any(|m| error.contains(m))
}

/// What ffmpeg's stderr tail says: its last error and warning, and the first error that says
/// reading broke off.
#[derive(Default)]
struct Logged {
    last_error: Option<String>,
    last_warning: Option<String>,
    interrupted: Option<String>,
}

fn read_log(tail: &[String]) -> Logged {
    let mut logged = Logged::default();
    for line in tail {
        // "Conversion failed!" closes every failure and says nothing of why.
        if let Some(error) = at_level(line, "error").or_else(|| at_level(line, "fatal")) {
            if logged.interrupted.is_none() && interrupted(&error) {
                logged.interrupted = Some(error.clone());
            }
            if error != "Conversion failed!" {
                logged.last_error = Some(error);
            }
        } else if let Some(warning) = at_level(line, "warning") {
            logged.last_warning = Some(warning);
        }
    }
    logged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_from_their_tags() {
        let line = "[aac @ 0x1] [error] channel element 3.2 is not allocated";
        assert_eq!(at_level(line, "error").as_deref(), Some("[aac @ 0x1] channel element 3.2 is not allocated"));
        assert_eq!(at_level("[error] Conversion failed!", "error").as_deref(), Some("Conversion failed!"));
        assert_eq!(at_level("    I:  -70.0 LUFS", "error"), None);
        assert_eq!(at_level("[info]     title : [error] in a tag", "error"), None);
        assert_eq!(at_level("[warning] Output file is empty", "warning").as_deref(), Some("Output file is empty"));
    }

    #[test]
    fn network_failures_are_told_from_bad_media() {
        assert!(interrupted("[http @ 0x1] Stream ends prematurely at 1024, should be 4096"));
        assert!(interrupted("s3://w/a.mp4: Server returned 5XX Server Error reply"));
        assert!(interrupted("[tcp @ 0x1] Connection to tcp://127.0.0.1:9 failed: Connection refused"));
        assert!(!interrupted("Error while decoding stream #0:0: Invalid data found when processing input"));
        assert!(!interrupted("s3://w/a.mp4: Server returned 403 Forbidden (access denied)"));
    }

    #[test]
    fn the_summary_is_not_drowned_by_running_values() {
        let url = "http://127.0.0.1:9/watch/a.mp4?X-Amz-Signature=abc";
        let args = ffmpeg_args(url);
        assert!(args.contains(&"ebur128=peak=true:framelog=verbose"));
        assert!(args.contains(&"level+info") && !args.contains(&"-v"), "the summary is logged at info");
    }
}
