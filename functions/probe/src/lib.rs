//! Probe: `ffprobe` on a presigned GET URL of the upload, so only the bytes ffprobe asks for
//! cross the network (the container's header, and its index wherever it lies), never the file.

use std::path::PathBuf;
use std::time::Duration;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::ProbeInput;
use mediaflow_core::probe::{FFPROBE_ARGS, Probe, parse_ffprobe};
use mediaflow_lambda::{presigned_get, redact};

/// How long ffprobe may take, and the presigned URL stays valid.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    /// The ffprobe to run (`FFPROBE_PATH`, default `ffprobe` on PATH).
    pub ffprobe: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Media(#[from] mediaflow_core::Error),
    #[error("ffprobe cannot read the upload: {0}")]
    Unreadable(String),
    #[error("ffprobe took longer than {} s", PROBE_TIMEOUT.as_secs())]
    Timeout,
    #[error("cannot run {path}: {message}")]
    Ffprobe { path: String, message: String },
    #[error("presigning a GET of the upload: {0}")]
    Presign(String),
}

impl Error {
    pub fn name(&self) -> ErrorName {
        match self {
            Error::Media(e) => e.name(),
            Error::Unreadable(_) => ErrorName::InvalidMedia,
            Error::Timeout => ErrorName::Transient,
            Error::Ffprobe { .. } | Error::Presign(_) => ErrorName::Configuration,
        }
    }
}

mediaflow_lambda::lambda_error!(Error);

pub async fn handler(input: ProbeInput, clients: &Clients) -> Result<Probe, Error> {
    let source = input.source;
    let url = presigned_get(&clients.s3, &source.bucket, &source.key, PROBE_TIMEOUT).await.map_err(Error::Presign)?;
    let run = tokio::process::Command::new(&clients.ffprobe).args(FFPROBE_ARGS).arg(&url).kill_on_drop(true).output();
    let output = tokio::time::timeout(PROBE_TIMEOUT, run)
        .await
        .map_err(|_| Error::Timeout)?
        .map_err(|e| Error::Ffprobe { path: clients.ffprobe.display().to_string(), message: e.to_string() })?;
    if !output.status.success() {
        let stderr = redact(&String::from_utf8_lossy(&output.stderr));
        let why = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("no message").trim().to_string();
        return Err(Error::Unreadable(why));
    }
    Ok(parse_ffprobe(&output.stdout)?)
}
