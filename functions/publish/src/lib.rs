//! Publish: the one step that makes an upload's outputs public. Every other step wrote them to
//! the upload's staging folder in the watch bucket. Under the guard of the upload's name
//! (`.mediaflow/published/<hash>.json`, taken and released with conditional writes), it copies
//! the whole set to the public keys only if no newer upload of the name is published, removes
//! what the set it replaces had that this one does not, records the new set, and empties the
//! staging folder. A superseded upload publishes nothing and succeeds with the reason.
//!
//! Every step is safe to run twice: a repeated or resumed publish of the same execution finds
//! its own guard or its own published set and finishes the work.
//!
//! A long HLS ladder has thousands of segments: their keys come from the ladders' listings in
//! staging, the staging folder is listed once rather than asked about key by key, copies run
//! [`COPIES_AT_ONCE`] at a time and deletes go [`DELETE_BATCH`] to a request.

use std::collections::{HashMap, HashSet};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use futures::{StreamExt, TryStreamExt};
use mediaflow_core::contract::{PublishInput, PublishResult, PublishStatus, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::publish::{
    Decision, Guard, PublishRecord, PublishedSet, SegmentListing, Upload, decide, guard_key, publish_waves, staged_key,
    staging_prefix, unstaged,
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
    #[error("the staged output {0} is missing: the step that wrote it must run again (redrive)")]
    NotStaged(String),
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
            Error::NotStaged(_) => ErrorName::OutputMismatch,
            Error::S3(f) => f.name(),
        }
    }
}

mediaflow_lambda::lambda_error!(Error);

/// How many copies (and deletes) run at once: enough to keep S3 busy, few enough to stay far
/// from its per-prefix request rates.
pub const COPIES_AT_ONCE: usize = 32;
/// DeleteObjects takes at most 1,000 keys.
pub const DELETE_BATCH: usize = 1000;

