//! SaveFrame: one JPG frame, `thumbnail/<dir>/<stem>.jpg`, taken by ffmpeg from a presigned URL,
//! 7 s in by default (halfway for shorter media), turned as the player turns it, no larger than
//! the source or 1080p. Every upload whose picture decodes gets its frame, in up to three tries:
//! 1. an input seek (`-ss` before `-i`): ffmpeg seeks by range instead of reading up to the
//!    frame, so the common case reads little;
//! 2. where that lands on nothing that decodes (a long GOP in a file without an index, an
//!    MPEG-TS whose timestamps start late), a decoding seek: read from the start, decode up to
//!    the time;
//! 3. where no frame is there at all (a one-frame video), the last frame before the time.

use std::path::PathBuf;
use std::time::Duration;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{MediaInput, Thumbnail};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::thumbnail::{frame_size, frame_time};
use mediaflow_lambda::{Shared, ToolError, presigned_get, put_staged, run_tool};

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
    #[error("the upload has no picture to take a frame of")]
    NoPicture,
    #[error("ffmpeg took no frame at {at} s: {why}")]
    NoFrame { at: f64, why: String },
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::NoPicture | Error::NoFrame { .. } => ErrorName::FrameFailed,
});

/// How a try finds the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seek {
    Input,
    Decoding,
    LastBefore,
}

/// One try: the JPEG, or why ffmpeg gave none.
async fn frame(
    clients: &Clients,
    seek: Seek,
    url: &str,
    at: &str,
    scale: &str,
) -> Result<Result<Vec<u8>, String>, Error> {
    let quiet = ["-v", "error", "-nostdin", "-y"];
    let jpeg = ["-q:v", "2", "-vf", scale];
    let piped = ["-f", "mjpeg", "pipe:1"];
    let last = match seek {
        Seek::LastBefore => Some(tempfile::Builder::new().suffix(".jpg").tempfile().map_err(|e| {
            ToolError::Missing { tool: "a temporary file for the frame".into(), message: e.to_string() }
        })?),
        _ => None,
    };
    let last_path = last.as_ref().map(|f| f.path().to_string_lossy().into_owned()).unwrap_or_default();
    let args: Vec<&str> = match seek {
        Seek::Input => [&quiet[..], &["-ss", at, "-i", url, "-frames:v", "1"], &jpeg, &piped].concat(),
        Seek::Decoding => [&quiet[..], &["-i", url, "-ss", at, "-frames:v", "1"], &jpeg, &piped].concat(),
        // Every frame up to the time, each written over the one before: the last one stays.
        Seek::LastBefore => [&quiet[..], &["-i", url, "-t", at, "-update", "1"], &jpeg, &[last_path.as_str()]].concat(),
    };
    let run = run_tool(&clients.ffmpeg, &args, FRAME_TIMEOUT).await?;
    let image = match &last {
        Some(file) => std::fs::read(file.path()).unwrap_or_default(),
        None => run.stdout,
    };
    // ffmpeg exits 0 and writes nothing when the seek passes the end: check for a JPEG.
    if run.succeeded && image.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(Ok(image))
    } else {
        Ok(Err(run.last_error.unwrap_or_else(|| "no image written".into())))
    }
}

pub async fn handler(input: MediaInput, clients: &Clients) -> Result<Thumbnail, Error> {
    let MediaInput { source, probe, .. } = input;
    let key = SourceKey::parse(&source.key)?;
    let (display_width, display_height) = probe.display_size().ok_or(Error::NoPicture)?;
    let at = frame_time(probe.duration_seconds, clients.frame_seconds);
    let (width, height) = frame_size(display_width, display_height);
    let url = presigned_get(&clients.s3, &source.bucket, &source.key, FRAME_TIMEOUT).await?;
    let (at_arg, scale) = (format!("{at:.3}"), format!("scale={width}:{height}"));
    let mut tried = Vec::new();
    let mut jpeg = None;
    for seek in [Seek::Input, Seek::Decoding, Seek::LastBefore] {
        match frame(clients, seek, &url, &at_arg, &scale).await? {
            Ok(image) => {
                jpeg = Some(image);
                break;
            }
            Err(why) => tried.push(format!("{seek:?}: {why}")),
        }
    }
    let jpeg = jpeg.ok_or_else(|| Error::NoFrame { at, why: tried.join("; ") })?;
    let size = jpeg.len() as u64;
    let target = key.thumbnail_key();
    let etag = put_staged(&clients.s3, &source, &target, "image/jpeg", jpeg).await?;
    Ok(Thumbnail { bucket: clients.destination_bucket.clone(), key: target, width, height, at_seconds: at, size, etag })
}
