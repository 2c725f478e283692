//! SaveFrame: one JPG frame, `thumbnail/<dir>/<stem>.jpg`, taken by ffmpeg from a presigned URL
//! (`-ss` before `-i`, so ffmpeg seeks by range instead of reading up to the frame). 7 s in by
//! default, halfway for shorter media; turned as the player turns it; no larger than the source
//! or 1080p.

use std::path::PathBuf;
use std::time::Duration;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{MediaInput, Thumbnail};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::thumbnail::{frame_size, frame_time};
use mediaflow_lambda::{AwsFailure, ToolError, presigned_get, put_staged, run_tool};

pub const FRAME_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub destination_bucket: String,
    /// The ffmpeg to run (`FFMPEG_PATH`, default `ffmpeg` on PATH).
    pub ffmpeg: PathBuf,
    /// Seconds into the media (`FRAME_SECONDS`, default 7).
    pub frame_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Key(#[from] mediaflow_core::Error),
    #[error("the upload has no picture to take a frame of")]
    NoPicture,
    #[error("ffmpeg took no frame at {at} s: {why}")]
    NoFrame { at: f64, why: String },
    #[error("{0}")]
    Tool(#[from] ToolError),
    #[error("S3 {0}")]
    S3(#[from] AwsFailure),
}

impl Error {
    pub fn name(&self) -> ErrorName {
        match self {
            Error::Key(e) => e.name(),
            Error::NoPicture | Error::NoFrame { .. } => ErrorName::FrameFailed,
            Error::Tool(e) => e.name(),
            Error::S3(f) => f.name,
        }
    }
}

mediaflow_lambda::lambda_error!(Error);

pub async fn handler(input: MediaInput, clients: &Clients) -> Result<Thumbnail, Error> {
    let MediaInput { source, probe, .. } = input;
    let key = SourceKey::parse(&source.key)?;
    let (display_width, display_height) = probe.display_size().ok_or(Error::NoPicture)?;
    let at = frame_time(probe.duration_seconds, clients.frame_seconds);
    let (width, height) = frame_size(display_width, display_height);
    let url = presigned_get(&clients.s3, &source.bucket, &source.key, FRAME_TIMEOUT).await?;
    let at_arg = format!("{at:.3}");
    let scale = format!("scale={width}:{height}");
    let args = ["-v", "error", "-nostdin", "-ss", &at_arg, "-i", &url, "-frames:v", "1", "-vf", &scale];
    let run = run_tool(&clients.ffmpeg, &[&args[..], &["-q:v", "2", "-f", "mjpeg", "pipe:1"]].concat(), FRAME_TIMEOUT)
        .await?;
    let jpeg = run.stdout;
    // ffmpeg exits 0 and writes nothing when the seek passes the end: check for a JPEG.
    if !run.succeeded || !jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(Error::NoFrame { at, why: run.last_error.unwrap_or_else(|| "no image written".into()) });
    }
    let size = jpeg.len() as u64;
    let target = key.thumbnail_key();
    let etag = put_staged(&clients.s3, &source, &target, "image/jpeg", jpeg).await?;
    Ok(Thumbnail { bucket: clients.destination_bucket.clone(), key: target, width, height, at_seconds: at, size, etag })
}
