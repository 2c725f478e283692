//! S3 as every function uses it: the client from the environment, whole reads and writes,
//! staged outputs, presigned reads for tools, copy sources and deletes in batches.

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use mediaflow_core::ErrorName;

use crate::failure::{AwsFailure, During, key_failure};
use crate::redact::redact;

/// An S3 client from the environment. `S3_FORCE_PATH_STYLE=true` selects path-style requests,
/// which S3-compatible endpoints without per-bucket host names need.
pub async fn s3_from_env() -> aws_sdk_s3::Client {
    let config = aws_config::load_from_env().await;
    let path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true");
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).build())
}

/// The whole body of a GET, or a transient failure (the connection broke mid-way).
pub async fn collect(operation: &'static str, body: ByteStream) -> Result<Vec<u8>, AwsFailure> {
    match body.collect().await {
        Ok(bytes) => Ok(bytes.into_bytes().to_vec()),
        Err(e) => Err(AwsFailure { operation, message: e.to_string(), name: ErrorName::Transient, code: None }),
    }
}

/// Writes `body` as `bucket`/`key` with `content_type`; returns the ETag, unquoted.
pub async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<String, AwsFailure> {
    let bytes = body.len();
    let put = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body))
        .send()
        .await
        .during("PutObject")?;
    tracing::info!(bucket, key, bytes, "wrote");
    Ok(put.e_tag().unwrap_or_default().trim_matches('"').to_string())
}

/// Writes the output that will be public at `key` into the staging folder of the upload
/// `source` (in the watch bucket), where it waits for the Publish step; returns its ETag.
pub async fn put_staged(
    s3: &aws_sdk_s3::Client,
    source: &mediaflow_core::contract::Source,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<String, AwsFailure> {
    put(s3, &source.bucket, &mediaflow_core::publish::staged_key(source, key), content_type, body).await
}

/// A presigned GET URL of `bucket`/`key`, valid for `valid_for`, for tools that read over HTTP.
/// Presigning is local signing: when it fails, the function's setup is at fault
/// (`Configuration`), never the upload.
pub async fn presigned_get(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    valid_for: std::time::Duration,
) -> Result<String, AwsFailure> {
    let failure = |message: String| AwsFailure {
        operation: "presigning GetObject",
        message,
        name: ErrorName::Configuration,
        code: None,
    };
    let config = PresigningConfig::expires_in(valid_for).map_err(|e| failure(e.to_string()))?;
    let request =
        s3.get_object().bucket(bucket).key(key).presigned(config).await.map_err(|e| failure(redact(&e.to_string())))?;
    Ok(request.uri().to_string())
}

/// What a copy source escapes: everything but unreserved characters and `/`.
const COPY_SOURCE_ESCAPED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// The `x-amz-copy-source` of an object: `bucket/key`, the key URL-encoded.
pub fn copy_source(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", percent_encoding::utf8_percent_encode(key, COPY_SOURCE_ESCAPED))
}

/// DeleteObjects takes at most 1,000 keys.
pub const DELETE_BATCH: usize = 1000;

/// Deletes `keys` of `bucket`, [`DELETE_BATCH`] to a request, one request after the other (so
/// that keys given earlier are gone before later ones go). A key that is gone already (a
/// repeated run) is no error; a key S3 could not delete fails the whole, named as its code says.
pub async fn delete_keys(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[String]) -> Result<(), AwsFailure> {
    for batch in keys.chunks(DELETE_BATCH) {
        let objects: Vec<ObjectIdentifier> =
            batch.iter().map(|k| ObjectIdentifier::builder().key(k).build().expect("the key is set")).collect();
        let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().expect("the objects are set");
        let done = s3.delete_objects().bucket(bucket).delete(delete).send().await.during("DeleteObjects")?;
        // Each key that failed is told in the (successful) answer.
        if let Some(e) = done.errors().iter().find(|e| e.code() != Some("NoSuchKey")) {
            return Err(key_failure("DeleteObjects", e.key().unwrap_or_default(), e.code(), e.message()));
        }
    }
    Ok(())
}

/// What a function that writes for the public bucket holds: the client and that bucket's name
/// (`DESTINATION_BUCKET`).
pub struct DestinationClients {
    pub s3: aws_sdk_s3::Client,
    pub destination_bucket: String,
}

impl DestinationClients {
    /// The clients from the function's environment.
    pub async fn from_env() -> Result<DestinationClients, String> {
        Ok(DestinationClients {
            s3: s3_from_env().await,
            destination_bucket: crate::runtime::setting("DESTINATION_BUCKET")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{copy_source, presigned_get};
    use mediaflow_core::ErrorName;
    #[tokio::test]
    async fn a_presigning_failure_is_the_setups_fault() {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(config);
        // S3 refuses presigned URLs valid for more than a week.
        let week_and_a_day = std::time::Duration::from_secs(8 * 24 * 3600);
        let err = presigned_get(&s3, "watch", "inputs/a.mp4", week_and_a_day).await.unwrap_err();
        assert_eq!(err.name, ErrorName::Configuration);
        assert!(err.to_string().starts_with("presigning GetObject: "), "{err}");
    }

    #[test]
    fn copy_sources_are_encoded() {
        assert_eq!(copy_source("watch", "inputs/a b+c%é.mp4"), "watch/inputs/a%20b%2Bc%25%C3%A9.mp4");
    }
}
