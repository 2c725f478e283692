//! Probe: `ffprobe` on a presigned GET URL of the upload, so only the bytes ffprobe asks for
//! cross the network (the container's header, and its index wherever it lies), never the file.

use std::path::PathBuf;
use std::time::Duration;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::ProbeInput;
use mediaflow_core::probe::{FFPROBE_ARGS, Probe, parse_ffprobe};
use mediaflow_lambda::{Shared, presigned_get, run_tool};

/// How long ffprobe may take, and the presigned URL stays valid.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    /// The ffprobe to run (`FFPROBE_PATH`, default `ffprobe` on PATH).
    pub ffprobe: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ffprobe cannot read the upload: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::Unreadable(_) => ErrorName::InvalidMedia,
});

pub async fn handler(input: ProbeInput, clients: &Clients) -> Result<Probe, Error> {
    let source = input.source;
    let url = presigned_get(&clients.s3, &source.bucket, &source.key, PROBE_TIMEOUT).await?;
    let args: Vec<&str> = FFPROBE_ARGS.iter().copied().chain([url.as_str()]).collect();
    let run = run_tool(&clients.ffprobe, &args, PROBE_TIMEOUT).await?;
    if !run.succeeded {
        return Err(Error::Unreadable(run.last_error.unwrap_or_else(|| "no message".into())));
    }
    Ok(parse_ffprobe(&run.stdout)?)
}
