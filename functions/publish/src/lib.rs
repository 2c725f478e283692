//! Publish: the one step that makes an upload's outputs public. Every other step wrote them to
//! the upload's staging folder in the watch bucket. Under the guard of the upload's name
//! (`.mediaflow/published/<hash>.json`, taken and released with conditional writes), it copies
//! the whole set to the public keys only if no newer upload of the name is published, removes
//! what the set it replaces had that this one does not, records the new set, and empties the
//! staging folder. A superseded upload publishes nothing and succeeds with the reason.
//!
//! Every step is safe to run twice: a repeated or resumed publish of the same execution finds
//! its own guard or its own published set and finishes the work.

use aws_sdk_s3::primitives::ByteStream;
use mediaflow_core::contract::{PublishInput, PublishResult, PublishStatus, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::publish::{
    Decision, Guard, PublishRecord, PublishedSet, Upload, decide, guard_key, public_keys, staged_key,
};
use mediaflow_core::{ErrorName, Named};
use mediaflow_lambda::{AwsFailure, aws_failure, collect};

pub use copy::Clients;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Core(#[from] mediaflow_core::Error),
    #[error("{0}")]
    Copy(#[from] copy::Error),
    #[error("another publish of this name ({0}) holds its guard; retrying")]
    Busy(String),
    #[error("another publish of this name changed its record at the same time; retrying")]
    Raced,
    #[error("the publish record {0} is not one mediaflow wrote: delete it, then redrive")]
    BadRecord(String),
    #[error("S3 {0}")]
    S3(#[from] AwsFailure),
}

impl Named for Error {
    fn name(&self) -> ErrorName {
        match self {
            Error::Core(e) => e.name(),
            Error::Copy(e) => e.name(),
            // Step Functions retries these with backoff: the other publish ends in seconds.
            Error::Busy(_) | Error::Raced => ErrorName::Transient,
            Error::BadRecord(_) => ErrorName::InvalidInput,
            Error::S3(f) => f.name(),
        }
    }
}

mediaflow_lambda::lambda_error!(Error);

pub async fn handler(input: PublishInput, clients: &Clients) -> Result<PublishResult, Error> {
    let document = &input.document;
    let source = &document.source;
    let name = SourceKey::parse(&source.key)?;
    let record_key = guard_key(&name, document.asset.kind);
    let keys = public_keys(document);
    let me = Upload {
        key: source.key.clone(),
        sequencer: source.sequencer.clone(),
        uploaded_at: input.uploaded_at,
        execution_id: input.execution_id.clone(),
    };
    let (record, etag) = load(clients, &source.bucket, &record_key).await?;
    let stale = match decide(&record, &me, &keys, chrono::Utc::now()) {
        Decision::Busy { holder } => return Err(Error::Busy(holder)),
        Decision::Superseded { by } => {
            // A guard this execution took before a crash would hold others off until it lapsed.
            if record.guard.as_ref().is_some_and(|g| g.execution_id == me.execution_id) {
                let released = PublishRecord { guard: None, ..record.clone() };
                store(clients, &source.bucket, &record_key, &released, etag.as_deref()).await?;
            }
            clean_staging(clients, source, &keys).await?;
            let reason = format!("superseded by the upload of {} in execution {}", by.key, by.execution_id);
            return Ok(PublishResult {
                status: PublishStatus::Superseded,
                published: vec![],
                removed: vec![],
                reason: Some(reason),
            });
        }
        Decision::Done => {
            clean_staging(clients, source, &keys).await?;
            return Ok(PublishResult {
                status: PublishStatus::Published,
                published: keys,
                removed: vec![],
                reason: None,
            });
        }
        Decision::Publish { stale } => stale,
    };

    // Take the guard: the conditional write fails if another publish changed the record since.
    let guarded = PublishRecord {
        published: record.published.clone(),
        guard: Some(Guard { execution_id: me.execution_id.clone(), since: chrono::Utc::now() }),
    };
    let etag = store(clients, &source.bucket, &record_key, &guarded, etag.as_deref()).await?;

    for key in &keys {
        let staged = staged_object(clients, source, key).await?;
        copy::copy_object(clients, &staged, &clients.destination_bucket, key, None).await?;
    }
    let mut removed = stale;
    if record.published.is_none() {
        // Outputs from before any record: renditions of this stem that this set does not make.
        removed.extend(earlier_renditions(clients, &name, &keys).await?);
    }
    for key in &removed {
        delete(clients, &clients.destination_bucket, key).await?;
    }
    let published = PublishRecord { published: Some(PublishedSet { upload: me, keys: keys.clone() }), guard: None };
    store(clients, &source.bucket, &record_key, &published, Some(&etag)).await?;
    clean_staging(clients, source, &keys).await?;
    Ok(PublishResult { status: PublishStatus::Published, published: keys, removed, reason: None })
}

/// The staged object of the public `key`, with the size and ETag its copy is checked against.
async fn staged_object(clients: &Clients, source: &Source, key: &str) -> Result<Source, Error> {
    let staged = staged_key(source, key);
    let head = clients
        .s3
        .head_object()
        .bucket(&source.bucket)
        .key(&staged)
        .send()
        .await
        .map_err(|e| aws_failure("HeadObject", e))?;
    let size = head.content_length().unwrap_or_default().max(0) as u64;
    Ok(Source::new(&source.bucket, staged, size, head.e_tag().unwrap_or_default()))
}

/// The record and its ETag; an empty record when there is none yet.
async fn load(clients: &Clients, bucket: &str, key: &str) -> Result<(PublishRecord, Option<String>), Error> {
    let got = match clients.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(got) => got,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
            return Ok((PublishRecord::default(), None));
        }
        Err(e) => return Err(aws_failure("GetObject", e).into()),
    };
    let etag = got.e_tag().map(str::to_string);
    let bytes = collect("GetObject", got.body).await?;
    let record = serde_json::from_slice(&bytes).map_err(|_| Error::BadRecord(key.to_string()))?;
    Ok((record, etag))
}

/// Writes the record if it is still the version `expected` (`None`: if there is none yet);
/// returns the new version's ETag.
async fn store(
    clients: &Clients,
    bucket: &str,
    key: &str,
    record: &PublishRecord,
    expected: Option<&str>,
) -> Result<String, Error> {
    let body = serde_json::to_vec_pretty(record).expect("records serialise");
    let mut put = clients.s3.put_object().bucket(bucket).key(key).content_type("application/json");
    put = match expected {
        Some(etag) => put.if_match(etag),
        None => put.if_none_match("*"),
    };
    match put.body(ByteStream::from(body)).send().await {
        Ok(written) => Ok(written.e_tag().unwrap_or_default().to_string()),
        Err(e) => {
            let failure = aws_failure("PutObject", e);
            if failure.lost_condition() { Err(Error::Raced) } else { Err(failure.into()) }
        }
    }
}

/// Renditions (`<stem>_<n>p.mp4`) of this name in the public bucket that `keys` does not hold.
async fn earlier_renditions(clients: &Clients, name: &SourceKey, keys: &[String]) -> Result<Vec<String>, Error> {
    let prefix = format!("{}_", name.rendition_base());
    let mut existing = Vec::new();
    let mut pages =
        clients.s3.list_objects_v2().bucket(&clients.destination_bucket).prefix(&prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_failure("ListObjectsV2", e))?;
        existing.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
    }
    Ok(name.stale_renditions(&existing, keys).into_iter().map(str::to_string).collect())
}

/// Deletes the staged copies of `keys`: after a publish, or when there is nothing to publish.
async fn clean_staging(clients: &Clients, source: &Source, keys: &[String]) -> Result<(), Error> {
    for key in keys {
        delete(clients, &source.bucket, &staged_key(source, key)).await?;
    }
    Ok(())
}

/// Deletes `bucket`/`key`; one that is gone already (a repeated run) is no error.
async fn delete(clients: &Clients, bucket: &str, key: &str) -> Result<(), Error> {
    match clients.s3.delete_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let failure = aws_failure("DeleteObject", e);
            if failure.code.as_deref() == Some("NoSuchKey") { Ok(()) } else { Err(failure.into()) }
        }
    }
}
