//! Job building: a user's MediaConvert job template, made into the job for one upload.
//!
//! The template is MediaConvert's own CreateJob JSON (PascalCase, as the console exports it).
//! The builder sets the input file and each output group's destination, keeps the outputs whose
//! rung the ladder keeps for this source, sizes and names them, and passes every other field
//! through unchanged. Each output with a `VideoDescription` is one rung, named by its
//! `NameModifier` (`_720p`) or else by the short side of its `Width`×`Height`.

use serde_json::{Map, Value};

use crate::contract::{JobPlan, PlannedOutput};
use crate::error::Error;
use crate::ladder::{self, Rendition};

/// What the builder needs to know of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceMedia {
    /// Display size (after rotation), when the source has a picture.
    pub display_size: Option<(u32, u32)>,
    pub has_audio: bool,
}

/// Where the job reads and writes.
#[derive(Clone, Copy, Debug)]
pub struct JobTarget<'a> {
    /// `s3://<watch-bucket>/inputs/…`
    pub input_url: &'a str,
    /// The bucket MediaConvert writes to.
    pub bucket: &'a str,
    /// The folder of that bucket the outputs go under ("" for none): the upload's staging.
    pub staging: &'a str,
    /// The key MediaConvert appends name modifiers and extensions to: `audiovideo/<dir>/<stem>`.
    pub base_key: &'a str,
}

/// Builds the job for one upload from `template` (named `template_name` in the plan).
///
/// Besides sizes and names, two things follow from the source: outputs above it are dropped
/// (never upscaled), and a source without sound gets no audio (MediaConvert fails a job whose
/// audio selector finds nothing), so its outputs lose their `AudioDescriptions` and audio-only
/// outputs are dropped.
pub fn build_job(
    template: &Value,
    template_name: &str,
    target: JobTarget<'_>,
    media: SourceMedia,
) -> Result<JobPlan, Error> {
    let bad = |what: String| Error::InvalidTemplate(format!("{template_name}: {what}"));
    let mut job = template.clone();
    let settings =
        job.get_mut("Settings").and_then(Value::as_object_mut).ok_or_else(|| bad("no \"Settings\" object".into()))?;

    set_input(settings, target.input_url).map_err(&bad)?;

    let groups = settings
        .get_mut("OutputGroups")
        .and_then(Value::as_array_mut)
        .filter(|g| !g.is_empty())
        .ok_or_else(|| bad("\"Settings.OutputGroups\" is missing or empty".into()))?;

    let mut rungs = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for (o, output) in outputs_of(group).iter().enumerate() {
            if let Some(rung) = rung_of(output).map_err(|e| bad(format!("OutputGroups[{g}].Outputs[{o}]: {e}")))? {
                rungs.push(rung);
            }
        }
    }
    let renditions = match (media.display_size, rungs.is_empty()) {
        (Some((w, h)), false) => ladder::plan(&rungs, w, h).map_err(|e| match e {
            Error::InvalidTemplate(m) => bad(m),
            other => other,
        })?,
        (Some(_), true) => return Err(bad("it has no video output for a video source".into())),
        (None, false) => return Err(bad("it has video outputs but the source has no picture".into())),
        (None, true) => Vec::new(),
    };

    let destination = format!("s3://{}/{}{}", target.bucket, target.staging, target.base_key);
    let mut planned = Vec::new();
    for (g, group) in groups.iter_mut().enumerate() {
        let at = |what: String| bad(format!("OutputGroups[{g}]: {what}"));
        let kind = set_destination(group, &destination).map_err(at)?;
        let outputs =
            group.get_mut("Outputs").and_then(Value::as_array_mut).ok_or_else(|| at("no \"Outputs\" array".into()))?;
        outputs.retain(|output| match rung_of(output) {
            Ok(Some(rung)) => renditions.iter().any(|r| r.rung == rung),
            _ => media.has_audio,
        });
        let mut seen = Vec::new();
        for output in outputs.iter_mut() {
            if !media.has_audio {
                output.as_object_mut().map(|o| o.remove("AudioDescriptions"));
            }
            let mut label = None;
            if let Some(rung) = rung_of(output).ok().flatten() {
                let rendition = renditions.iter().find(|r| r.rung == rung).expect("kept outputs have a rendition");
                if seen.contains(&rung) {
                    return Err(at(format!("two outputs are the {} rung", rendition.label)));
                }
                seen.push(rung);
                size_output(output, rendition);
                label = Some(rendition.label.clone());
            }
            if kind == GroupKind::File {
                let key = format!("{}{}.{}", target.base_key, name_modifier(output), extension_of(output).map_err(at)?);
                planned.push(PlannedOutput { key, label });
            }
        }
        if let Some(manifest) = kind.manifest_extension() {
            planned.push(PlannedOutput { key: format!("{}.{manifest}", target.base_key), label: None });
        }
    }
    let mut keys: Vec<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    keys.sort_unstable();
    if let Some(pair) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(format!("two outputs would both be written to {}", pair[0])));
    }
    if planned.is_empty() {
        return Err(bad("no output is left for this source".into()));
    }
    Ok(JobPlan { template: template_name.to_string(), job, renditions, outputs: planned, cost: None, storyboard: None })
}

