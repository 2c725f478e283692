//! A Step Functions engine and its API, on one machine with no AWS account: definitions in
//! Amazon States Language are loaded and run (`engine`), their executions kept and driven by
//! typed calls (`service`), and served in the AWS JSON 1.0 protocol that `aws-sdk-sfn` and the
//! aws CLI speak (`api`, a thin adapter over the service). It knows nothing of the pipeline
//! it runs: the Task handlers, the SDK integrations and a check of what they are given and
//! return come from whoever builds the engine (here, `src/platform`).

pub mod api;
pub mod engine;
pub mod service;

pub use api::{ApiError, StepFunctionsEndpoint, client_of, history_events};
pub use service::{Service, ServiceError};
