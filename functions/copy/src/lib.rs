//! Server-side copies of the upload, byte for byte, verified by size and ETag:
//! - CopyMp3 delivers an MP3 unchanged to `audiovideo/<dir>/<stem>.mp3` (`audio/mpeg`);
//! - ArchiveOriginal keeps the upload as `original/<dir>/<name>`.
//!
//! Each is written to the upload's staging folder in the watch bucket (by `mediaflow_lambda`'s
//! verified server-side copy), and named by its public key in the destination bucket, where the
//! Publish step copies it.

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetInput, AssetKind, OutputFile, Renditions, StoredObject};
use mediaflow_core::keys::SourceKey;
use mediaflow_lambda::{Shared, copy_object};

pub use mediaflow_lambda::CopyClients as Clients;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("CopyMp3 copies MP3 uploads, not {0:?}")]
    NotMp3(AssetKind),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::NotMp3(_) => ErrorName::InvalidInput,
});

/// CopyMp3.
pub async fn copy_mp3(input: AssetInput, clients: &Clients) -> Result<Renditions, Error> {
    if input.asset.kind != AssetKind::Mp3 {
        return Err(Error::NotMp3(input.asset.kind));
    }
    let target = SourceKey::parse(&input.source.key)?.mp3_key();
    let copied = copy(clients, &input, &target, Some("audio/mpeg")).await?;
    Ok(Renditions {
        bucket: copied.bucket,
        job_id: None,
        outputs: vec![OutputFile { key: copied.key, label: None, width: None, height: None, duration_ms: None }],
        streams: Vec::new(),
    })
}

/// ArchiveOriginal.
pub async fn archive_original(input: AssetInput, clients: &Clients) -> Result<StoredObject, Error> {
    let target = SourceKey::parse(&input.source.key)?.original_key();
    copy(clients, &input, &target, None).await
}

/// Copies the upload into its staging folder, for the public key `target` of the destination
/// bucket, keeping its Content-Type unless `content_type` is given, and checks the copy.
async fn copy(
    clients: &Clients,
    input: &AssetInput,
    target: &str,
    content_type: Option<&str>,
) -> Result<StoredObject, Error> {
    let source = &input.source;
    let staged = mediaflow_core::publish::staged_key(source, target);
    copy_object(clients, source, &source.bucket, &staged, content_type).await?;
    Ok(StoredObject {
        bucket: clients.destination_bucket.clone(),
        key: target.to_string(),
        size: source.size,
        etag: source.etag.clone(),
    })
}
