//! AssembleCheck: an upload that arrives in `.CHUNK<n>` parts (Plupload and the like) is
//! assembled into `inputs/<dir>/<name>` once every part is in. The part count comes from the
//! user metadata `chunks` on the parts. Assembly is one multipart upload: parts of 5 MiB or more
//! are copied inside S3 (UploadPartCopy), smaller ones are streamed into 5 MiB parts, so memory
//! stays bounded. It is committed with `If-None-Match: *`, so of concurrent runs one assembles;
//! the parts are deleted only after the assembled object's size is checked. The assembled
//! upload starts an execution of its own.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssemblyResult, AssemblyStatus, AssetInput, AssetKind};
use mediaflow_core::keys::SourceKey;
use mediaflow_lambda::{During, Shared, aws_failure, collect, copy_source};

/// S3's smallest part but the last.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("AssembleCheck handles upload parts, not {0:?}")]
    NotAChunk(AssetKind),
    #[error("the assembled s3://{bucket}/{key} is {found} bytes where its parts hold {expected}")]
    Mismatch { bucket: String, key: String, expected: u64, found: u64 },
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::NotAChunk(_) => ErrorName::InvalidInput,
    Error::Mismatch { .. } => ErrorName::OutputMismatch,
});

/// A part as listed.
#[derive(Clone, Debug)]
struct Part {
    index: u32,
    key: String,
    size: u64,
}

pub async fn handler(input: AssetInput, clients: &Clients) -> Result<AssemblyResult, Error> {
    let AssetInput { source, asset } = input;
    let chunk = asset.chunk.ok_or(Error::NotAChunk(asset.kind))?;
    let bucket = source.bucket.as_str();
    let target = chunk.target_key;
    let parts = list_parts(clients, bucket, &target).await?;
    let expected = parts_expected(clients, bucket, &source.key).await?;
    let mut result = AssemblyResult {
        status: AssemblyStatus::Waiting,
        target_key: target.clone(),
        parts_present: parts.len() as u32,
        parts_expected: expected,
    };
    let Some(expected) = expected else { return Ok(result) };
    let complete = parts.len() as u32 == expected && parts.iter().enumerate().all(|(i, p)| p.index == i as u32);
    if !complete {
        return Ok(result);
    }
    let total: u64 = parts.iter().map(|p| p.size).sum();
    result.status = match assemble(clients, bucket, &target, &parts).await? {
        true => AssemblyStatus::Assembled,
        false => AssemblyStatus::AlreadyAssembled,
    };
    let head = clients.s3.head_object().bucket(bucket).key(&target).send().await.during("HeadObject")?;
    let found = head.content_length().unwrap_or_default().max(0) as u64;
    if found != total {
        return Err(Error::Mismatch { bucket: bucket.to_string(), key: target, expected: total, found });
    }
    delete_parts(clients, bucket, &parts).await?;
    Ok(result)
}

/// The `.CHUNK<n>` parts of `target`, by index.
async fn list_parts(clients: &Clients, bucket: &str, target: &str) -> Result<Vec<Part>, Error> {
    let mut parts = Vec::new();
    let mut pages = clients.s3.list_objects_v2().bucket(bucket).prefix(format!("{target}.")).into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page.during("ListObjectsV2")?.contents() {
            let Some(key) = object.key() else { continue };
            let Ok(parsed) = SourceKey::parse(key) else { continue };
            if let Some(part) = parsed.chunk().filter(|p| p.target_key == target) {
                parts.push(Part {
                    index: part.index,
                    key: key.to_string(),
                    size: object.size().unwrap_or_default().max(0) as u64,
                });
            }
        }
    }
    parts.sort_by_key(|p| p.index);
    Ok(parts)
}

/// The part count the uploader wrote into the part's user metadata (`chunks`), if any.
async fn parts_expected(clients: &Clients, bucket: &str, part: &str) -> Result<Option<u32>, Error> {
    match clients.s3.head_object().bucket(bucket).key(part).send().await {
        Ok(head) => Ok(head
            .metadata()
            .and_then(|m| m.get("chunks"))
            .and_then(|c| c.trim().parse().ok())
            .filter(|&n: &u32| n > 0)),
        // The parts are gone: another run assembled them.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
        Err(e) => Err(aws_failure("HeadObject", e).into()),
    }
}

