//! The metadata document saved as `json/<dir>/<stem>.json`: what was uploaded, what the probe
//! found, and every output with its key, size and ETag.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::contract::{AssetKind, SaveMetadataInput, StoryboardGrid};
use crate::cost::CostEstimate;
use crate::error::Error;
use crate::loudness::{Loudness, Normalization, target_of};
use crate::probe::Probe;

/// Bumped when a field changes meaning or goes away.
pub const DOCUMENT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetadataDocument {
    pub document_version: u32,
    pub pipeline: PipelineInfo,
    /// The execution that made this document.
    pub execution_id: String,
    /// The upload this document describes.
    pub source: SourceRecord,
    pub kind: AssetKind,
    pub probe: Option<Probe>,
    /// The upload's copy in `original/`.
    pub original: Option<OutputRecord>,
    /// Renditions and audio in `audiovideo/`.
    pub outputs: Vec<OutputRecord>,
    pub thumbnail: Option<OutputRecord>,
    pub timings: Timings,
    /// HLS ladders: each master playlist with its variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streaming: Vec<StreamRecord>,
    /// What the MediaConvert job costs on AWS, estimated; none when no job ran (an MP3 copied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostEstimate>,
    /// A video's storyboard: the sprite of its frames and the WebVTT map a player scrubs with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard: Option<StoryboardRecord>,
    /// The upload's loudness as measured, and what its renditions were normalized to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness: Option<LoudnessRecord>,
    /// The captions made from the upload: its machine caption, or why it has none (AutoCaptions
    /// on). Uploaded caption files are published by their own executions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captions: Vec<CaptionRecord>,
    /// What Transcribe costs on AWS for the machine caption, estimated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription_cost: Option<crate::transcription::TranscriptionCost>,
}

/// Where a caption came from. A caption file uploaded beside the media is an upload of its own
/// (ConvertCaption publishes it, with no document), so a media document lists the captions made
/// from the media itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CaptionSource {
    /// Transcribed by a recognizer (Amazon Transcribe, or the stand-in's).
    Machine,
}

/// One caption of the upload.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaptionRecord {
    pub source: CaptionSource,
    /// The public WebVTT file; none when there is no caption (`skipped` says why).
    pub key: Option<String>,
    pub language: Option<String>,
    pub cues: u32,
    pub skipped: Option<crate::transcription::Skipped>,
}

