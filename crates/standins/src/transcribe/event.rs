//! `Transcribe Job State Change`, as Amazon Transcribe sends it to EventBridge when a job ends
//! (Amazon Transcribe Developer Guide, "Using Amazon EventBridge with Amazon Transcribe": the
//! job's name and status, and `FailureReason` when it FAILED; `resources` is empty).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::job::JobStatus;
use mediaflow_endpoint::{ACCOUNT, REGION};

/// One event, in EventBridge's envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobStateChangeEvent {
    pub version: String,
    pub id: String,
    pub detail_type: String,
    pub source: String,
    pub account: String,
    pub time: DateTime<Utc>,
    pub region: String,
    pub resources: Vec<String>,
    pub detail: JobStateChangeDetail,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobStateChangeDetail {
    pub transcription_job_name: String,
    pub transcription_job_status: JobStatus,
    pub failure_reason: Option<String>,
}

impl JobStateChangeEvent {
    pub(super) fn new(detail: JobStateChangeDetail) -> JobStateChangeEvent {
        JobStateChangeEvent {
            version: "0".into(),
            id: uuid::Uuid::new_v4().to_string(),
            detail_type: "Transcribe Job State Change".into(),
            source: "aws.transcribe".into(),
            account: ACCOUNT.into(),
            time: Utc::now(),
            region: REGION.into(),
            resources: Vec::new(),
            detail,
        }
    }
}