pub async fn handler(input: PublishInput, clients: &Clients) -> Result<PublishResult, Error> {
    let document = &input.document;
    let source = &document.source;
    let name = SourceKey::parse(&source.key)?;
    let record_key = guard_key(&name, document.asset.kind);
    let listings = read_listings(clients, &input).await?;
    let segments: HashSet<&String> = listings.iter().flat_map(|l| &l.segments).collect();
    let waves = publish_waves(document, &listings);
    let keys: Vec<String> = waves.concat();
    let me = Upload {
        key: source.key.clone(),
        sequencer: source.sequencer.clone(),
        uploaded_at: input.uploaded_at,
        execution_id: input.execution_id.clone(),
    };
    let (record, etag) = load(clients, &source.bucket, &record_key).await?;
    let files = |keys: &[String], segments: &HashSet<&String>| -> (Vec<String>, u32) {
        let (segment_keys, files): (Vec<&String>, Vec<&String>) = keys.iter().partition(|k| segments.contains(k));
        (files.into_iter().cloned().collect(), segment_keys.len() as u32)
    };
    let (published, segment_count) = files(&keys, &segments);
    let stale = match decide(&record, &me, &keys, chrono::Utc::now()) {
        Decision::Busy { holder } => return Err(Error::Busy(holder)),
        Decision::Superseded { by } => {
            // A guard this execution took before a crash would hold others off until it lapsed.
            if record.guard.as_ref().is_some_and(|g| g.execution_id == me.execution_id) {
                let released = PublishRecord { guard: None, ..record.clone() };
                store(clients, &source.bucket, &record_key, &released, etag.as_deref()).await?;
            }
            clean_staging(clients, &input, &keys).await?;
            let reason = format!("superseded by the upload of {} in execution {}", by.key, by.execution_id);
            return Ok(PublishResult {
                status: PublishStatus::Superseded,
                published: vec![],
                segments: 0,
                removed: vec![],
                removed_segments: 0,
                reason: Some(reason),
            });
        }
        Decision::Done => {
            clean_staging(clients, &input, &keys).await?;
            return Ok(PublishResult {
                status: PublishStatus::Published,
                published,
                segments: segment_count,
                removed: vec![],
                removed_segments: 0,
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

    let staged = staged_objects(clients, source).await?;
    for wave in &waves {
        // Owned keys: a future that borrows from the stream's items is not Send for every lifetime.
        futures::stream::iter(wave.iter().cloned())
            .map(|key| {
                let staged = staged.get(&key).cloned().ok_or_else(|| Error::NotStaged(staged_key(source, &key)));
                async move {
                    let staged = staged?;
                    copy::copy_object(clients, &staged, &clients.destination_bucket, &key, None).await?;
                    Ok::<(), Error>(())
                }
            })
            .buffer_unordered(COPIES_AT_ONCE)
            .try_collect::<Vec<()>>()
            .await?;
    }
    let mut removed = stale;
    if record.published.is_none() {
        // Outputs from before any record: renditions of this stem that this set does not make.
        removed.extend(earlier_renditions(clients, &name, &keys).await?);
    }
    delete_all(clients, &clients.destination_bucket, &removed).await?;
    let (files_kept, segments_kept): (Vec<String>, Vec<String>) =
        keys.iter().cloned().partition(|k| !segments.contains(k));
    let set = PublishedSet { upload: me, keys: files_kept, segments: segments_kept };
    let earlier_segments: HashSet<&String> = record.published.iter().flat_map(|p| &p.segments).collect();
    let (removed, removed_segments) = files(&removed, &earlier_segments);
    store(clients, &source.bucket, &record_key, &PublishRecord { published: Some(set), guard: None }, Some(&etag))
        .await?;
    clean_staging(clients, &input, &keys).await?;
    tracing::info!(
        files = published.len(),
        segments = segment_count,
        removed = removed.len(),
        removed_segments,
        "published"
    );
    Ok(PublishResult {
        status: PublishStatus::Published,
        published,
        segments: segment_count,
        removed,
        removed_segments,
        reason: None,
    })
}

/// The segment listings of the document's HLS ladders, as await-mediaconvert staged them.
async fn read_listings(clients: &Clients, input: &PublishInput) -> Result<Vec<SegmentListing>, Error> {
    let bucket = &input.document.source.bucket;
    let mut listings = Vec::new();
    for stream in input.document.renditions.iter().flat_map(|r| &r.streams) {
        let got = match clients.s3.get_object().bucket(bucket).key(&stream.listing).send().await {
            Ok(got) => got,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Err(Error::NotStaged(stream.listing.clone()));
            }
            Err(e) => return Err(aws_failure("GetObject", e).into()),
        };
        let bytes = collect("GetObject", got.body).await?;
        let listing: SegmentListing =
            serde_json::from_slice(&bytes).map_err(|_| Error::BadRecord(stream.listing.clone()))?;
        listings.push(listing);
    }
    Ok(listings)
}

/// Every staged object of the upload by its public key, with the size and ETag its copy is
/// checked against: one listing for the whole folder rather than a HEAD a key.
async fn staged_objects(clients: &Clients, source: &Source) -> Result<HashMap<String, Source>, Error> {
    let mut staged = HashMap::new();
    let mut pages =
        clients.s3.list_objects_v2().bucket(&source.bucket).prefix(staging_prefix(source)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_failure("ListObjectsV2", e))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            if let Some(public) = unstaged(key) {
                let size = object.size().unwrap_or_default().max(0) as u64;
                let etag = object.e_tag().unwrap_or_default();
                staged.insert(public.to_string(), Source::new(&source.bucket, key, size, etag));
            }
        }
    }
    Ok(staged)
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

/// Deletes the staged copies of `keys` and the ladders' listings: after a publish, or when
/// there is nothing to publish.
async fn clean_staging(clients: &Clients, input: &PublishInput, keys: &[String]) -> Result<(), Error> {
    let source = &input.document.source;
    let mut staged: Vec<String> = keys.iter().map(|k| staged_key(source, k)).collect();
    staged.extend(input.document.renditions.iter().flat_map(|r| &r.streams).map(|s| s.listing.clone()));
    delete_all(clients, &source.bucket, &staged).await
}

/// Deletes `keys` of `bucket`, a batch a request; one that is gone already (a repeated run) is
/// no error.
async fn delete_all(clients: &Clients, bucket: &str, keys: &[String]) -> Result<(), Error> {
    futures::stream::iter(keys.chunks(DELETE_BATCH).map(<[String]>::to_vec))
        .map(|batch| async move {
            let objects: Vec<ObjectIdentifier> =
                batch.iter().map(|k| ObjectIdentifier::builder().key(k).build().expect("a key is set")).collect();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().expect("objects are set");
            let done = clients
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws_failure("DeleteObjects", e))?;
            match done.errors().iter().find(|e| e.code() != Some("NoSuchKey")) {
                // A key S3 could not delete is told per key, in a successful answer.
                Some(e) => Err(Error::S3(AwsFailure {
                    operation: "DeleteObjects",
                    message: format!("{}: {}", e.key().unwrap_or_default(), e.message().unwrap_or_default()),
                    name: if e.code() == Some("AccessDenied") {
                        ErrorName::Configuration
                    } else {
                        ErrorName::Transient
                    },
                    code: e.code().map(str::to_string),
                })),
                None => Ok(()),
            }
        })
        .buffer_unordered(4)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}
