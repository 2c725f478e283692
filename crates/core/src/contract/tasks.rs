//! What each Task state is given and returns.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ExecutionDocument, ObjectCreatedEvent};
use crate::keys::SourceKey;
use crate::ladder::Rendition;
use crate::probe::Probe;

/// The upload in the watch bucket, as the event named it and Classify found it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    pub bucket: String,
    /// The key that exists (URL-decoded when the event's key did not).
    pub key: String,
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    pub sequencer: Option<String>,
    pub version_id: Option<String>,
}

impl Source {
    /// An object as S3 describes it; `etag` with or without its quotes.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, size: u64, etag: &str) -> Self {
        Source {
            bucket: bucket.into(),
            key: key.into(),
            size,
            etag: etag.trim_matches('"').to_string(),
            sequencer: None,
            version_id: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    Video,
    Audio,
    Mp3,
    Caption,
    Chunk,
    Unsupported,
    /// Another execution already owns this upload (a repeated delivery).
    Duplicate,
    /// The key already holds a newer upload than the event's: the newer one's own execution
    /// delivers it.
    Superseded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CaptionFormat {
    Srt,
    Vtt,
    Sbv,
    Ttml,
}

/// A container recognised by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    Mp4,
    M4a,
    QuickTime,
    Matroska,
    Avi,
    MpegTs,
    MpegPs,
    Asf,
    Flv,
    Mxf,
    Mp3,
    Adts,
    Wav,
    Aiff,
    Flac,
    Ogg,
}

impl Container {
    /// Containers that hold sound only.
    pub fn is_audio_only(self) -> bool {
        matches!(
            self,
            Container::M4a | Container::Mp3 | Container::Adts | Container::Wav | Container::Aiff | Container::Flac
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            Container::Mp4 => "MP4",
            Container::M4a => "M4A",
            Container::QuickTime => "QuickTime",
            Container::Matroska => "Matroska/WebM",
            Container::Avi => "AVI",
            Container::MpegTs => "MPEG-TS",
            Container::MpegPs => "MPEG-PS",
            Container::Asf => "ASF/WMV",
            Container::Flv => "FLV",
            Container::Mxf => "MXF",
            Container::Mp3 => "MP3",
            Container::Adts => "AAC (ADTS)",
            Container::Wav => "WAV",
            Container::Aiff => "AIFF",
            Container::Flac => "FLAC",
            Container::Ogg => "Ogg",
        }
    }
}

/// The parts of the upload's key that outputs are named by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetName {
    /// Folders under `inputs/`, kept in every output key; "" for none.
    pub dir: String,
    pub name: String,
    pub stem: String,
    pub extension: String,
    /// A caption's language tag (`talk.en.srt` → `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl AssetName {
    pub fn of(key: &SourceKey) -> AssetName {
        AssetName {
            dir: key.dir().to_string(),
            name: key.name().to_string(),
            stem: key.stem().to_string(),
            extension: key.extension().to_string(),
            language: key.language().map(str::to_string),
        }
    }
}

/// What the upload is, from Classify.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Asset {
    pub kind: AssetKind,
    pub name: AssetName,
    pub container: Option<Container>,
    pub caption_format: Option<CaptionFormat>,
    pub chunk: Option<ChunkRef>,
    /// Why an unsupported upload is left alone.
    pub reason: Option<String>,
    /// The execution that owns this upload, for a duplicate.
    pub duplicate_of: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChunkRef {
    pub index: u32,
    /// The key of the whole upload once assembled.
    pub target_key: String,
}

/// Classify's input: the event that started the execution, and the execution's ARN (the owner of
/// the duplicate-delivery claim).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClassifyInput {
    #[schemars(with = "super::EventBridgeEnvelope<super::ObjectCreatedDetail>")]
    pub event: ObjectCreatedEvent,
    pub execution_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClassifyOutput {
    pub source: Source,
    pub asset: Asset,
}

