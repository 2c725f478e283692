//! Machine captions: whether an upload is transcribed, the `StartTranscriptionJob` request the
//! state machine sends Amazon Transcribe (or the stand-in) for it, where the caption is
//! published, and what Transcribe costs.
//!
//! The transcription starts as soon as the upload is probed and runs beside the transcode; the
//! state machine asks for its outcome once the media work is done (`AwaitCaptions`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::contract::{Asset, Container, ErrorInfo, Source};
use crate::keys::Folder;
use crate::probe::Probe;
use crate::publish::{digest, staged_key};

/// The shipped Transcribe price table.
pub const PRICES_JSON: &str = include_str!("../../../infra/transcribe-prices.json");

/// Transcribe's longest media: four hours (Amazon Transcribe quotas, batch).
pub const MAX_SECONDS: f64 = 4.0 * 3600.0;
/// Transcribe's largest media file: 2 GB.
pub const MAX_BYTES: u64 = 2_000_000_000;

/// The caption language when none is given: infra's `CaptionLanguage` default, and
/// `--caption-language`'s here.
pub const DEFAULT_LANGUAGE: &str = "en-US";

/// The language machine captions are made in: a Transcribe language code, or identified by
/// Transcribe from the sound (`auto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptionLanguage {
    Code(String),
    Identify,
}

impl std::str::FromStr for CaptionLanguage {
    type Err = crate::Error;

    /// `auto`, or a code of Transcribe's shape: `en-US`, `es-419`, `zh-CN`.
    fn from_str(s: &str) -> Result<CaptionLanguage, crate::Error> {
        if s == "auto" {
            return Ok(CaptionLanguage::Identify);
        }
        let (lang, region) = s.split_once('-').unwrap_or((s, ""));
        let valid = (2..=3).contains(&lang.len())
            && lang.bytes().all(|b| b.is_ascii_lowercase())
            && (2..=3).contains(&region.len())
            && region.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if valid {
            Ok(CaptionLanguage::Code(s.to_string()))
        } else {
            Err(crate::Error::InvalidInput(format!(
                "the caption language {s:?} is neither `auto` nor a Transcribe language code such as en-US"
            )))
        }
    }
}

/// The one setting: off, or on in a language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptionSettings {
    pub enabled: bool,
    pub language: CaptionLanguage,
    /// Starts every job's name (`APPLICATION_NAME`).
    pub application: String,
}

/// What `PlanCaptions` puts at `$.transcription`: the request to send, or why there is none.
/// The two `Catch`es of the start state add what Transcribe answered.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscriptionPlan {
    pub request: Option<StartTranscriptionJob>,
    /// The media's probed duration: what Transcribe bills.
    pub seconds: Option<f64>,
    /// Why this upload gets no machine caption.
    pub skipped: Option<Skipped>,
    /// Transcribe refused the request (`Transcribe.BadRequestException`: a language the
    /// recognizer lacks, media it cannot read; or `LimitExceededException` past every retry):
    /// the upload is published without the caption.
    pub refused: Option<ErrorInfo>,
    /// The job of this name exists already: a repeated start, whose first try went through.
    pub conflict: Option<ErrorInfo>,
}

/// Why an upload has no machine caption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, strum::Display)]
pub enum SkipReason {
    /// A container Transcribe does not read.
    MediaFormatUnsupported,
    /// Longer or larger than Transcribe takes.
    TooLong,
    /// Transcribe refused the start (a language it or the local model lacks, throttling past
    /// every retry).
    Refused,
    /// Transcribe ended the job FAILED.
    TranscriptionFailed,
    /// Transcribe heard no words.
    NoSpeech,
}

/// A [`SkipReason`] with what was said about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Skipped {
    pub reason: SkipReason,
    pub detail: String,
}

