//! What every function shares. Functions never know where they run: endpoints come from the
//! SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables.

mod failure;
mod objects;
pub mod runtime;
mod tool;

pub use failure::{AwsFailure, aws_failure};
pub use objects::{DELETE_BATCH, delete_keys};
pub use tool::{STDERR_TAIL_LINES, ToolError, ToolRun, run_tool};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use mediaflow_core::ErrorName;

/// An S3 client from the environment. `S3_FORCE_PATH_STYLE=true` selects path-style requests,
/// which S3-compatible endpoints without per-bucket host names need.
pub async fn s3_from_env() -> aws_sdk_s3::Client {
    let config = aws_config::load_from_env().await;
    let path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true");
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).build())
}

/// Makes a function's error enum the Lambda error payload: its `name()` (a
/// [`mediaflow_core::ErrorName`]) becomes the `errorType` the state machine catches, its message
/// the `errorMessage`.
#[macro_export]
macro_rules! lambda_error {
    ($error:ty) => {
        impl From<$error> for lambda_runtime::Diagnostic {
            fn from(e: $error) -> lambda_runtime::Diagnostic {
                $crate::diagnostic(mediaflow_core::Named::name(&e), e.to_string())
            }
        }
    };
}

/// The Lambda error payload of `message` under `name`.
pub fn diagnostic(name: ErrorName, message: impl Into<String>) -> lambda_runtime::Diagnostic {
    lambda_runtime::Diagnostic { error_type: name.as_str().to_string(), error_message: message.into() }
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
        .map_err(|e| aws_failure("PutObject", e))?;
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

/// A required setting from the environment.
pub fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// `text` with the secrets of presigned URLs blanked: the values of every `X-Amz-Signature`,
/// `X-Amz-Credential` and `X-Amz-Security-Token` query parameter. For errors and log lines that
/// may quote a URL (ffmpeg and ffprobe print the input they failed on).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["X-Amz-Signature=", "X-Amz-Credential=", "X-Amz-Security-Token="]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
        .min()
    {
        let (start, len) = at;
        out.push_str(&rest[..start + len]);
        out.push_str("REDACTED");
        rest = &rest[start + len..];
        // A query value: unreserved characters and %-escapes.
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "%-_.~".contains(c))).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The `x-amz-copy-source` of an object: `bucket/key`, the key URL-encoded.
pub fn copy_source(bucket: &str, key: &str) -> String {
    let encoded: String = key
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    format!("{bucket}/{encoded}")
}

#[cfg(test)]
mod tests {
    use super::{copy_source, presigned_get, redact};
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

    #[test]
    fn presigned_secrets_are_blanked() {
        let line = "https://b.s3.amazonaws.com/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1&X-Amz-Security-Token=IQo&X-Amz-Signature=abc123: Invalid data";
        let redacted = redact(line);
        assert_eq!(
            redacted,
            "https://b.s3.amazonaws.com/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED: Invalid data"
        );
        assert_eq!(redact("no url here"), "no url here");
    }
}
