//! The events the pipeline's rules route, as EventBridge delivers them: S3's `Object Created`,
//! MediaConvert's `Job State Change` and Step Functions' `Execution Status Change`.

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// S3 `Object Created` through EventBridge.
pub type ObjectCreatedEvent = EventBridgeEvent<ObjectCreatedDetail>;
/// MediaConvert `Job State Change` through EventBridge.
pub type JobStateChangeEvent = EventBridgeEvent<JobStateChangeDetail>;

/// Step Functions `Execution Status Change` through EventBridge.
pub type ExecutionStatusChangeEvent = EventBridgeEvent<ExecutionStatusChangeDetail>;

/// The schema twin of `aws_lambda_events`' `EventBridgeEvent`, which has no `JsonSchema`.
/// A test checks that real events read as both and that the crate's output validates here.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
pub struct EventBridgeEnvelope<T> {
    version: Option<String>,
    id: Option<String>,
    detail_type: String,
    source: String,
    account: Option<String>,
    time: Option<String>,
    region: Option<String>,
    resources: Option<Vec<String>>,
    detail: T,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ObjectCreatedDetail {
    #[serde(default)]
    pub version: Option<String>,
    pub bucket: BucketName,
    pub object: CreatedObject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    /// `PutObject`, `POST Object`, `CopyObject` or `CompleteMultipartUpload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BucketName {
    pub name: String,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct CreatedObject {
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub version_id: Option<String>,
    /// Orders events for one key; with the ETag it tells one upload from another.
    pub sequencer: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStateChangeDetail {
    pub timestamp: Option<i64>,
    pub account_id: Option<String>,
    pub queue: Option<String>,
    pub job_id: String,
    pub status: JobStatus,
    #[serde(default)]
    pub user_metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_group_details: Vec<OutputGroupDetail>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    #[default]
    Progressing,
    StatusUpdate,
    Complete,
    Error,
    Canceled,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutputGroupDetail {
    #[serde(default)]
    pub output_details: Vec<OutputDetail>,
    /// `FILE_GROUP`, `HLS_GROUP`, `DASH_ISO_GROUP`, `CMAF_GROUP` or `MS_SMOOTH_GROUP`.
    #[serde(rename = "type")]
    pub group_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playlist_file_paths: Option<Vec<String>>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutputDetail {
    #[serde(default)]
    pub output_file_paths: Vec<String>,
    pub duration_in_ms: Option<u64>,
    pub video_details: Option<VideoDetails>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoDetails {
    pub width_in_px: u32,
    pub height_in_px: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_bitrate: Option<u64>,
}

/// An execution's status changed (a Standard workflow emits one per change). Absent values are
/// `null`, as Step Functions sends them; dates are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionStatusChangeDetail {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: String,
    pub start_date: i64,
    pub stop_date: Option<i64>,
    /// The execution's input as a JSON string; `null` when too large for the event.
    pub input: Option<String>,
    #[serde(default)]
    pub input_details: Option<DataDetails>,
    pub output: Option<String>,
    #[serde(default)]
    pub output_details: Option<DataDetails>,
    pub error: Option<String>,
    pub cause: Option<String>,
    #[serde(default)]
    pub redrive_count: u32,
}

/// Whether the event carries the input or output (EventBridge's size limit may leave it out).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataDetails {
    pub included: bool,
}
