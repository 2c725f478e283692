//! SaveMetadata: reads back the size and ETag of every staged output, then writes the metadata
//! document (`json/<dir>/<stem>.json`, checked against its schema first) into the staging
//! folder beside them; the Publish step makes the whole set public.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{MetadataResult, SaveMetadataInput};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::metadata::{self, ObjectStat};
use mediaflow_core::publish::staged_key;
use mediaflow_lambda::{Shared, aws_failure, put_staged};

/// The schema the document must meet, as generated into `schemas/`.
const SCHEMA: &str = include_str!("../../../schemas/MetadataDocument.json");

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema = serde_json::from_str(SCHEMA).expect("schemas/MetadataDocument.json is JSON");
    jsonschema::validator_for(&schema).expect("schemas/MetadataDocument.json is a schema")
});

/// S3 and the public bucket, whose keys the document names.
pub use mediaflow_lambda::DestinationClients as Clients;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the metadata document does not meet its schema: {0}")]
    Schema(String),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::Schema(_) => ErrorName::InvalidInput,
});

pub async fn handler(input: SaveMetadataInput, clients: &Clients) -> Result<MetadataResult, Error> {
    let source = &input.document.source;
    let key = SourceKey::parse(&source.key)?;
    let mut stats = BTreeMap::new();
    for output in metadata::keys_to_read_back(&input) {
        let staged = staged_key(source, &output);
        match clients.s3.head_object().bucket(&source.bucket).key(&staged).send().await {
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
    let etag = put_staged(&clients.s3, source, &target, "application/json", body).await?;
    Ok(MetadataResult { bucket: clients.destination_bucket.clone(), key: target, size, etag })
}
