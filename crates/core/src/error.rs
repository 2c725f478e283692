//! Stable error names. They cross the Lambda boundary as `errorType` and are what the
//! state machine's `Retry`/`Catch` match on, so a name, once shipped, never changes.

/// Every `errorType` the pipeline's functions raise.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(prefix = "MediaFlow.")]
pub enum ErrorName {
    /// A dependency failed in a way that a later attempt may not (throttling, 5xx, timeouts).
    Transient,
    /// The input of a step is not what its contract says.
    InvalidInput,
    /// An S3 key that would escape its folder or names nothing.
    InvalidKey,
    /// The upload is not a kind of media the pipeline handles.
    UnsupportedMedia,
    /// The upload claims to be media but cannot be read as such (corrupt, truncated, not media).
    InvalidMedia,
    /// A caption file that cannot be read.
    InvalidCaption,
    /// The MediaConvert job template is not usable.
    InvalidTemplate,
    /// MediaConvert ended the job with an error, or it was canceled.
    TranscodeFailed,
    /// MediaConvert has not finished the job yet (the poll after a lost event).
    TranscodePending,
    /// Transcribe has not finished the upload's machine captions yet (the bounded poll).
    TranscriptionPending,
    /// A frame could not be taken from the media.
    FrameFailed,
    /// An output was written but does not read back as written.
    OutputMismatch,
    /// The function lacks something it needs to run (a tool, a setting): fix the deployment.
    Configuration,
}

impl ErrorName {
    /// Every name, in the order declared.
    pub const ALL: &'static [ErrorName] = <ErrorName as strum::VariantArray>::VARIANTS;

    /// The `errorType` string, `MediaFlow.<Name>`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn from_error_type(s: &str) -> Option<ErrorName> {
        s.strip_prefix("MediaFlow.")?.parse().ok()
    }
}

/// An error with a stable name: every crate's error enum implements it, so one conversion
/// (`mediaflow_lambda::lambda_error!`) makes any of them the Lambda error payload, and a variant
/// that carries another crate's error names itself by that error's `name()`.
pub trait Named {
    fn name(&self) -> ErrorName;
}

/// Errors of the pure logic in this crate.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("key {key:?} is refused: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("job template: {0}")]
    InvalidTemplate(String),
    #[error("probe result: {0}")]
    InvalidMedia(String),
    #[error("{0}")]
    UnsupportedMedia(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("output {0} is not where the job said it would be")]
    MissingOutput(String),
    #[error("price table: {0}")]
    InvalidPrices(String),
}

impl Named for Error {
    fn name(&self) -> ErrorName {
        match self {
            Error::InvalidKey { .. } => ErrorName::InvalidKey,
            Error::InvalidTemplate(_) => ErrorName::InvalidTemplate,
            Error::InvalidMedia(_) => ErrorName::InvalidMedia,
            Error::UnsupportedMedia(_) => ErrorName::UnsupportedMedia,
            Error::InvalidInput(_) => ErrorName::InvalidInput,
            Error::MissingOutput(_) => ErrorName::OutputMismatch,
            Error::InvalidPrices(_) => ErrorName::Configuration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_prefixed_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &n in ErrorName::ALL {
            assert!(n.as_str().starts_with("MediaFlow."), "{n}");
            assert!(seen.insert(n.as_str()), "duplicate {n}");
            assert_eq!(ErrorName::from_error_type(n.as_str()), Some(n));
        }
        assert_eq!(ErrorName::from_error_type("States.ALL"), None);
    }

    #[test]
    fn core_errors_are_named() {
        let e = Error::InvalidKey { key: "inputs/../x".into(), reason: "it contains a '..' segment" };
        assert_eq!(e.name().as_str(), "MediaFlow.InvalidKey");
        assert!(e.to_string().contains("'..'"), "{e}");
    }
}