impl Skipped {
    pub fn new(reason: SkipReason, detail: impl Into<String>) -> Skipped {
        Skipped { reason, detail: detail.into() }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

/// The caption formats Transcribe writes beside its transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubtitleFormat {
    Vtt,
    Srt,
}

/// `StartTranscriptionJob`'s parameters, in the PascalCase the SDK integration takes.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StartTranscriptionJob {
    pub transcription_job_name: String,
    pub media: TranscribeMedia,
    pub output_bucket_name: String,
    /// The transcript's key; Transcribe writes the subtitles beside it, `.vtt` for `.json`.
    pub output_key: String,
    pub language_code: Option<String>,
    pub identify_language: Option<bool>,
    pub subtitles: SubtitleFormats,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TranscribeMedia {
    pub media_file_uri: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SubtitleFormats {
    pub formats: Vec<SubtitleFormat>,
}

/// Containers Transcribe reads (Amazon Transcribe Developer Guide, Data input and output: FLAC,
/// MP3, MP4, Ogg, WebM, AMR, WAV, M4A; classification knows no AMR). Others (QuickTime, AVI,
/// MPEG-TS, …) are skipped by name rather than sent to fail.
fn transcribe_reads(asset: &Asset) -> bool {
    match asset.container {
        Some(Container::Mp4 | Container::M4a | Container::Mp3 | Container::Wav | Container::Flac | Container::Ogg) => {
            true
        }
        // Matroska's first bytes are WebM's too; Transcribe takes only WebM.
        Some(Container::Matroska) => asset.name.extension.eq_ignore_ascii_case("webm"),
        _ => false,
    }
}

/// The plan for one upload, `None` when the setting is off or the upload has no sound: then
/// nothing about machine captions is recorded. The job is named by the application (which the
/// template's IAM scopes to) and the execution, so a repeated `PlanCaptions` names the same job
/// and a repeated start answers `ConflictException`.
pub fn plan(
    source: &Source,
    asset: &Asset,
    probe: &Probe,
    execution_id: &str,
    settings: &CaptionSettings,
) -> Option<TranscriptionPlan> {
    if !settings.enabled || probe.audio.is_empty() {
        return None;
    }
    let skip = |reason, detail: String| {
        Some(TranscriptionPlan { skipped: Some(Skipped::new(reason, detail)), ..Default::default() })
    };
    if !transcribe_reads(asset) {
        let container = asset.container.map_or("an unrecognised container", Container::describe);
        let detail = format!("Transcribe reads FLAC, MP3, MP4, M4A, Ogg, WebM and WAV, not {container}");
        return skip(SkipReason::MediaFormatUnsupported, detail);
    }
    if probe.duration_seconds.is_some_and(|d| d > MAX_SECONDS) || source.size > MAX_BYTES {
        return skip(SkipReason::TooLong, "Transcribe takes media of up to 4 hours and 2 GB".into());
    }
    let job = format!("{}-{}", settings.application, &digest(&[execution_id])[..40]);
    let (language_code, identify_language) = match &settings.language {
        CaptionLanguage::Code(code) => (Some(code.clone()), None),
        CaptionLanguage::Identify => (None, Some(true)),
    };
    Some(TranscriptionPlan {
        request: Some(StartTranscriptionJob {
            media: TranscribeMedia { media_file_uri: format!("s3://{}/{}", source.bucket, source.key) },
            output_bucket_name: source.bucket.clone(),
            // In the staging folder, apart from the public keys: the transcript is read, not published.
            output_key: staged_key(source, &format!(".transcribe/{job}.json")),
            transcription_job_name: job,
            language_code,
            identify_language,
            subtitles: SubtitleFormats { formats: vec![SubtitleFormat::Vtt] },
        }),
        seconds: probe.duration_seconds,
        ..Default::default()
    })
}

/// The public key of an upload's machine caption in `language` (as Transcribe names it,
/// `en-US`): `closed-caption/<dir>/<stem>.<language>.auto.vtt`, beside an uploaded
/// `<stem>.vtt` or `<stem>.<lang>.vtt`, which `.auto` keeps apart.
pub fn caption_key(asset: &Asset, language: &str) -> String {
    let dir = if asset.name.dir.is_empty() { String::new() } else { format!("{}/", asset.name.dir) };
    format!("{}{dir}{}.{language}.auto.vtt", Folder::ClosedCaption.prefix(), asset.name.stem)
}

/// Transcribe's prices: per second of media, with a minimum per job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscribePrices {
    pub as_of: String,
    pub region: String,
    pub currency: String,
    pub source: String,
    /// Batch transcription, standard, the first pricing tier.
    pub per_minute: f64,
    pub minimum_seconds: u32,
}

impl TranscribePrices {
    pub fn shipped() -> TranscribePrices {
        serde_json::from_str(PRICES_JSON).expect("infra/transcribe-prices.json is a valid price table")
    }
}

/// What one transcription costs on AWS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscriptionCost {
    pub billed_seconds: u32,
    pub rate_per_minute: f64,
    pub cost: f64,
    pub currency: String,
    pub prices_as_of: String,
    pub region: String,
}

/// Transcribe bills each second of the media, at least `minimum_seconds` per job.
pub fn cost(seconds: f64, prices: &TranscribePrices) -> TranscriptionCost {
    let billed = (seconds.max(0.0).ceil() as u32).max(prices.minimum_seconds);
    TranscriptionCost {
        billed_seconds: billed,
        rate_per_minute: prices.per_minute,
        cost: f64::from(billed) / 60.0 * prices.per_minute,
        currency: prices.currency.clone(),
        prices_as_of: prices.as_of.clone(),
        region: prices.region.clone(),
    }
}

