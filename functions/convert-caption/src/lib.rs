//! ConvertCaption: reads a caption upload, converts it to WebVTT and writes
//! `closed-caption/<dir>/<stem>.vtt` (the language tag stays in the stem). A WebVTT upload that
//! is already valid is stored unchanged.

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetInput, AssetKind, CaptionResult};
use mediaflow_core::keys::SourceKey;
use mediaflow_lambda::{Shared, aws_failure, collect, put_staged};

/// Caption files are small; anything past this is not one.
pub const MAX_CAPTION_BYTES: i64 = 64 * 1024 * 1024;

/// What the handler works with, built once per Lambda instance: S3 and the public bucket.
pub use mediaflow_lambda::DestinationClients as Clients;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Caption(#[from] mediaflow_captions::Error),
    #[error("the upload is not a caption file (kind {0:?})")]
    NotACaption(AssetKind),
    #[error("the caption file is {0} bytes; caption files over {MAX_CAPTION_BYTES} bytes are refused")]
    TooLarge(i64),
    #[error("s3://{bucket}/{key} is gone: {message}")]
    Gone { bucket: String, key: String, message: String },
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::Caption(_) | Error::TooLarge(_) => ErrorName::InvalidCaption,
    Error::NotACaption(_) | Error::Gone { .. } => ErrorName::InvalidInput,
});

pub async fn handler(input: AssetInput, clients: &Clients) -> Result<CaptionResult, Error> {
    let AssetInput { source, asset } = input;
    if asset.kind != AssetKind::Caption {
        return Err(Error::NotACaption(asset.kind));
    }
    let key = SourceKey::parse(&source.key)?;
    let format = match asset.caption_format {
        Some(f) => f,
        None => return Err(Error::NotACaption(asset.kind)),
    };
    let object = clients.s3.get_object().bucket(&source.bucket).key(&source.key).send().await.map_err(|e| {
        if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
            Error::Gone { bucket: source.bucket.clone(), key: source.key.clone(), message: "no such key".into() }
        } else {
            aws_failure("GetObject", e).into()
        }
    })?;
    let length = object.content_length().unwrap_or_default();
    if length > MAX_CAPTION_BYTES {
        return Err(Error::TooLarge(length));
    }
    let bytes = collect("GetObject", object.body).await?;
    let conversion = mediaflow_captions::convert(&bytes, format)?;
    let vtt = conversion.vtt.into_bytes();
    let size = vtt.len() as u64;
    let target = key.caption_key();
    let etag = put_staged(&clients.s3, &source, &target, "text/vtt; charset=utf-8", vtt).await?;
    Ok(CaptionResult {
        bucket: clients.destination_bucket.clone(),
        key: target,
        format,
        language: key.language().map(str::to_string),
        cues: conversion.cues as u32,
        size,
        etag,
    })
}