/// The storyboard: the sprite, its map, and how the sprite is laid out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryboardRecord {
    /// The sprite, with its size in pixels.
    pub image: OutputRecord,
    /// The WebVTT map: one cue a tile, `<sprite>#xywh=x,y,w,h`.
    pub map: OutputRecord,
    pub grid: StoryboardGrid,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoudnessRecord {
    /// The upload's own loudness (ITU-R BS.1770, measured by ffmpeg's `ebur128`).
    pub source: Loudness,
    /// The normalization the job applied to every rendition; none when nothing was transcoded
    /// (an MP3 is copied unchanged) or the job template normalizes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized_to: Option<Normalization>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineInfo {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRecord {
    pub bucket: String,
    pub key: String,
    pub name: String,
    pub size: u64,
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputRecord {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub etag: String,
    pub label: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// For a thumbnail: the second it was taken at.
    pub at_seconds: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timings {
    pub started_at: String,
    pub finished_at: String,
    pub duration_seconds: f64,
}

/// An HLS ladder: its master playlist, and each variant's playlist with its bandwidth and how
/// many segments it has (the playlists name them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamRecord {
    pub kind: String,
    pub master: OutputRecord,
    pub variants: Vec<VariantRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantRecord {
    pub playlist: OutputRecord,
    pub bandwidth: u64,
    pub segments: u32,
}

/// Size and ETag of an output, as read back from S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStat {
    pub size: u64,
    pub etag: String,
}

/// The rendition keys whose size and ETag must be read back before [`build`].
pub fn keys_to_read_back(input: &SaveMetadataInput) -> Vec<String> {
    let doc = &input.document;
    let mut keys: Vec<String> = doc.renditions.iter().flat_map(|r| &r.outputs).map(|o| o.key.clone()).collect();
    for stream in doc.renditions.iter().flat_map(|r| &r.streams) {
        keys.push(stream.master.clone());
        keys.extend(stream.variants.iter().map(|v| v.playlist.clone()));
    }
    keys
}

/// The document for one execution. `stats` holds what S3 says of each key of
/// [`keys_to_read_back`]; a key missing there is an output that is not where it should be.
pub fn build(
    input: &SaveMetadataInput,
    stats: &BTreeMap<String, ObjectStat>,
    finished_at: DateTime<Utc>,
) -> Result<MetadataDocument, Error> {
    let doc = &input.document;
    let outputs = match &doc.renditions {
        None => Vec::new(),
        Some(r) => r
            .outputs
            .iter()
            .map(|o| {
                let stat =
                    stats.get(&o.key).ok_or_else(|| Error::MissingOutput(format!("s3://{}/{}", r.bucket, o.key)))?;
                Ok(OutputRecord {
                    bucket: r.bucket.clone(),
                    key: o.key.clone(),
                    size: stat.size,
                    etag: stat.etag.clone(),
                    label: o.label.clone(),
                    width: o.width,
                    height: o.height,
                    duration_ms: o.duration_ms,
                    at_seconds: None,
                })
            })
            .collect::<Result<_, Error>>()?,
    };
    let record = |bucket: &str, key: &str| -> Result<OutputRecord, Error> {
        let stat = stats.get(key).ok_or_else(|| Error::MissingOutput(format!("s3://{bucket}/{key}")))?;
        Ok(OutputRecord {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: stat.size,
            etag: stat.etag.clone(),
            label: None,
            width: None,
            height: None,
            duration_ms: None,
            at_seconds: None,
        })
    };
    let mut streaming = Vec::new();
    if let Some(r) = &doc.renditions {
        for stream in &r.streams {
            let mut variants = Vec::new();
            for v in &stream.variants {
                let playlist = OutputRecord {
                    label: v.label.clone(),
                    width: v.width,
                    height: v.height,
                    ..record(&r.bucket, &v.playlist)?
                };
                variants.push(VariantRecord { playlist, bandwidth: v.bandwidth, segments: v.segments });
            }
            streaming.push(StreamRecord { kind: "HLS".into(), master: record(&r.bucket, &stream.master)?, variants });
        }
    }
    let started = DateTime::parse_from_rfc3339(&input.started_at)
        .map_err(|e| Error::InvalidInput(format!("startedAt {:?} is not an RFC 3339 time: {e}", input.started_at)))?;
    let duration = (finished_at - started.with_timezone(&Utc)).num_milliseconds().max(0) as f64 / 1000.0;
    Ok(MetadataDocument {
        document_version: DOCUMENT_VERSION,
        pipeline: PipelineInfo { name: "mediaflow".into(), version: env!("CARGO_PKG_VERSION").into() },
        execution_id: input.execution_id.clone(),
        source: SourceRecord {
            bucket: doc.source.bucket.clone(),
            key: doc.source.key.clone(),
            name: doc.asset.name.name.clone(),
            size: doc.source.size,
            etag: doc.source.etag.clone(),
            version_id: doc.source.version_id.clone(),
        },
        kind: doc.asset.kind,
        probe: doc.probe.clone(),
        original: doc.original.as_ref().map(|o| OutputRecord {
            bucket: o.bucket.clone(),
            key: o.key.clone(),
            size: o.size,
            etag: o.etag.clone(),
            label: None,
            width: None,
            height: None,
            duration_ms: None,
            at_seconds: None,
        }),
        outputs,
        thumbnail: doc.thumbnail.as_ref().map(|t| OutputRecord {
            bucket: t.bucket.clone(),
            key: t.key.clone(),
            size: t.size,
            etag: t.etag.clone(),
            label: None,
            width: Some(t.width),
            height: Some(t.height),
            duration_ms: None,
            at_seconds: Some(t.at_seconds),
        }),
        timings: Timings {
            started_at: input.started_at.clone(),
            finished_at: finished_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_seconds: duration,
        },
        streaming,
        cost: doc.plan.as_ref().and_then(|p| p.cost.clone()),
        storyboard: doc.storyboard.as_ref().map(|b| {
            let file = |f: &crate::contract::StagedFile, size: Option<(u32, u32)>| OutputRecord {
                bucket: b.bucket.clone(),
                key: f.key.clone(),
                size: f.size,
                etag: f.etag.clone(),
                label: None,
                width: size.map(|s| s.0),
                height: size.map(|s| s.1),
                duration_ms: None,
                at_seconds: None,
            };
            StoryboardRecord {
                image: file(&b.image, Some(b.grid.sprite_size())),
                map: file(&b.map, None),
                grid: b.grid,
            }
        }),
        loudness: doc.loudness.as_ref().map(|l| LoudnessRecord {
            source: l.clone(),
            normalized_to: doc.plan.as_ref().and_then(|p| target_of(&p.job)),
        }),
        captions: doc
            .auto_caption
            .iter()
            .map(|c| CaptionRecord {
                source: CaptionSource::Machine,
                key: c.key.clone(),
                language: c.language.clone(),
                cues: c.cues,
                skipped: c.skipped.clone(),
            })
            .collect(),
        transcription_cost: doc.auto_caption.as_ref().and_then(|c| c.cost.clone()),
    })
}

#[cfg(test)]
mod tests;
