use mediaflow_core::{ErrorName, Named};

/// Why a caption file could not be read. Every variant is `MediaFlow.InvalidCaption`: the upload
/// is what needs fixing, and the message says where and how.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("the caption file is empty")]
    Empty,
    #[error("no caption cue was found in the file")]
    NoCues,
    #[error("line {line}: expected {expected}, found {found:?}")]
    Unexpected { line: usize, expected: &'static str, found: String },
    #[error("not well-formed TTML: {0}")]
    Xml(String),
}

impl Named for Error {
    fn name(&self) -> ErrorName {
        ErrorName::InvalidCaption
    }
}

impl Error {
    pub(crate) fn unexpected(line: usize, expected: &'static str, found: &str) -> Error {
        let found: String = found.chars().take(80).collect();
        Error::Unexpected { line, expected, found }
    }
}