fn set_input(settings: &mut Map<String, Value>, input_url: &str) -> Result<(), String> {
    let inputs = settings.entry("Inputs").or_insert_with(|| Value::Array(Vec::new()));
    let inputs = inputs.as_array_mut().ok_or("\"Settings.Inputs\" is not an array")?;
    if inputs.is_empty() {
        inputs.push(Value::Object(Map::new()));
    }
    let first = inputs[0].as_object_mut().ok_or("\"Settings.Inputs[0]\" is not an object")?;
    first.insert("FileInput".into(), input_url.into());
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GroupKind {
    File,
    Hls,
    Dash,
    Cmaf,
    Smooth,
}

impl GroupKind {
    fn manifest_extension(self) -> Option<&'static str> {
        match self {
            GroupKind::File => None,
            GroupKind::Hls | GroupKind::Cmaf => Some("m3u8"),
            GroupKind::Dash => Some("mpd"),
            GroupKind::Smooth => Some("ism"),
        }
    }
}

/// Points an output group at `destination`, returning its kind.
fn set_destination(group: &mut Value, destination: &str) -> Result<GroupKind, String> {
    let settings =
        group.get_mut("OutputGroupSettings").and_then(Value::as_object_mut).ok_or("no \"OutputGroupSettings\"")?;
    let (kind, field) = match settings.get("Type").and_then(Value::as_str) {
        Some("FILE_GROUP_SETTINGS") => (GroupKind::File, "FileGroupSettings"),
        Some("HLS_GROUP_SETTINGS") => (GroupKind::Hls, "HlsGroupSettings"),
        Some("DASH_ISO_GROUP_SETTINGS") => (GroupKind::Dash, "DashIsoGroupSettings"),
        Some("CMAF_GROUP_SETTINGS") => (GroupKind::Cmaf, "CmafGroupSettings"),
        Some("MS_SMOOTH_GROUP_SETTINGS") => (GroupKind::Smooth, "MsSmoothGroupSettings"),
        other => return Err(format!("unknown output group type {other:?}")),
    };
    let group_settings = settings.entry(field).or_insert_with(|| Value::Object(Map::new()));
    let group_settings = group_settings.as_object_mut().ok_or(format!("\"{field}\" is not an object"))?;
    group_settings.insert("Destination".into(), destination.into());
    Ok(kind)
}

fn outputs_of(group: &Value) -> &[Value] {
    group.get("Outputs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// The rung an output stands for: `Some(short side)` for a video output, `None` for audio only.
fn rung_of(output: &Value) -> Result<Option<u32>, String> {
    let Some(video) = output.get("VideoDescription") else {
        return Ok(None);
    };
    if crate::storyboard::is_frame_capture(output) {
        return Err("a FRAME_CAPTURE output: the pipeline adds its own for the storyboard".into());
    }
    let from_name = output
        .get("NameModifier")
        .and_then(Value::as_str)
        .and_then(|m| m.strip_prefix('_')?.strip_suffix('p')?.parse::<u32>().ok())
        .filter(|&n| n > 0);
    let from_size = || {
        let w = video.get("Width").and_then(Value::as_u64)?;
        let h = video.get("Height").and_then(Value::as_u64)?;
        u32::try_from(w.min(h)).ok().filter(|&n| n > 0)
    };
    from_name
        .or_else(from_size)
        .map(Some)
        .ok_or_else(|| "a video output needs a NameModifier like \"_720p\" or a Width and Height".to_string())
}

fn size_output(output: &mut Value, rendition: &Rendition) {
    output["NameModifier"] = format!("_{}", rendition.label).into();
    let video = &mut output["VideoDescription"];
    video["Width"] = rendition.width.into();
    video["Height"] = rendition.height.into();
}

fn name_modifier(output: &Value) -> &str {
    output.get("NameModifier").and_then(Value::as_str).unwrap_or("")
}

/// The file extension MediaConvert gives a file output.
fn extension_of(output: &Value) -> Result<String, String> {
    if let Some(ext) = output.get("Extension").and_then(Value::as_str) {
        return Ok(ext.trim_start_matches('.').to_string());
    }
    let container = output.pointer("/ContainerSettings/Container").and_then(Value::as_str);
    Ok(match container {
        Some("MP4") => "mp4",
        Some("MOV") => "mov",
        Some("M2TS") => "m2ts",
        Some("WEBM") => "webm",
        Some("MXF") => "mxf",
        Some("MPD") | Some("CMFC") => "mp4",
        Some("OGG") => "ogg",
        Some("RAW") => {
            let codec = output.pointer("/AudioDescriptions/0/CodecSettings/Codec").and_then(Value::as_str);
            match codec {
                Some("MP3") => "mp3",
                Some("AAC") => "aac",
                Some("WAV") => "wav",
                Some("FLAC") => "flac",
                Some("OPUS") => "opus",
                Some("VORBIS") => "ogg",
                Some("AC3") => "ac3",
                Some("EAC3") => "eac3",
                other => return Err(format!("a RAW output of codec {other:?} needs an \"Extension\"")),
            }
        }
        other => return Err(format!("an output of container {other:?} needs an \"Extension\"")),
    }
    .to_string())
}

#[cfg(test)]
mod tests;
