//! Classify: from S3's `Object Created` event, finds the upload (the key as delivered, or
//! URL-decoded), reads its first bytes with one ranged GET, decides what it is, and claims it:
//! `.mediaflow/claims/<hash>.json` in the watch bucket, written with `If-None-Match: *`, holds
//! the execution that owns the upload. A second execution for the same upload finds another
//! owner and ends as a duplicate; a redrive of the same execution finds itself and goes on.

use aws_sdk_s3::primitives::ByteStream;
use mediaflow_core::ErrorName;
use mediaflow_core::classify::{SNIFF_BYTES, classify, classify_past_tag, past_long_tag};
use mediaflow_core::contract::{Asset, AssetKind, AssetName, ClassifyInput, ClassifyOutput, Source};
use mediaflow_core::keys::{SourceKey, claim_key, decode_event_key};
use mediaflow_lambda::{During, Shared, aws_failure, collect};
use serde_json::json;

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("s3://{bucket}/{key} does not exist (deleted since it was uploaded?)")]
    Gone { bucket: String, key: String },
    #[error("the claim {0} is not a claim mediaflow wrote")]
    BadClaim(String),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::Gone { .. } | Error::BadClaim(_) => ErrorName::InvalidInput,
});

pub async fn handler(input: ClassifyInput, clients: &Clients) -> Result<ClassifyOutput, Error> {
    let detail = &input.event.detail;
    let bucket = detail.bucket.name.clone();
    if detail.object.key.ends_with('/') {
        let source = Source {
            bucket,
            key: detail.object.key.clone(),
            size: detail.object.size,
            etag: detail.object.etag.clone(),
            sequencer: detail.object.sequencer.clone(),
            version_id: detail.object.version_id.clone(),
        };
        return Ok(ClassifyOutput { asset: folder_marker(&source.key), source });
    }
    let (key, head) = find(clients, &bucket, &detail.object.key).await?;
    let (found, named) = (head.e_tag().unwrap_or_default().trim_matches('"'), detail.object.etag.trim_matches('"'));
    if !named.is_empty() && found != named {
        // Read now, the key would give the newer upload's bytes under this upload's name.
        let source = Source {
            bucket,
            key: key.clone(),
            size: detail.object.size,
            etag: named.to_string(),
            sequencer: detail.object.sequencer.clone(),
            version_id: detail.object.version_id.clone(),
        };
        let mut asset = classify(&SourceKey::parse(&key)?, &[]);
        asset.kind = AssetKind::Superseded;
        asset.reason =
            Some(format!("superseded: {key} holds a newer upload (ETag {found}) than this event's ({named})"));
        return Ok(ClassifyOutput { source, asset });
    }
    let source = Source {
        bucket: bucket.clone(),
        key: key.clone(),
        size: head.content_length().unwrap_or_default().max(0) as u64,
        etag: head.e_tag().unwrap_or(&detail.object.etag).trim_matches('"').to_string(),
        sequencer: detail.object.sequencer.clone(),
        version_id: head.version_id().map(str::to_string).or_else(|| detail.object.version_id.clone()),
    };
    let parsed = SourceKey::parse(&key)?;
    let first_bytes = if source.size == 0 { Vec::new() } else { read_head(clients, &bucket, &key, 0).await? };
    let mut asset = classify(&parsed, &first_bytes);
    // A tag (album art) longer than the first bytes hides what follows it: read on.
    if let Some(end) = past_long_tag(&first_bytes)
        && (end as u64) < source.size
    {
        let after = read_head(clients, &bucket, &key, end as u64).await?;
        asset = classify_past_tag(&parsed, &first_bytes, &after);
    }
    if asset.kind != AssetKind::Unsupported {
        let owner = claim(clients, &source, &input.execution_id).await?;
        if owner != input.execution_id {
            asset.kind = AssetKind::Duplicate;
            asset.duplicate_of = Some(owner);
        }
    }
    Ok(ClassifyOutput { source, asset })
}

/// The object the event names: its key as delivered, or else URL-decoded (S3 encodes keys in
/// its classic notifications; whether EventBridge's events are encoded is disputed).
async fn find(
    clients: &Clients,
    bucket: &str,
    delivered: &str,
) -> Result<(String, aws_sdk_s3::operation::head_object::HeadObjectOutput), Error> {
    let mut candidates = vec![delivered.to_string()];
    if let Some(decoded) = decode_event_key(delivered).filter(|d| d != delivered) {
        candidates.push(decoded);
    }
    for key in candidates {
        match clients.s3.head_object().bucket(bucket).key(&key).send().await {
            Ok(head) => return Ok((key, head)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => continue,
            Err(e) => return Err(aws_failure("HeadObject", e).into()),
        }
    }
    Err(Error::Gone { bucket: bucket.to_string(), key: delivered.to_string() })
}

/// The first bytes from `offset` on.
async fn read_head(clients: &Clients, bucket: &str, key: &str, offset: u64) -> Result<Vec<u8>, Error> {
    let got = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes={offset}-{}", offset + SNIFF_BYTES as u64 - 1))
        .send()
        .await
        .during("GetObject")?;
    Ok(collect("GetObject", got.body).await?)
}

/// Claims the upload for `execution`; returns the execution that owns it.
async fn claim(clients: &Clients, source: &Source, execution: &str) -> Result<String, Error> {
    let claim = claim_key(&source.bucket, &source.key, &source.etag, source.sequencer.as_deref().unwrap_or_default());
    let body = json!({
        "executionId": execution,
        "bucket": source.bucket,
        "key": source.key,
        "etag": source.etag,
        "sequencer": source.sequencer,
        "claimedAt": chrono::Utc::now().to_rfc3339(),
    });
    let written = clients
        .s3
        .put_object()
        .bucket(&source.bucket)
        .key(&claim)
        .if_none_match("*")
        .content_type("application/json")
        .body(ByteStream::from(body.to_string().into_bytes()))
        .send()
        .await;
    match written {
        Ok(_) => Ok(execution.to_string()),
        Err(e) => {
            let failure = aws_failure("PutObject", e);
            if !failure.lost_condition() {
                return Err(failure.into());
            }
            let existing =
                clients.s3.get_object().bucket(&source.bucket).key(&claim).send().await.during("GetObject")?;
            let bytes =
                existing.body.collect().await.map_err(|e| Error::BadClaim(format!("{claim}: {e}")))?.into_bytes();
            let owner: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|_| Error::BadClaim(claim.clone()))?;
            owner["executionId"].as_str().map(str::to_string).ok_or(Error::BadClaim(claim))
        }
    }
}

/// The S3 console's "Create folder" writes a `name/` object: nothing to process.
fn folder_marker(key: &str) -> Asset {
    Asset {
        kind: AssetKind::Unsupported,
        name: AssetName {
            dir: key.trim_start_matches(mediaflow_core::keys::INPUTS_PREFIX).trim_end_matches('/').to_string(),
            name: String::new(),
            stem: String::new(),
            extension: String::new(),
            language: None,
        },
        container: None,
        caption_format: None,
        chunk: None,
        reason: Some("a folder, not a file".into()),
        duplicate_of: None,
    }
}
