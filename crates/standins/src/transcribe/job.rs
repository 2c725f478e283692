//! A transcription job as the stand-in keeps it (what was asked, where it stands) and as
//! Transcribe's API shows it (`TranscriptionJob`, `TranscriptionJobSummary`), with the rules
//! for where Transcribe writes its outputs.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use mediaflow_endpoint::REGION;

/// `TranscriptionJobStatus`. Transcribe shows QUEUED only for jobs that opted into deferred
/// execution (`JobExecutionSettings`, which the stand-in does not take): a job waiting for a
/// free slot is IN_PROGRESS, as on AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    InProgress,
    Completed,
    Failed,
}

/// An object in S3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct S3Object {
    pub bucket: String,
    pub key: String,
}

impl S3Object {
    /// The form Transcribe gives its output locations in (`TranscriptFileUri`,
    /// `SubtitleFileUris`): `https://s3.<region>.amazonaws.com/<bucket>/<key>`, the same
    /// whichever endpoint the objects are actually served from.
    pub fn https_uri(&self) -> String {
        format!("https://s3.{REGION}.amazonaws.com/{}/{}", self.bucket, self.key)
    }
}

/// The language to transcribe in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Language {
    /// `LanguageCode`: `en-US`, `fr-FR`, …
    Code(String),
    /// `IdentifyLanguage`, with the `LanguageOptions` it may choose from (none: any).
    Identify(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SubtitleFormat {
    Vtt,
    Srt,
}

impl SubtitleFormat {
    pub fn extension(self) -> &'static str {
        match self {
            SubtitleFormat::Vtt => "vtt",
            SubtitleFormat::Srt => "srt",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SubtitleFormat::Vtt => "text/vtt",
            SubtitleFormat::Srt => "application/x-subrip",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Subtitles {
    pub formats: Vec<SubtitleFormat>,
    /// The first cue's number (0, Transcribe's default, or 1).
    pub start_index: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub key: String,
    pub value: String,
}

/// A `StartTranscriptionJob` request, checked: everything a run needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct JobSpec {
    pub name: String,
    /// `Media.MediaFileUri` as given.
    pub media_file_uri: String,
    pub media: S3Object,
    pub media_format: Option<String>,
    pub media_sample_rate_hertz: Option<u32>,
    pub transcript: S3Object,
    pub language: Language,
    pub subtitles: Option<Subtitles>,
    pub tags: Option<Vec<Tag>>,
}

impl JobSpec {
    /// Where each subtitle file is written: beside the transcript, with its name.
    pub fn subtitle_objects(&self) -> Vec<(SubtitleFormat, S3Object)> {
        let formats = self.subtitles.iter().flat_map(|s| s.formats.iter().copied());
        formats
            .map(|format| {
                let key = subtitle_key(&self.transcript.key, format);
                (format, S3Object { bucket: self.transcript.bucket.clone(), key })
            })
            .collect()
    }
}

/// What the media turned out to be, as Transcribe reports it once it has read it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Detected {
    pub media_format: Option<String>,
    pub sample_rate: Option<u32>,
}

/// A job as kept: what was asked and where it stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Job {
    pub spec: JobSpec,
    pub status: JobStatus,
    pub created: DateTime<Utc>,
    pub completed: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    /// The language transcribed in: the one asked for, or the one identified.
    pub language_code: Option<String>,
    pub detected: Detected,
}

/// Transcribe's key for a job's transcript (StartTranscriptionJob, `OutputKey`): none, the job's
/// name as `<name>.json` in the bucket's root; a key ending in `.json`, that file; any other
/// key, a folder (with or without its closing `/`) holding `<name>.json`.
pub(super) fn transcript_key(job_name: &str, output_key: Option<&str>) -> String {
    match output_key.map(|k| k.trim_end_matches('/')).filter(|k| !k.is_empty()) {
        None => format!("{job_name}.json"),
        Some(key) if key.ends_with(".json") && output_key.is_some_and(|k| !k.ends_with('/')) => key.to_string(),
        Some(folder) => format!("{folder}/{job_name}.json"),
    }
}

/// A subtitle file's key: the transcript's, with the format's extension for `.json`.
pub(super) fn subtitle_key(transcript_key: &str, format: SubtitleFormat) -> String {
    let stem = transcript_key.strip_suffix(".json").unwrap_or(transcript_key);
    format!("{stem}.{}", format.extension())
}

/// JSON 1.1 timestamps are epoch seconds, as numbers.
fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MediaView<'a> {
    media_file_uri: &'a str,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TranscriptView {
    transcript_file_uri: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubtitlesView {
    formats: Vec<SubtitleFormat>,
    output_start_index: u32,
    subtitle_file_uris: Option<Vec<String>>,
}

/// The settings a described job shows: the stand-in takes none, so Transcribe's defaults.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SettingsView {
    channel_identification: bool,
    show_alternatives: bool,
}

/// `TranscriptionJob`.
#[serde_with::skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct JobView<'a> {
    transcription_job_name: &'a str,
    transcription_job_status: JobStatus,
    language_code: Option<&'a str>,
    media_sample_rate_hertz: Option<u32>,
    media_format: Option<&'a str>,
    media: MediaView<'a>,
    transcript: Option<TranscriptView>,
    start_time: f64,
    creation_time: f64,
    completion_time: Option<f64>,
    failure_reason: Option<&'a str>,
    settings: Option<SettingsView>,
    identify_language: Option<bool>,
    language_options: Option<&'a [String]>,
    subtitles: Option<SubtitlesView>,
    tags: Option<&'a [Tag]>,
}

