//! Contracts: the input and output of every Task state, and the documents they accumulate into.
//! `schemas/` is generated from these types (`mediaflow schemas`).

mod check;
mod document;
mod events;
mod tasks;

pub use check::{ContractCheck, Direction};
pub use document::ExecutionDocument;
pub use events::*;
pub use tasks::*;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::ladder::Rendition;
use crate::metadata::MetadataDocument;
use crate::probe::Probe;

fn schema_of<T: JsonSchema>() -> Schema {
    SchemaGenerator::default().into_root_schema_for::<T>()
}

/// Every contract type by the name its schema file has (`schemas/<name>.json`).
pub fn schemas() -> Vec<(&'static str, Schema)> {
    let mut all = vec![
        ("ObjectCreatedEvent", schema_of::<EventBridgeEnvelope<ObjectCreatedDetail>>()),
        ("JobStateChangeEvent", schema_of::<EventBridgeEnvelope<JobStateChangeDetail>>()),
        ("ExecutionStatusChangeEvent", schema_of::<EventBridgeEnvelope<ExecutionStatusChangeDetail>>()),
        ("ClassifyInput", schema_of::<ClassifyInput>()),
        ("ClassifyOutput", schema_of::<ClassifyOutput>()),
        ("AssetInput", schema_of::<AssetInput>()),
        ("AssemblyResult", schema_of::<AssemblyResult>()),
        ("ProbeInput", schema_of::<ProbeInput>()),
        ("Probe", schema_of::<Probe>()),
        ("StoredObject", schema_of::<StoredObject>()),
        ("MediaInput", schema_of::<MediaInput>()),
        ("JobPlan", schema_of::<JobPlan>()),
        ("Rendition", schema_of::<Rendition>()),
        ("AwaitMediaConvertInput", schema_of::<AwaitMediaConvertInput>()),
        ("Renditions", schema_of::<Renditions>()),
        ("Thumbnail", schema_of::<Thumbnail>()),
        ("StoryboardInput", schema_of::<StoryboardInput>()),
        ("Storyboard", schema_of::<Storyboard>()),
        ("Loudness", schema_of::<crate::loudness::Loudness>()),
        ("CaptionResult", schema_of::<CaptionResult>()),
        ("SaveMetadataInput", schema_of::<SaveMetadataInput>()),
        ("MetadataResult", schema_of::<MetadataResult>()),
        ("PublishInput", schema_of::<PublishInput>()),
        ("PublishResult", schema_of::<PublishResult>()),
        ("ExecutionDocument", schema_of::<ExecutionDocument>()),
        ("MetadataDocument", schema_of::<MetadataDocument>()),
        ("ErrorInfo", schema_of::<ErrorInfo>()),
        ("AutoCaptionsInput", schema_of::<AutoCaptionsInput>()),
        ("TranscriptionPlan", schema_of::<crate::transcription::TranscriptionPlan>()),
        ("MachineCaption", schema_of::<crate::transcription::MachineCaption>()),
    ];
    for (name, schema) in &mut all {
        schema.insert("title".into(), (*name).into());
    }
    all
}
