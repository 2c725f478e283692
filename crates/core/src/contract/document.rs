//! The execution document: the one JSON object that the state machine passes from state to
//! state. Each Task writes its result under one field (`ResultPath`), named here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    AssemblyResult, Asset, CaptionResult, ErrorInfo, JobPlan, MetadataResult, PublishResult, Renditions, Source,
    StoredObject, Storyboard, Thumbnail,
};
use crate::probe::Probe;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionDocument {
    /// Classify: the upload.
    pub source: Source,
    /// Classify: what it is and how it is named.
    pub asset: Asset,
    /// AssembleCheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assembly: Option<AssemblyResult>,
    /// ArchiveOriginal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<StoredObject>,
    /// Probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
    /// BuildJob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<JobPlan>,
    /// Transcode, CheckTranscode or CopyMp3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renditions: Option<Renditions>,
    /// SaveFrame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<Thumbnail>,
    /// Storyboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard: Option<Storyboard>,
    /// MeasureLoudness: the upload's loudness, before any normalization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness: Option<crate::loudness::Loudness>,
    /// ConvertCaption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<CaptionResult>,
    /// SaveMetadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataResult>,
    /// Publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishResult>,
    /// The heartbeat or timeout that made the pipeline ask MediaConvert directly (an event was lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_event: Option<ErrorInfo>,
}
