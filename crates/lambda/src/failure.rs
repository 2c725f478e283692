//! Failed AWS calls, named for the state machine: retry, fix the deployment, or fix the input.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use mediaflow_core::{ErrorName, Named};

/// A failed AWS call, named: throttling, server errors and connection trouble are
/// `MediaFlow.Transient` (the state machine retries them); a refusal of access or a missing
/// bucket is `MediaFlow.Configuration` (the deployment needs fixing); anything else will fail
/// again as it is (`MediaFlow.InvalidInput`).
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct AwsFailure {
    pub operation: &'static str,
    pub message: String,
    pub name: ErrorName,
    /// The service's error code (`NoSuchKey`, `PreconditionFailed`, …), when it sent one.
    pub code: Option<String>,
}

impl Named for AwsFailure {
    fn name(&self) -> ErrorName {
        self.name
    }
}

impl AwsFailure {
    /// Whether a conditional write (`If-None-Match: *`, `If-Match`) lost: the object was there,
    /// or had changed (412). Another conditional write under way (409) is transient instead.
    pub fn lost_condition(&self) -> bool {
        self.code.as_deref() == Some("PreconditionFailed")
    }
}

/// Names a failed AWS call by its operation: `client.get_object()….send().await.during("GetObject")?`.
pub trait During<T> {
    fn during(self, operation: &'static str) -> Result<T, AwsFailure>;
}

impl<T, E: ProvideErrorMetadata> During<T> for Result<T, SdkError<E>> {
    fn during(self, operation: &'static str) -> Result<T, AwsFailure> {
        self.map_err(|e| aws_failure(operation, e))
    }
}

pub fn aws_failure<E: ProvideErrorMetadata>(operation: &'static str, e: SdkError<E>) -> AwsFailure {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        _ => {
            status.is_some_and(|s| s >= 500 || s == 429)
                // Transcribe throttles with a 400 `LimitExceededException`.
                || matches!(
                    e.code(),
                    Some("SlowDown" | "ThrottlingException" | "ConditionalRequestConflict" | "LimitExceededException")
                )
        }
    };
    let code = e.code().map(str::to_string);
    let message = match (e.message(), e.code()) {
        (Some(m), Some(c)) => format!("{m} ({c})"),
        (None, Some(c)) => c.to_string(),
        _ => match status {
            Some(s) => format!("HTTP {s}: {e}"),
            None => e.to_string(),
        },
    };
    let refused = status == Some(403)
        || matches!(
            e.code(),
            Some(
                "AccessDenied"
                    | "AccessDeniedException"
                    | "NoSuchBucket"
                    | "InvalidAccessKeyId"
                    | "NotSignedUp"
                    | "SignatureDoesNotMatch"
                    | "UnrecognizedClientException"
                    | "InvalidClientTokenId"
            )
        );
    AwsFailure { operation, message, name: name_of(transient, refused), code }
}

/// An error S3 reports for one key of a request that succeeded (DeleteObjects), named by the
/// same rules.
pub(crate) fn key_failure(operation: &'static str, key: &str, code: Option<&str>, message: Option<&str>) -> AwsFailure {
    let transient = matches!(code, Some("SlowDown" | "InternalError" | "ServiceUnavailable"));
    let refused = matches!(code, Some("AccessDenied"));
    AwsFailure {
        operation,
        message: format!("{key}: {} ({})", message.unwrap_or_default(), code.unwrap_or_default()),
        name: name_of(transient, refused),
        code: code.map(str::to_string),
    }
}

fn name_of(transient: bool, refused: bool) -> ErrorName {
    match (transient, refused) {
        (true, _) => ErrorName::Transient,
        (false, true) => ErrorName::Configuration,
        (false, false) => ErrorName::InvalidInput,
    }
}