/// `TranscriptionJobSummary`, as ListTranscriptionJobs gives it.
#[serde_with::skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SummaryView<'a> {
    transcription_job_name: &'a str,
    creation_time: f64,
    start_time: f64,
    completion_time: Option<f64>,
    language_code: Option<&'a str>,
    transcription_job_status: JobStatus,
    failure_reason: Option<&'a str>,
    output_location_type: &'static str,
    identify_language: Option<bool>,
}

impl Job {
    /// The job as StartTranscriptionJob (`described` false) or GetTranscriptionJob (true)
    /// shows it: Transcribe's answer to a start leaves out the settings and the (empty)
    /// transcript location a description has.
    pub fn view(&self, described: bool) -> JobView<'_> {
        let spec = &self.spec;
        let completed = self.status == JobStatus::Completed;
        let identify = match &spec.language {
            Language::Identify(options) => Some(options.as_slice()),
            Language::Code(_) => None,
        };
        JobView {
            transcription_job_name: &spec.name,
            transcription_job_status: self.status,
            language_code: self.language_code.as_deref(),
            media_sample_rate_hertz: self.detected.sample_rate.or(spec.media_sample_rate_hertz),
            media_format: self.detected.media_format.as_deref().or(spec.media_format.as_deref()),
            media: MediaView { media_file_uri: &spec.media_file_uri },
            transcript: (described || completed)
                .then(|| TranscriptView { transcript_file_uri: completed.then(|| spec.transcript.https_uri()) }),
            // Transcribe starts a job as it takes it; one waiting for a slot here is under way
            // as far as the API tells.
            start_time: seconds(self.created),
            creation_time: seconds(self.created),
            completion_time: self.completed.map(seconds),
            failure_reason: self.failure_reason.as_deref(),
            settings: described.then_some(SettingsView { channel_identification: false, show_alternatives: false }),
            identify_language: identify.map(|_| true),
            language_options: identify.filter(|o| !o.is_empty()),
            subtitles: spec.subtitles.as_ref().map(|s| SubtitlesView {
                formats: s.formats.clone(),
                output_start_index: s.start_index,
                subtitle_file_uris: completed
                    .then(|| spec.subtitle_objects().iter().map(|(_, o)| o.https_uri()).collect()),
            }),
            tags: spec.tags.as_deref(),
        }
    }

    pub fn summary(&self) -> SummaryView<'_> {
        SummaryView {
            transcription_job_name: &self.spec.name,
            creation_time: seconds(self.created),
            start_time: seconds(self.created),
            completion_time: self.completed.map(seconds),
            language_code: self.language_code.as_deref(),
            transcription_job_status: self.status,
            failure_reason: self.failure_reason.as_deref(),
            output_location_type: "CUSTOMER_BUCKET",
            identify_language: matches!(self.spec.language, Language::Identify(_)).then_some(true),
        }
    }
}

/// Keeps `job` as it is now under `dir` (`<name>.json`), whole or not at all.
pub(super) fn keep(dir: Option<&Path>, job: &Job) {
    let Some(dir) = dir else { return };
    let path = dir.join(format!("{}.json", job.spec.name));
    let bytes = serde_json::to_vec(job).expect("jobs serialise");
    if let Err(error) = mediaflow_endpoint::files::write_whole(&path, &bytes) {
        tracing::warn!(job = %job.spec.name, path = %path.display(), %error, "could not keep a Transcribe job");
    }
}

/// Every job kept in `dir`, by name.
pub(super) fn load_all(dir: &Path) -> std::io::Result<std::collections::BTreeMap<String, Job>> {
    let jobs: Vec<Job> = mediaflow_endpoint::files::read_all(dir)?;
    Ok(jobs.into_iter().map(|job| (job.spec.name.clone(), job)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of StartTranscriptionJob's `OutputKey` in Transcribe's API reference.
    #[test]
    fn the_transcript_goes_where_output_key_says() {
        let job = "my-first-transcription";
        assert_eq!(transcript_key(job, None), "my-first-transcription.json");
        assert_eq!(transcript_key(job, Some("my-transcript.json")), "my-transcript.json");
        assert_eq!(transcript_key(job, Some("my-transcript")), "my-transcript/my-first-transcription.json");
        assert_eq!(transcript_key(job, Some("test-files/my-transcript.json")), "test-files/my-transcript.json");
        assert_eq!(
            transcript_key(job, Some("test-files/my-transcript")),
            "test-files/my-transcript/my-first-transcription.json"
        );
        assert_eq!(transcript_key(job, Some("test-files/")), "test-files/my-first-transcription.json");
        assert_eq!(transcript_key(job, Some("a.json/")), "a.json/my-first-transcription.json");
        assert_eq!(transcript_key(job, Some("/")), "my-first-transcription.json");
    }

    #[test]
    fn subtitles_lie_beside_the_transcript() {
        assert_eq!(subtitle_key("captions/talk.json", SubtitleFormat::Vtt), "captions/talk.vtt");
        assert_eq!(subtitle_key("captions/talk.json", SubtitleFormat::Srt), "captions/talk.srt");
    }
}
