//! The one-machine platform. So far: an embedded S3 endpoint over a data folder that emits
//! S3's `Object Created` events as EventBridge delivers them, and the first part of the Step
//! Functions engine, its data flow.

pub mod engine;
mod s3;
mod store;

pub use s3::{ACCESS_KEY, EmbeddedS3, Error, REGION, SECRET_KEY};
