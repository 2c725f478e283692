//! Server-side copies, verified: the copy functions stage the upload with them, and Publish
//! makes each staged output public with them. No byte passes through the function; objects
//! above 5 GiB (CopyObject's limit) are copied in parts with UploadPartCopy.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, MetadataDirective};
use mediaflow_core::contract::StoredObject;
use mediaflow_core::{ErrorName, Named};

use crate::failure::{AwsFailure, During, aws_failure};
use crate::s3::copy_source;

/// CopyObject copies at most 5 GiB.
pub const SINGLE_COPY_LIMIT: u64 = 5 * 1024 * 1024 * 1024;
/// Part size for larger copies (S3 allows 10,000 parts: 5 TiB at this size).
pub const PART_BYTES: u64 = 512 * 1024 * 1024;

/// What a function that copies objects holds: the client, the public bucket, and the sizes
/// copies are made at.
pub struct CopyClients {
    pub s3: aws_sdk_s3::Client,
    pub destination_bucket: String,
    /// Above this size, copy in parts ([`SINGLE_COPY_LIMIT`] but in tests).
    pub single_copy_limit: u64,
    pub part_bytes: u64,
}

impl CopyClients {
    /// The clients from the function's environment.
    pub async fn from_env() -> Result<CopyClients, String> {
        Ok(CopyClients {
            s3: crate::s3::s3_from_env().await,
            destination_bucket: crate::runtime::setting("DESTINATION_BUCKET")?,
            single_copy_limit: SINGLE_COPY_LIMIT,
            part_bytes: PART_BYTES,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the copy s3://{bucket}/{key} is {found} where the upload is {expected}")]
    Mismatch { bucket: String, key: String, expected: String, found: String },
    #[error(transparent)]
    Aws(#[from] AwsFailure),
}

impl Named for CopyError {
    fn name(&self) -> ErrorName {
        match self {
            CopyError::Mismatch { .. } => ErrorName::OutputMismatch,
            CopyError::Aws(e) => e.name(),
        }
    }
}

/// Copies the object `source` to `bucket`/`target`, keeping its Content-Type unless
/// `content_type` is given, and checks the copy by size and (where comparable) ETag. The
/// Publish step copies each staged output to its public key the same way.
pub async fn copy_object(
    clients: &CopyClients,
    source: &mediaflow_core::contract::Source,
    bucket: &str,
    target: &str,
    content_type: Option<&str>,
) -> Result<StoredObject, CopyError> {
    let from = copy_source(&source.bucket, &source.key);
    if source.size <= clients.single_copy_limit {
        let mut request = clients.s3.copy_object().bucket(bucket).key(target).copy_source(&from);
        if let Some(t) = content_type {
            request = request.metadata_directive(MetadataDirective::Replace).content_type(t);
        }
        request.send().await.during("CopyObject")?;
    } else {
        let of = (source.bucket.as_str(), source.key.as_str());
        copy_in_parts(clients, of, bucket, source.size, &from, target, content_type).await?;
    }
    let head = clients.s3.head_object().bucket(bucket).key(target).send().await.during("HeadObject")?;
    let size = head.content_length().unwrap_or_default().max(0) as u64;
    let etag = head.e_tag().unwrap_or_default().trim_matches('"').to_string();
    tracing::info!(bucket, key = target, bytes = size, from = %from, "copied");
    let mismatch = |expected: String, found: String| CopyError::Mismatch {
        bucket: bucket.to_string(),
        key: target.to_string(),
        expected,
        found,
    };
    if size != source.size {
        return Err(mismatch(format!("{} bytes", source.size), format!("{size} bytes")));
    }
    // A single-part upload's ETag is its MD5, and a copy in one piece keeps it. A multipart
    // ETag (`…-N`) depends on the part sizes, so there the size has to do.
    let comparable = !source.etag.contains('-') && source.size <= clients.single_copy_limit;
    if comparable && etag != source.etag {
        return Err(mismatch(format!("ETag {}", source.etag), format!("ETag {etag}")));
    }
    Ok(StoredObject { bucket: bucket.to_string(), key: target.to_string(), size, etag })
}

async fn copy_in_parts(
    clients: &CopyClients,
    source: (&str, &str),
    bucket: &str,
    size: u64,
    from: &str,
    target: &str,
    content_type: Option<&str>,
) -> Result<(), CopyError> {
    // CopyObject keeps the source's Content-Type; a multipart upload starts without one.
    let kept = match content_type {
        Some(t) => Some(t.to_string()),
        None => {
            let (source_bucket, source_key) = source;
            let head =
                clients.s3.head_object().bucket(source_bucket).key(source_key).send().await.during("HeadObject")?;
            head.content_type().map(str::to_string)
        }
    };
    let create = clients.s3.create_multipart_upload().bucket(bucket).key(target).set_content_type(kept);
    let upload = create.send().await.during("CreateMultipartUpload")?;
    let id = upload.upload_id().unwrap_or_default().to_string();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut number = 1;
    while start < size {
        let end = (start + clients.part_bytes).min(size) - 1;
        let part = clients
            .s3
            .upload_part_copy()
            .bucket(bucket)
            .key(target)
            .upload_id(&id)
            .part_number(number)
            .copy_source(from)
            .copy_source_range(format!("bytes={start}-{end}"))
            .send()
            .await;
        let part = match part {
            Ok(p) => p,
            Err(e) => {
                let _ = clients.s3.abort_multipart_upload().bucket(bucket).key(target).upload_id(&id).send().await;
                return Err(aws_failure("UploadPartCopy", e).into());
            }
        };
        let etag = part.copy_part_result().and_then(|r| r.e_tag()).unwrap_or_default();
        parts.push(CompletedPart::builder().part_number(number).e_tag(etag).build());
        start = end + 1;
        number += 1;
    }
    clients
        .s3
        .complete_multipart_upload()
        .bucket(bucket)
        .key(target)
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .during("CompleteMultipartUpload")?;
    Ok(())
}