/// A machine caption, staged for publication (`$.autoCaption`), or why there is none.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MachineCaption {
    /// The public key (staged under the upload's staging folder until published); none when
    /// skipped.
    pub key: Option<String>,
    /// The language Transcribe transcribed in (`en-US`).
    pub language: Option<String>,
    #[serde(default)]
    pub cues: u32,
    #[serde(default)]
    pub words: u32,
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// What Transcribe bills, when it ran.
    pub cost: Option<TranscriptionCost>,
    /// Why there is no caption.
    pub skipped: Option<Skipped>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{AssetKind, AssetName};

    fn asset(container: Container, extension: &str) -> Asset {
        Asset {
            kind: AssetKind::Video,
            name: AssetName {
                dir: "talks".into(),
                name: format!("intro.{extension}"),
                stem: "intro".into(),
                extension: extension.into(),
                language: None,
            },
            container: Some(container),
            caption_format: None,
            chunk: None,
            reason: None,
            duplicate_of: None,
        }
    }

    fn probe(audio: bool, seconds: f64) -> Probe {
        let mut p: Probe = serde_json::from_value(serde_json::json!({
            "container": "mov,mp4,m4a,3gp,3g2,mj2", "durationSeconds": seconds,
            "audio": [{"codec": "aac", "channels": 2, "sampleRate": 48000}]
        }))
        .unwrap();
        if !audio {
            p.audio.clear();
        }
        p
    }

    fn on(language: &str) -> CaptionSettings {
        CaptionSettings { enabled: true, language: language.parse().unwrap(), application: "mediaflow".into() }
    }

    #[test]
    fn a_video_with_sound_is_transcribed_into_its_staging_folder_under_a_name_of_its_execution() {
        let source = Source::new("watch", "inputs/talks/intro.mp4", 1000, "e1");
        let plan = plan(&source, &asset(Container::Mp4, "mp4"), &probe(true, 60.0), "arn:x:1", &on("en-US")).unwrap();
        let request = plan.request.unwrap();
        assert_eq!(request.media.media_file_uri, "s3://watch/inputs/talks/intro.mp4");
        assert_eq!(request.output_bucket_name, "watch");
        assert!(request.output_key.starts_with(crate::publish::STAGING_PREFIX), "{}", request.output_key);
        assert!(request.output_key.ends_with(&format!("/.transcribe/{}.json", request.transcription_job_name)));
        assert_eq!(request.language_code.as_deref(), Some("en-US"));
        assert_eq!(request.identify_language, None);
        let name = &request.transcription_job_name;
        assert!(name.starts_with("mediaflow-"), "{name}");
        assert!(name.len() <= 200 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
        // The same execution names the same job; another execution another.
        let again = super::plan(&source, &asset(Container::Mp4, "mp4"), &probe(true, 60.0), "arn:x:1", &on("en-US"));
        assert_eq!(again.unwrap().request.unwrap().transcription_job_name, *name);
        let other = super::plan(&source, &asset(Container::Mp4, "mp4"), &probe(true, 60.0), "arn:x:2", &on("en-US"));
        assert_ne!(other.unwrap().request.unwrap().transcription_job_name, *name);
        // The request serialises as StartTranscriptionJob's members.
        let json = serde_json::to_value(
            super::plan(&source, &asset(Container::Mp4, "mp4"), &probe(true, 1.0), "a", &on("auto")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["request"]["IdentifyLanguage"], true);
        assert!(json["request"].get("LanguageCode").is_none());
        assert_eq!(json["request"]["Subtitles"]["Formats"][0], "vtt");
    }

    #[test]
    fn nothing_is_planned_when_off_or_silent_and_what_transcribe_cannot_take_is_skipped_by_name() {
        let source = Source::new("watch", "inputs/a.mov", 1000, "e1");
        let off = CaptionSettings { enabled: false, ..on("auto") };
        assert_eq!(plan(&source, &asset(Container::Mp4, "mp4"), &probe(true, 9.0), "x", &off), None);
        assert_eq!(plan(&source, &asset(Container::Mp4, "mp4"), &probe(false, 9.0), "x", &on("en-US")), None);
        let mov = plan(&source, &asset(Container::QuickTime, "mov"), &probe(true, 9.0), "x", &on("en-US")).unwrap();
        assert!(mov.request.is_none() && mov.skipped.unwrap().reason == SkipReason::MediaFormatUnsupported);
        let mkv = plan(&source, &asset(Container::Matroska, "mkv"), &probe(true, 9.0), "x", &on("en-US")).unwrap();
        assert!(mkv.skipped.is_some());
        let webm = plan(&source, &asset(Container::Matroska, "webm"), &probe(true, 9.0), "x", &on("en-US")).unwrap();
        assert!(webm.request.is_some());
        let long = plan(&source, &asset(Container::Mp4, "mp4"), &probe(true, 5.0 * 3600.0), "x", &on("en-US")).unwrap();
        assert_eq!(long.skipped.unwrap().reason, SkipReason::TooLong);
    }

    #[test]
    fn languages_are_transcribe_codes_or_auto() {
        for good in ["en-US", "es-419", "zh-CN", "auto"] {
            assert!(good.parse::<CaptionLanguage>().is_ok(), "{good}");
        }
        for bad in ["", "en", "EN-us", "english", "en_US", "en-US-x"] {
            assert!(bad.parse::<CaptionLanguage>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_caption_sits_beside_uploaded_ones_and_transcribe_bills_seconds_with_a_minimum() {
        assert_eq!(caption_key(&asset(Container::Mp4, "mp4"), "en-US"), "closed-caption/talks/intro.en-US.auto.vtt");
        let prices = TranscribePrices::shipped();
        let short = cost(3.2, &prices);
        assert_eq!(short.billed_seconds, prices.minimum_seconds);
        let minute = cost(59.1, &prices);
        assert_eq!(minute.billed_seconds, 60);
        assert!((minute.cost - prices.per_minute).abs() < 1e-12);
    }
}
