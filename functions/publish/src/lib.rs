//! Publish: the one step that makes an upload's outputs public. Every other step wrote them to
//! the upload's staging folder in the watch bucket. Under the guard of the upload's name
//! (`.mediaflow/published/<hash>.json`, taken and released with conditional writes), it copies
//! the whole set to the public keys only if no newer upload of the name is published, removes
//! what the set it replaces had that this one does not, records the new set, and empties the
//! staging folder. A superseded upload publishes nothing and succeeds with the reason.
//!
//! Every step is safe to run twice: a repeated or resumed publish of the same execution finds
//! its own guard or its own published set and finishes the work. The staging folder is emptied
//! only after the record names the new set, so a run that finds its set published needs nothing
//! from it.
//!
//! A long HLS ladder has thousands of segments: their keys come from the ladders' listings in
//! staging, every staged object is found by one listing of the folder (not a HEAD a key) and
//! checked there before the first copy, copies run [`COPIES_AT_ONCE`] at a time, and deletes go
//! in batches.

use std::collections::{HashMap, HashSet};

use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};
use mediaflow_core::ErrorName;
use mediaflow_core::contract::{PublishInput, PublishResult, PublishStatus, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::publish::{
    Decision, Guard, PublishRecord, PublishedSet, SegmentListing, Upload, decide, guard_key, publish_waves,
    staging_prefix, stale, unstaged,
};
use mediaflow_lambda::{During, Shared, aws_failure, collect, delete_keys};

pub use mediaflow_lambda::CopyClients as Clients;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("another publish of this name ({0}) holds its guard; retrying")]
    Busy(String),
    #[error("another publish of this name changed its record at the same time; retrying")]
    Raced,
    #[error("the publish record {0} is not one mediaflow wrote: delete it, then redrive")]
    BadRecord(String),
    #[error("the segment listing {0} does not read back as await-mediaconvert wrote it: redrive from Transcode")]
    BadListing(String),
    #[error("the staged output {0} is missing: the step that writes it must run again (redrive from it)")]
    NotStaged(String),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    // Step Functions retries these with backoff: the other publish ends in seconds.
    Error::Busy(_) | Error::Raced => ErrorName::Transient,
    Error::BadRecord(_) => ErrorName::InvalidInput,
    Error::BadListing(_) | Error::NotStaged(_) => ErrorName::OutputMismatch,
});

/// How many copies run at once: enough to keep S3 busy, few enough to stay far from its
/// per-prefix request rates.
pub const COPIES_AT_ONCE: usize = 32;

