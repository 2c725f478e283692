//! mediaflow's contracts and pure pipeline logic. No I/O: callers read and write, this crate
//! decides names, kinds, sizes, jobs and documents.

/// ARNs, from their own crate (shared with the Step Functions engine).
pub use mediaflow_arn as arn;
pub mod classify;
pub mod contract;
pub mod cors;
pub mod cost;
pub mod error;
pub mod hls;
pub mod job;
pub mod keys;
pub mod ladder;
pub mod loudness;
pub mod mediaconvert;
pub mod metadata;
pub mod plan;
pub mod probe;
pub mod publish;
pub mod routing;
pub mod statemachine;
pub mod storyboard;
pub mod templates;
pub mod text;
pub mod thumbnail;
pub mod transcription;

pub use error::{Error, ErrorName, Named};
