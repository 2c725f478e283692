//! What the pipeline would do with one upload, decided all at once: the answer `mediaflow plan`
//! prints, from the same pieces the functions use one state at a time.

use serde::Serialize;
use serde_json::Value;

use crate::contract::{Asset, AssetKind, JobPlan, Source};
use crate::cost::{self, Billable, PriceTable};
use crate::error::Error;
use crate::job::{self, JobTarget, SourceMedia};
use crate::keys::SourceKey;
use crate::probe::Probe;
use crate::transcription::{self, CaptionLanguage, CaptionSettings, TranscribePrices, TranscriptionCost};
use crate::{storyboard, templates, thumbnail};

/// Where the pipeline reads and writes, and its settings.
#[derive(Clone, Debug)]
pub struct PlanConfig {
    pub watch_bucket: String,
    pub public_bucket: String,
    pub frame_seconds: f64,
    /// The upload's staging folder in the watch bucket, where MediaConvert writes until the
    /// Publish step makes the set public; `None` shows the job writing to the public bucket.
    pub staging: Option<String>,
    /// What MediaConvert charges, for the job's cost estimate.
    pub prices: PriceTable,
    /// Machine captions, as the `AutoCaptions` setting makes them (none when off).
    pub captions: Option<CaptionSettings>,
    /// What Transcribe charges.
    pub transcribe_prices: TranscribePrices,
}

impl PlanConfig {
    /// The pipeline's defaults between these buckets: the frame at 7 s, no staging folder and
    /// the shipped price table.
    pub fn new(watch_bucket: &str, public_bucket: &str) -> Self {
        PlanConfig {
            watch_bucket: watch_bucket.into(),
            public_bucket: public_bucket.into(),
            frame_seconds: thumbnail::DEFAULT_FRAME_SECONDS,
            staging: None,
            prices: PriceTable::shipped(),
            captions: None,
            transcribe_prices: TranscribePrices::shipped(),
        }
    }
}

/// The job template for a probed source: video, or audio only.
pub fn template_for(probe: &Probe) -> (&'static str, Value) {
    if probe.video.is_some() {
        (templates::VIDEO_NAME, templates::video())
    } else {
        (templates::AUDIO_NAME, templates::audio())
    }
}

/// The key MediaConvert appends the storyboard frames' name modifier and numbers to: in the
/// upload's staging folder (`staging`), apart from the outputs that become public.
pub fn storyboard_frames(staging: &str, key: &SourceKey) -> String {
    format!("{staging}{}{}", storyboard::FRAMES_FOLDER, key.stem())
}

