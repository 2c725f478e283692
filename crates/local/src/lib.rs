//! The one-machine platform: an embedded S3 endpoint over a data folder that emits S3's
//! `Object Created` events as EventBridge delivers them, and the Step Functions engine with its
//! API over HTTP.

mod cors;
pub mod engine;
mod feed;
mod files;
mod http;
mod listing;
mod long_keys;
pub mod mediaconvert;
mod s3;
mod sfn;
mod store;
pub mod transcribe;

pub use s3::{ACCESS_KEY, EmbeddedS3, Error, SECRET_KEY};

/// The one region and account the platform is, in every ARN and event it makes.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub use sfn::{ApiError, Operations, StepFunctionsEndpoint, client_of as sfn_client_of, history_events};