/// Assembles `target` from `parts`; false when another run already had.
async fn assemble(clients: &Clients, bucket: &str, target: &str, parts: &[Part]) -> Result<bool, Error> {
    let s3 = &clients.s3;
    if s3.head_object().bucket(bucket).key(target).send().await.is_ok() {
        return Ok(false);
    }
    let upload =
        s3.create_multipart_upload().bucket(bucket).key(target).send().await.during("CreateMultipartUpload")?;
    let id = upload.upload_id().unwrap_or_default().to_string();
    let result = upload_parts(clients, bucket, target, &id, parts).await;
    let completed = match result {
        Ok(completed) => completed,
        Err(e) => {
            let _ = s3.abort_multipart_upload().bucket(bucket).key(target).upload_id(&id).send().await;
            // Another run may have assembled the upload and deleted the parts meanwhile.
            if s3.head_object().bucket(bucket).key(target).send().await.is_ok() {
                return Ok(false);
            }
            return Err(e);
        }
    };
    let done = s3
        .complete_multipart_upload()
        .bucket(bucket)
        .key(target)
        .upload_id(&id)
        .if_none_match("*")
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
        .send()
        .await;
    match done {
        Ok(_) => Ok(true),
        Err(e) => {
            let failure = aws_failure("CompleteMultipartUpload", e);
            let _ = s3.abort_multipart_upload().bucket(bucket).key(target).upload_id(&id).send().await;
            if failure.lost_condition() { Ok(false) } else { Err(failure.into()) }
        }
    }
}

/// Uploads the parts: pieces of 5 MiB or more are copied inside S3, the rest streamed into a
/// buffer sent whenever it reaches 5 MiB (and at the end).
async fn upload_parts(
    clients: &Clients,
    bucket: &str,
    target: &str,
    id: &str,
    parts: &[Part],
) -> Result<Vec<CompletedPart>, Error> {
    let s3 = &clients.s3;
    let mut completed = Vec::new();
    let mut buffer: Vec<u8> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let mut offset = 0;
        // Fill a started buffer up to 5 MiB from this part first.
        if !buffer.is_empty() {
            let take = (MIN_PART_BYTES - buffer.len() as u64).min(part.size);
            if take > 0 {
                buffer.extend(read_range(clients, bucket, &part.key, 0, take).await?);
                offset = take;
            }
            if buffer.len() as u64 >= MIN_PART_BYTES {
                completed
                    .push(send_buffer(clients, bucket, target, id, completed.len() as i32 + 1, &mut buffer).await?);
            }
        }
        let rest = part.size - offset;
        if rest == 0 {
            continue;
        }
        if buffer.is_empty() && (rest >= MIN_PART_BYTES || last) {
            let number = completed.len() as i32 + 1;
            let copied = s3
                .upload_part_copy()
                .bucket(bucket)
                .key(target)
                .upload_id(id)
                .part_number(number)
                .copy_source(copy_source(bucket, &part.key))
                .copy_source_range(format!("bytes={offset}-{}", part.size - 1))
                .send()
                .await
                .during("UploadPartCopy")?;
            let etag = copied.copy_part_result().and_then(|r| r.e_tag()).unwrap_or_default();
            completed.push(CompletedPart::builder().part_number(number).e_tag(etag).build());
        } else {
            buffer.extend(read_range(clients, bucket, &part.key, offset, rest).await?);
            if buffer.len() as u64 >= MIN_PART_BYTES {
                completed
                    .push(send_buffer(clients, bucket, target, id, completed.len() as i32 + 1, &mut buffer).await?);
            }
        }
    }
    if !buffer.is_empty() {
        completed.push(send_buffer(clients, bucket, target, id, completed.len() as i32 + 1, &mut buffer).await?);
    }
    Ok(completed)
}

async fn read_range(clients: &Clients, bucket: &str, key: &str, start: u64, len: u64) -> Result<Vec<u8>, Error> {
    let got = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes={start}-{}", start + len - 1))
        .send()
        .await
        .during("GetObject")?;
    Ok(collect("GetObject", got.body).await?)
}

async fn send_buffer(
    clients: &Clients,
    bucket: &str,
    target: &str,
    id: &str,
    number: i32,
    buffer: &mut Vec<u8>,
) -> Result<CompletedPart, Error> {
    let body = ByteStream::from(std::mem::take(buffer));
    let sent = clients
        .s3
        .upload_part()
        .bucket(bucket)
        .key(target)
        .upload_id(id)
        .part_number(number)
        .body(body)
        .send()
        .await
        .during("UploadPart")?;
    Ok(CompletedPart::builder().part_number(number).e_tag(sent.e_tag().unwrap_or_default()).build())
}

async fn delete_parts(clients: &Clients, bucket: &str, parts: &[Part]) -> Result<(), Error> {
    let keys: Vec<String> = parts.iter().map(|p| p.key.clone()).collect();
    Ok(mediaflow_lambda::delete_keys(&clients.s3, bucket, &keys).await?)
}