/// The job for a probed source from `template` (named `template_name`).
pub fn job_for(
    key: &SourceKey,
    probe: &Probe,
    template_name: &str,
    template: &Value,
    config: &PlanConfig,
) -> Result<JobPlan, Error> {
    let input_url = format!("s3://{}/{}", config.watch_bucket, key.key());
    let base_key = key.rendition_base();
    let (bucket, staging) = match &config.staging {
        Some(prefix) => (config.watch_bucket.as_str(), prefix.as_str()),
        None => (config.public_bucket.as_str(), ""),
    };
    let target = JobTarget { input_url: &input_url, bucket, staging, base_key: &base_key };
    let media = SourceMedia { display_size: probe.display_size(), has_audio: !probe.audio.is_empty() };
    let mut plan = job::build_job(template, template_name, target, media)?;
    if let Some((width, height)) = probe.display_size() {
        let frames = storyboard_frames(staging, key);
        let frames_prefix = format!("{frames}{}", storyboard::NAME_MODIFIER);
        if let Some(board) = storyboard::plan(probe.duration_seconds, width, height, frames_prefix) {
            let group = storyboard::frame_capture_group(&board, &format!("s3://{bucket}/{frames}"));
            if let Some(groups) = plan.job.pointer_mut("/Settings/OutputGroups").and_then(Value::as_array_mut) {
                groups.push(group);
            }
            plan.storyboard = Some(board);
        }
    }
    let billable = Billable {
        seconds: probe.duration_seconds.unwrap_or_default(),
        frame_rate: probe.video.as_ref().and_then(|v| v.frame_rate),
        size: probe.display_size(),
    };
    plan.cost = Some(cost::estimate(&plan.job, billable, &config.prices));
    Ok(plan)
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FramePlan {
    pub key: String,
    pub at_seconds: f64,
    pub width: u32,
    pub height: u32,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadPlan {
    pub key: String,
    pub asset: Asset,
    pub probe: Option<Probe>,
    pub thumbnail: Option<FramePlan>,
    pub job: Option<JobPlan>,
    /// The machine caption, when the setting is on and the upload has sound.
    pub captions: Option<CaptionPlan>,
    /// Every key the pipeline would write in the public bucket.
    pub outputs: Vec<String>,
}

/// What machine captions would be made, and what Transcribe would cost.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptionPlan {
    /// The caption's public key; none when Transcribe identifies the language.
    pub key: Option<String>,
    pub cost: Option<TranscriptionCost>,
    /// Why the upload would get no machine caption.
    pub skipped: Option<transcription::Skipped>,
}

/// Whether the pipeline probes an upload of this kind.
pub fn needs_probe(asset: &Asset) -> bool {
    matches!(asset.kind, AssetKind::Video | AssetKind::Audio | AssetKind::Mp3)
}

/// The whole plan for an upload; `probe` is required when [`needs_probe`] says so.
/// `template` overrides the shipped template of the source's kind.
pub fn plan_upload(
    key: &SourceKey,
    asset: Asset,
    probe: Option<Probe>,
    template: Option<(&str, &Value)>,
    config: &PlanConfig,
) -> Result<UploadPlan, Error> {
    let mut plan = UploadPlan {
        key: key.key().to_string(),
        asset,
        probe: None,
        thumbnail: None,
        job: None,
        captions: None,
        outputs: Vec::new(),
    };
    if !needs_probe(&plan.asset) {
        if plan.asset.kind == AssetKind::Caption {
            plan.outputs.push(key.caption_key());
        }
        return Ok(plan);
    }
    let probe = probe.ok_or_else(|| Error::InvalidInput("media needs a probe result to plan".into()))?;
    if plan.asset.kind == AssetKind::Mp3 {
        plan.outputs.push(key.mp3_key());
    } else {
        plan.outputs.push(key.original_key());
        let (name, shipped) = template_for(&probe);
        let (name, template) = template.unwrap_or((name, &shipped));
        let job = job_for(key, &probe, name, template, config)?;
        plan.outputs.extend(job.outputs.iter().map(|o| o.key.clone()));
        plan.job = Some(job);
        if let Some((w, h)) = probe.display_size() {
            let (width, height) = thumbnail::frame_size(w, h);
            plan.thumbnail = Some(FramePlan {
                key: key.thumbnail_key(),
                at_seconds: thumbnail::frame_time(probe.duration_seconds, config.frame_seconds),
                width,
                height,
            });
            plan.outputs.push(key.thumbnail_key());
        }
    }
    if let Some(settings) = &config.captions {
        let source = Source::new(&config.watch_bucket, key.key(), probe.size.unwrap_or_default(), "");
        plan.captions = transcription::plan(&source, &plan.asset, &probe, "plan", settings).map(|t| {
            let caption_key = match (&t.request, &settings.language) {
                (Some(_), CaptionLanguage::Code(code)) => Some(transcription::caption_key(&plan.asset, code)),
                _ => None,
            };
            let cost = t
                .request
                .as_ref()
                .map(|_| transcription::cost(t.seconds.unwrap_or_default(), &config.transcribe_prices));
            CaptionPlan { key: caption_key, cost, skipped: t.skipped }
        });
        plan.outputs.extend(plan.captions.iter().filter_map(|c| c.key.clone()));
    }
    plan.outputs.push(key.metadata_key());
    plan.probe = Some(probe);
    Ok(plan)
}
