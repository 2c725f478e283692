//! SaveMetadata: reads back the size and ETag of every output, writes the metadata document
//! (`json/<dir>/<stem>.json`, checked against its schema first), then removes the renditions an
//! earlier upload with the same dir and stem left that this run did not make.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{MetadataResult, SaveMetadataInput};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::metadata::{self, ObjectStat};
use mediaflow_lambda::{AwsFailure, aws_failure, put};

/// The schema the document must meet, as generated into `schemas/`.
const SCHEMA: &str = include_str!("../../../schemas/MetadataDocument.json");

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema = serde_json::from_str(SCHEMA).expect("schemas/MetadataDocument.json is JSON");
    jsonschema::validator_for(&schema).expect("schemas/MetadataDocument.json is a schema")
});

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub destination_bucket: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Core(#[from] mediaflow_core::Error),
    #[error("the metadata document does not meet its schema: {0}")]
    Schema(String),
    #[error("S3 {0}")]
    S3(#[from] AwsFailure),
}

impl Error {
    pub fn name(&self) -> ErrorName {
        match self {
            Error::Core(e) => e.name(),
            Error::Schema(_) => ErrorName::InvalidInput,
            Error::S3(f) => f.name,
        }
    }
}

mediaflow_lambda::lambda_error!(Error);

pub async fn handler(input: SaveMetadataInput, clients: &Clients) -> Result<MetadataResult, Error> {
    let key = SourceKey::parse(&input.document.source.key)?;
    let output_bucket =
        input.document.renditions.as_ref().map_or(clients.destination_bucket.as_str(), |r| r.bucket.as_str());
    let mut stats = BTreeMap::new();
    for output in metadata::keys_to_read_back(&input) {
        match clients.s3.head_object().bucket(output_bucket).key(&output).send().await {
            Ok(head) => {
                let size = head.content_length().unwrap_or_default().max(0) as u64;
                let etag = head.e_tag().unwrap_or_default().trim_matches('"').to_string();
                stats.insert(output, ObjectStat { size, etag });
            }
            // Not there: the document names it missing (MediaFlow.OutputMismatch).
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
            Err(e) => return Err(aws_failure("HeadObject", e).into()),
        }
    }
    let document = metadata::build(&input, &stats, chrono::Utc::now())?;
    let json = serde_json::to_value(&document).expect("the document serialises");
    let problems: Vec<String> = VALIDATOR.iter_errors(&json).map(|e| format!("{e} at {}", e.instance_path())).collect();
    if !problems.is_empty() {
        return Err(Error::Schema(problems.join("; ")));
    }
    let body = serde_json::to_vec_pretty(&json).expect("JSON serialises");
    let size = body.len() as u64;
    let target = key.metadata_key();
    let etag = put(&clients.s3, &clients.destination_bucket, &target, "application/json", body).await?;
    let removed = remove_stale(clients, &key, &stats.into_keys().collect::<Vec<_>>()).await?;
    Ok(MetadataResult { bucket: clients.destination_bucket.clone(), key: target, size, etag, removed })
}

/// Deletes `audiovideo/<dir>/<stem>_<n>p.mp4` renditions that this run did not make.
async fn remove_stale(clients: &Clients, key: &SourceKey, made: &[String]) -> Result<Vec<String>, Error> {
    let prefix = format!("{}_", key.rendition_base());
    let mut existing = Vec::new();
    let mut pages =
        clients.s3.list_objects_v2().bucket(&clients.destination_bucket).prefix(&prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_failure("ListObjectsV2", e))?;
        existing.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
    }
    let stale: Vec<String> = key.stale_renditions(&existing, made).into_iter().map(str::to_string).collect();
    for old in &stale {
        clients
            .s3
            .delete_object()
            .bucket(&clients.destination_bucket)
            .key(old)
            .send()
            .await
            .map_err(|e| aws_failure("DeleteObject", e))?;
    }
    Ok(stale)
}