pub async fn handler(input: PublishInput, clients: &Clients) -> Result<PublishResult, Error> {
    let document = &input.document;
    let source = &document.source;
    let name = SourceKey::parse(&source.key)?;
    let record_key = guard_key(&name, document.asset.kind);
    let me = Upload {
        key: source.key.clone(),
        sequencer: source.sequencer.clone(),
        uploaded_at: input.uploaded_at,
        execution_id: input.execution_id.clone(),
    };
    let (record, etag) = load(clients, &source.bucket, &record_key).await?;
    match decide(&record, &me, chrono::Utc::now()) {
        Decision::Busy { holder } => return Err(Error::Busy(holder)),
        Decision::Superseded { by } => {
            // A guard this execution took before a crash would hold others off until it lapsed.
            if record.guard.as_ref().is_some_and(|g| g.execution_id == me.execution_id) {
                let released = PublishRecord { guard: None, ..record.clone() };
                store(clients, &source.bucket, &record_key, &released, etag.as_deref()).await?;
            }
            empty_staging(clients, source).await?;
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
            // Published by an earlier run of this execution, which may have died emptying staging.
            empty_staging(clients, source).await?;
            let set = record.published.as_ref().expect("a set is published when done");
            return Ok(PublishResult {
                status: PublishStatus::Published,
                published: set.keys.clone(),
                segments: set.segments.len() as u32,
                removed: vec![],
                removed_segments: 0,
                reason: None,
            });
        }
        Decision::Publish => {}
    }

    let listings = read_listings(clients, &input).await?;
    let waves = publish_waves(document, &listings)?;
    let keys: Vec<String> = waves.concat();
    let (staged, other) = staging(clients, source).await?;
    // Every staged object is there before the first one goes public: none is missing halfway.
    if let Some(missing) = keys.iter().find(|k| !staged.contains_key(*k)) {
        return Err(Error::NotStaged(mediaflow_core::publish::staged_key(source, missing)));
    }

    // Take the guard: the conditional write fails if another publish changed the record since.
    let guarded = PublishRecord {
        published: record.published.clone(),
        guard: Some(Guard { execution_id: me.execution_id.clone(), since: chrono::Utc::now() }),
    };
    let etag = store(clients, &source.bucket, &record_key, &guarded, etag.as_deref()).await?;

    for wave in &waves {
        // Owned keys: a future that borrows the stream's items is not Send for every lifetime.
        futures::stream::iter(wave.iter().cloned())
            .map(|key| {
                let from = staged.get(&key).cloned().expect("checked above");
                async move { mediaflow_lambda::copy_object(clients, &from, &clients.destination_bucket, &key, None).await }
            })
            .buffer_unordered(COPIES_AT_ONCE)
            .try_collect::<Vec<_>>()
            .await?;
    }
    let earlier: HashSet<&String> = record.published.iter().flat_map(|p| &p.segments).collect();
    let (removed_segments, mut removed): (Vec<String>, Vec<String>) =
        stale(&record, &keys).into_iter().partition(|k| earlier.contains(k));
    if record.published.is_none() {
        // Outputs from before any record: renditions of this stem that this set does not make.
        removed.extend(earlier_renditions(clients, &name, &keys).await?);
    }
    // The files one at a time, in order (a master playlist before the variants it names), and
    // then the segments those named.
    for key in &removed {
        delete_keys(&clients.s3, &clients.destination_bucket, std::slice::from_ref(key)).await?;
    }
    delete_keys(&clients.s3, &clients.destination_bucket, &removed_segments).await?;

    let segments: HashSet<&String> = listings.iter().flat_map(|l| &l.segments).collect();
    let (segment_keys, files): (Vec<String>, Vec<String>) = keys.iter().cloned().partition(|k| segments.contains(k));
    let set = PublishedSet { upload: me, keys: files.clone(), segments: segment_keys };
    let segment_count = set.segments.len() as u32;
    store(clients, &source.bucket, &record_key, &PublishRecord { published: Some(set), guard: None }, Some(&etag))
        .await?;
    // What was listed before the copies is all there is: nothing writes to staging after them.
    delete_staging(clients, &source.bucket, staged, other).await?;
    tracing::info!(
        files = files.len(),
        segments = segment_count,
        removed = removed.len(),
        removed_segments = removed_segments.len(),
        "published"
    );
    Ok(PublishResult {
        status: PublishStatus::Published,
        published: files,
        segments: segment_count,
        removed,
        removed_segments: removed_segments.len() as u32,
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
            serde_json::from_slice(&bytes).map_err(|_| Error::BadListing(stream.listing.clone()))?;
        listings.push(listing);
    }
    Ok(listings)
}

/// Every object in the upload's staging folder: by public key those staged for publishing
/// (with the size and ETag their copies are checked against), and the rest (listings).
async fn staging(clients: &Clients, source: &Source) -> Result<(HashMap<String, Source>, Vec<String>), Error> {
    let mut staged = HashMap::new();
    let mut other = Vec::new();
    let mut pages =
        clients.s3.list_objects_v2().bucket(&source.bucket).prefix(staging_prefix(source)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.during("ListObjectsV2")?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            match unstaged(key) {
                Some(public) if !public.starts_with(mediaflow_core::publish::LISTINGS_FOLDER) => {
                    let size = object.size().unwrap_or_default().max(0) as u64;
                    let etag = object.e_tag().unwrap_or_default();
                    staged.insert(public.to_string(), Source::new(&source.bucket, key, size, etag));
                }
                _ => other.push(key.to_string()),
            }
        }
    }
    Ok((staged, other))
}

/// Deletes everything in the upload's staging folder, the listings last (a run that dies
/// halfway still finds the segments' keys).
async fn empty_staging(clients: &Clients, source: &Source) -> Result<(), Error> {
    let (staged, other) = staging(clients, source).await?;
    delete_staging(clients, &source.bucket, staged, other).await
}

/// Deletes what [`staging`] listed: the staged outputs, then the rest (the listings).
async fn delete_staging(
    clients: &Clients,
    bucket: &str,
    staged: HashMap<String, Source>,
    other: Vec<String>,
) -> Result<(), Error> {
    let staged: Vec<String> = staged.into_values().map(|s| s.key).collect();
    delete_keys(&clients.s3, bucket, &staged).await?;
    delete_keys(&clients.s3, bucket, &other).await?;
    Ok(())
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
        let page = page.during("ListObjectsV2")?;
        existing.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
    }
    Ok(name.stale_renditions(&existing, keys).into_iter().map(str::to_string).collect())
}