/// The input of the Tasks that need only the upload: AssembleCheck, ArchiveOriginal, CopyMp3,
/// ConvertCaption.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetInput {
    pub source: Source,
    pub asset: Asset,
}

impl AssetInput {
    /// What Classify hands on for the upload at `source` whose content starts with
    /// `first_bytes` (the first [`crate::classify::SNIFF_BYTES`] are read; more are ignored).
    pub fn classified(source: Source, first_bytes: &[u8]) -> Result<Self, crate::Error> {
        let key = SourceKey::parse(&source.key)?;
        let head = &first_bytes[..first_bytes.len().min(crate::classify::SNIFF_BYTES)];
        Ok(AssetInput { asset: crate::classify::classify(&key, head), source })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AssemblyStatus {
    /// Parts are missing, or their count is not known yet.
    Waiting,
    /// This run assembled the upload.
    Assembled,
    /// Another run assembled it first.
    AlreadyAssembled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssemblyResult {
    pub status: AssemblyStatus,
    pub target_key: String,
    pub parts_present: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_expected: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeInput {
    pub source: Source,
}

/// An object the pipeline wrote to the public bucket, as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredObject {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
}

/// BuildJob and SaveFrame: the upload and what the probe found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaInput {
    pub source: Source,
    pub asset: Asset,
    pub probe: Probe,
}

/// An output the job will write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlannedOutput {
    /// Key in the public bucket.
    pub key: String,
    /// `720p` for a video rendition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// BuildJob's result: the MediaConvert job and what it will write.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobPlan {
    /// Which template it came from (`job.json`, `job-audio.json` or an override object).
    pub template: String,
    /// MediaConvert's CreateJob JSON, as the console exports it (PascalCase).
    #[schemars(with = "Map<String, Value>")]
    pub job: Value,
    pub renditions: Vec<Rendition>,
    pub outputs: Vec<PlannedOutput>,
    /// What the job costs on AWS, estimated (`crates/core/src/cost.rs`).
    pub cost: Option<crate::cost::CostEstimate>,
    /// The storyboard's frames the job takes, for a video (`crates/core/src/storyboard.rs`).
    pub storyboard: Option<crate::storyboard::StoryboardPlan>,
}

/// The Transcode state's payload: submit the job and hand MediaConvert's outcome to the token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscodeSubmit {
    pub task_token: String,
    pub execution_id: String,
    pub redrive_count: u32,
    pub source: Source,
    pub asset: Asset,
    pub plan: JobPlan,
}

/// The CheckTranscode state's payload: ask MediaConvert for the job this execution submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscodeCheck {
    pub execution_id: String,
    pub redrive_count: u32,
}

/// await-mediaconvert's state machine entry points, told apart by `action`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum AwaitMediaConvertInput {
    Submit(Box<TranscodeSubmit>),
    Check(TranscodeCheck),
}

/// The PlanCaptions state's payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanCaptions {
    pub execution_id: String,
    pub source: Source,
    pub asset: Asset,
    pub probe: Probe,
}

/// The AwaitCaptions state's payload: the job PlanCaptions named, to read once it has ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwaitCaptions {
    pub source: Source,
    pub asset: Asset,
    pub transcription: crate::transcription::TranscriptionPlan,
}

/// auto-captions' state machine entry points, told apart by `action`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum AutoCaptionsInput {
    Plan(Box<PlanCaptions>),
    Await(Box<AwaitCaptions>),
}

/// A file a job or a copy wrote.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputFile {
    pub key: String,
    pub label: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
}

/// What Transcode (or CopyMp3, for an MP3) delivered to `audiovideo/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Renditions {
    pub bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Files: MP4 renditions, an MP3.
    pub outputs: Vec<OutputFile>,
    /// Adaptive-streaming ladders (HLS output groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<Stream>,
}

