//! The execution document: the one JSON object that the state machine passes from state to
//! state. Each Task writes its result under one field (`ResultPath`), named here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    AssemblyResult, Asset, CaptionResult, ErrorInfo, JobPlan, MetadataResult, PublishResult, Renditions, Source,
    StoredObject, Storyboard, Thumbnail,
};
use crate::probe::Probe;

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionDocument {
    /// Classify: the upload.
    pub source: Source,
    /// Classify: what it is and how it is named.
    pub asset: Asset,
    /// AssembleCheck.
    pub assembly: Option<AssemblyResult>,
    /// ArchiveOriginal.
    pub original: Option<StoredObject>,
    /// Probe.
    pub probe: Option<Probe>,
    /// BuildJob.
    pub plan: Option<JobPlan>,
    /// Transcode, CheckTranscode or CopyMp3.
    pub renditions: Option<Renditions>,
    /// SaveFrame.
    pub thumbnail: Option<Thumbnail>,
    /// Storyboard.
    pub storyboard: Option<Storyboard>,
    /// MeasureLoudness: the upload's loudness, before any normalization.
    pub loudness: Option<crate::loudness::Loudness>,
    /// ConvertCaption.
    pub caption: Option<CaptionResult>,
    /// PlanCaptions, and what Transcribe answered the start (`crates/core/src/transcription.rs`).
    pub transcription: Option<crate::transcription::TranscriptionPlan>,
    /// AwaitCaptions: the machine caption, staged.
    pub auto_caption: Option<crate::transcription::MachineCaption>,
    /// SaveMetadata.
    pub metadata: Option<MetadataResult>,
    /// Publish.
    pub publish: Option<PublishResult>,
    /// The heartbeat or timeout that made the pipeline ask MediaConvert directly (an event was lost).
    pub lost_event: Option<ErrorInfo>,
}