/// An HLS ladder a job wrote: its master playlist, and each variant with how many segments it
/// has. The segments' keys grow with the video's length (about 2,400 an hour at four rungs of
/// 6 s), so they stay in S3: `listing` is the watch-bucket key of their [`SegmentListing`].
///
/// [`SegmentListing`]: crate::publish::SegmentListing
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stream {
    pub master: String,
    pub listing: String,
    pub variants: Vec<StreamVariant>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamVariant {
    pub playlist: String,
    pub label: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Peak bits a second, as the master playlist says.
    pub bandwidth: u64,
    /// How many segments its playlist names (their keys are in the ladder's listing).
    pub segments: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Thumbnail {
    pub bucket: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub at_seconds: f64,
    pub size: u64,
    pub etag: String,
}

/// The Storyboard state's payload: the frames the job took, as BuildJob planned them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryboardInput {
    pub source: Source,
    pub storyboard: crate::storyboard::StoryboardPlan,
    pub probe: Probe,
}

/// The storyboard: a sprite and its WebVTT map, both staged under their public keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Storyboard {
    pub bucket: String,
    pub image: StagedFile,
    pub map: StagedFile,
    pub grid: StoryboardGrid,
}

/// How a storyboard's sprite is laid out: `tiles` frames, one every `interval_seconds`, in
/// `columns`×`rows` tiles of `tile_width`×`tile_height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryboardGrid {
    pub tiles: u32,
    pub columns: u32,
    pub rows: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    pub interval_seconds: u32,
}

impl StoryboardGrid {
    /// The sprite's width and height in pixels.
    pub fn sprite_size(&self) -> (u32, u32) {
        (self.columns * self.tile_width, self.rows * self.tile_height)
    }
}

/// A file a step wrote to the upload's staging folder, by its public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StagedFile {
    pub key: String,
    pub size: u64,
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaptionResult {
    pub bucket: String,
    pub key: String,
    pub format: CaptionFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub cues: u32,
    pub size: u64,
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaveMetadataInput {
    pub document: ExecutionDocument,
    pub execution_id: String,
    /// `$$.Execution.StartTime`.
    pub started_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetadataResult {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
}

/// The Publish state's payload: the execution document (every output it names is staged),
/// and what orders this upload among others of its name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishInput {
    pub document: ExecutionDocument,
    pub execution_id: String,
    /// The event's `time` (`$$.Execution.Input.time`).
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PublishStatus {
    /// The set is public now (or was already, for a repeated publish).
    Published,
    /// A newer upload of the name is public: nothing of this one was published.
    Superseded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishResult {
    pub status: PublishStatus,
    /// Public keys this run made public, but HLS segments, which are only counted: a long
    /// ladder has thousands, past what a state's output may hold.
    pub published: Vec<String>,
    /// How many HLS segments this run made public.
    #[serde(default)]
    pub segments: u32,
    /// Public keys of an earlier upload of the name that this one replaced, and removed (HLS
    /// segments only counted).
    #[serde(default)]
    pub removed: Vec<String>,
    /// How many HLS segments of an earlier upload this run removed.
    #[serde(default)]
    pub removed_segments: u32,
    /// Why nothing was published: `superseded by …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The error object a `Catch` puts at its `ResultPath`, shaped as Step Functions shapes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorInfo {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_is_classified_from_its_first_bytes() {
        let mp4 = [b"\0\0\0\x20ftypisom".as_slice(), &[0u8; 8000]].concat();
        let input = AssetInput::classified(Source::new("watch", "inputs/a/talk.mp4", 8012, "\"abc\""), &mp4).unwrap();
        assert_eq!(input.source.etag, "abc");
        assert_eq!(input.asset.kind, AssetKind::Video);
        let text = AssetInput::classified(Source::new("watch", "inputs/notes.mp4", 5, "e"), b"hello").unwrap();
        assert_eq!(text.asset.kind, AssetKind::Unsupported, "a text file named .mp4 is not video");
        assert!(AssetInput::classified(Source::new("watch", "inputs/../x.mp4", 1, "e"), b"").is_err());
    }
}
