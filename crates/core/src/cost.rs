//! What a MediaConvert job costs on AWS, estimated from its settings and the source's probed
//! duration, with a dated price table (`infra/mediaconvert-prices.json`, us-east-1 on-demand by
//! default; users put their own).
//!
//! MediaConvert bills every output separately, per minute of output, at a rate set by:
//! - the job's tier: Basic, unless the job uses a Professional feature (the estimate names it);
//! - the output's resolution class, by its short side: SD below 720 lines, HD up to 1080, UHD
//!   above; an output without video is audio-only, at its own rate;
//! - its frame rate: above 30 fps the video rate is multiplied (by 2 in AWS's table);
//! - its duration, in increments (1 s) with a minimum (10 s) per output.
//!
//! A frame capture output (`FRAME_CAPTURE`, JPEG stills) is billed as any other output: AWS bills
//! every output for its duration, and reports a frame capture's duration as the video's. No rate
//! of its own was found in AWS's material, so it takes the rate of its class (by its size, SD for
//! small stills) at the job's tier, and never the high-frame-rate factor: it takes one frame every
//! N seconds, whatever the source's rate.
//!
//! Audio normalization (`AudioNormalizationSettings`) is a per-minute fee on top ("If you use Dolby
//! audio encoding or audio normalization, AWS charges you per-minute billing fees", MediaConvert
//! User Guide, Working with queues): one add-on per minute of each output that normalizes, at the
//! table's `perMinute.audioNormalization`. A table without that rate leaves the fee out of the
//! total and names it in `unpriced`.
//!
//! It is an estimate: AWS's monthly volume discounts, reserved queues, the other add-on features
//! (Dolby Vision, …) and taxes are not in it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The shipped price table.
pub const PRICES_JSON: &str = include_str!("../../../infra/mediaconvert-prices.json");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceTable {
    /// The day the rates were read.
    pub as_of: String,
    pub region: String,
    pub currency: String,
    /// Where the rates come from.
    pub source: String,
    pub billing: Billing,
    pub per_minute: PerMinute,
    /// The factor for outputs above 30 fps.
    pub high_frame_rate_multiplier: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Billing {
    pub increment_seconds: u32,
    pub minimum_seconds: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerMinute {
    pub basic: ResolutionRates,
    pub professional: ResolutionRates,
    pub audio_only: f64,
    /// The add-on per minute of each output whose audio is normalized; `null` (or absent, as in
    /// tables written before it) when the rate is not known: the estimate then leaves it out.
    #[serde(default)]
    pub audio_normalization: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionRates {
    #[serde(rename = "SD")]
    pub sd: f64,
    #[serde(rename = "HD")]
    pub hd: f64,
    #[serde(rename = "UHD")]
    pub uhd: f64,
}

impl PriceTable {
    /// The shipped table.
    pub fn shipped() -> PriceTable {
        PriceTable::parse(PRICES_JSON).expect("infra/mediaconvert-prices.json is a price table (a test checks it)")
    }

    pub fn parse(text: &str) -> Result<PriceTable, crate::Error> {
        serde_json::from_str(text).map_err(|e| crate::Error::InvalidPrices(e.to_string()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Basic,
    Professional,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Class {
    #[serde(rename = "SD")]
    Sd,
    #[serde(rename = "HD")]
    Hd,
    #[serde(rename = "UHD")]
    Uhd,
    #[serde(rename = "audio")]
    AudioOnly,
}

/// The estimate of one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CostEstimate {
    pub total: f64,
    pub currency: String,
    pub tier: Tier,
    /// What makes the job Professional; empty for Basic.
    pub professional_features: Vec<String>,
    pub outputs: Vec<OutputCost>,
    /// The table's date, region and source.
    pub prices_as_of: String,
    pub region: String,
    pub source: String,
    /// What the job uses that the table has no rate for, each named once with how many outputs
    /// use it: `total` leaves it out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputCost {
    /// `<group name or type>/<name modifier or index>`.
    pub output: String,
    pub class: Class,
    pub high_frame_rate: bool,
    pub billed_seconds: u32,
    /// The output's rate with its priced add-ons.
    pub rate_per_minute: f64,
    pub cost: f64,
    /// JPEG stills (`FRAME_CAPTURE`), billed by their size, never above 30 fps.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frame_capture: bool,
    /// The per-minute add-ons the output uses, each with its rate (in `rate_per_minute`), or none
    /// when the table has no rate for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_ons: Vec<AddOnRate>,
}

/// A per-minute fee on top of an output's rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AddOn {
    AudioNormalization,
}

impl AddOn {
    fn describe(self) -> &'static str {
        match self {
            AddOn::AudioNormalization => "audio normalization (AudioNormalizationSettings)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddOnRate {
    pub add_on: AddOn,
    /// `None` when the table has no rate for it.
    pub rate_per_minute: Option<f64>,
}

/// The class of a picture of `width`×`height`, by its short side.
pub fn class_of(width: u32, height: u32) -> Class {
    match width.min(height) {
        0..720 => Class::Sd,
        720..=1080 => Class::Hd,
        _ => Class::Uhd,
    }
}

/// The seconds billed for an output of `seconds`: whole increments, at least the minimum.
pub fn billed_seconds(seconds: f64, billing: &Billing) -> u32 {
    let step = billing.increment_seconds.max(1) as f64;
    let stepped = ((seconds.max(0.0) / step).ceil() * step) as u32;
    stepped.max(billing.minimum_seconds)
}

/// The Professional features `job` (CreateJob JSON, PascalCase) uses, each named once.
pub fn professional_features(job: &Value) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |feature: String| {
        if !found.contains(&feature) {
            found.push(feature);
        }
    };
    if let Some(mode) = job.pointer("/AccelerationSettings/Mode").and_then(Value::as_str)
        && mode != "DISABLED"
    {
        add(format!("accelerated transcoding (AccelerationSettings.Mode {mode})"));
    }
    for output in outputs(job) {
        let video = &output["VideoDescription"];
        if video.is_null() {
            if let Some(codec) = output.pointer("/AudioDescriptions/0/CodecSettings/Codec").and_then(Value::as_str)
                && matches!(codec, "AC3" | "EAC3" | "EAC3_ATMOS")
            {
                add(format!("Dolby audio ({codec})"));
            }
            continue;
        }
        match video.pointer("/CodecSettings/Codec").and_then(Value::as_str) {
            Some("H_264") => {
                let tuning = video.pointer("/CodecSettings/H264Settings/QualityTuningLevel").and_then(Value::as_str);
                if tuning == Some("MULTI_PASS_HQ") {
                    add("AVC multi-pass HQ (QualityTuningLevel MULTI_PASS_HQ)".into());
                }
            }
            Some("VP8" | "VP9") | Some("FRAME_CAPTURE") | None => {}
            Some(codec) => add(format!("the {codec} codec")),
        }
        let pre = &video["VideoPreprocessors"];
        if pre.get("DolbyVision").is_some() {
            add("Dolby Vision (VideoPreprocessors.DolbyVision)".into());
        }
        if pre.get("HdrToSdrToneMapper").is_some()
            || pre.pointer("/ColorCorrector/ColorSpaceConversion").and_then(Value::as_str).is_some_and(|c| c != "NONE")
        {
            add("HDR and color space conversion (VideoPreprocessors.ColorCorrector)".into());
        }
        if pre.get("NoiseReducer").is_some() {
            add("noise reduction (VideoPreprocessors.NoiseReducer)".into());
        }
        let conversion =
            video.pointer("/CodecSettings/H264Settings/FramerateConversionAlgorithm").and_then(Value::as_str);
        if conversion == Some("FRAMEFORMER") {
            add("FrameFormer frame rate conversion".into());
        }
    }
    found
}

fn outputs(job: &Value) -> impl Iterator<Item = &Value> {
    job.pointer("/Settings/OutputGroups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|g| g["Outputs"].as_array().into_iter().flatten())
}

/// Whether an output normalizes the loudness of one of its audio tracks (measuring only is
/// counted too: it runs the same algorithm).
pub fn normalizes_audio(output: &Value) -> bool {
    output["AudioDescriptions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a.get("AudioNormalizationSettings").is_some_and(|n| !n.is_null()))
}

/// An output's frame rate: what its settings specify, else the source's.
fn frame_rate(video: &Value, source_fps: Option<f64>) -> Option<f64> {
    let h264 = video.pointer("/CodecSettings/H264Settings").or_else(|| {
        let codec = video.get("CodecSettings")?.as_object()?;
        codec.iter().find(|(k, _)| k.ends_with("Settings")).map(|(_, v)| v)
    });
    if let Some(settings) = h264
        && settings["FramerateControl"] == "SPECIFIED"
    {
        let numerator = settings["FramerateNumerator"].as_f64()?;
        let denominator = settings["FramerateDenominator"].as_f64().filter(|d| *d > 0.0)?;
        return Some(numerator / denominator);
    }
    source_fps
}

/// What of the source the bill depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Billable {
    pub seconds: f64,
    pub frame_rate: Option<f64>,
    /// Display size, for outputs that take the source's.
    pub size: Option<(u32, u32)>,
}

/// The cost of `job` for `source`, with `prices`.
pub fn estimate(job: &Value, source: Billable, prices: &PriceTable) -> CostEstimate {
    let features = professional_features(job);
    let tier = if features.is_empty() { Tier::Basic } else { Tier::Professional };
    let rates = match tier {
        Tier::Basic => &prices.per_minute.basic,
        Tier::Professional => &prices.per_minute.professional,
    };
    let billed = billed_seconds(source.seconds, &prices.billing);
    let mut costs = Vec::new();
    let mut unpriced: Vec<(AddOn, usize)> = Vec::new();
    for group in job.pointer("/Settings/OutputGroups").and_then(Value::as_array).into_iter().flatten() {
        let group_name = group["Name"]
            .as_str()
            .or_else(|| group.pointer("/OutputGroupSettings/Type").and_then(Value::as_str))
            .unwrap_or("group");
        for (i, output) in group["Outputs"].as_array().into_iter().flatten().enumerate() {
            let name = output["NameModifier"].as_str().map_or_else(|| i.to_string(), str::to_string);
            let video = &output["VideoDescription"];
            let frame_capture = crate::storyboard::is_frame_capture(output);
            let (class, base, high) = if video.is_null() {
                (Class::AudioOnly, prices.per_minute.audio_only, false)
            } else {
                // An output without a size takes the source's.
                let size = match (video["Width"].as_u64(), video["Height"].as_u64()) {
                    (Some(w), Some(h)) => Some((w as u32, h as u32)),
                    _ => source.size,
                };
                let class = size.map_or(Class::Hd, |(w, h)| class_of(w, h));
                let base = match class {
                    Class::Sd => rates.sd,
                    Class::Hd => rates.hd,
                    _ => rates.uhd,
                };
                // Stills are taken every N seconds: the source's frame rate is not theirs.
                let high = !frame_capture && frame_rate(video, source.frame_rate).is_some_and(|fps| fps > 30.0 + 1e-6);
                (class, if high { base * prices.high_frame_rate_multiplier } else { base }, high)
            };
            let mut add_ons = Vec::new();
            if normalizes_audio(output) {
                let rate = prices.per_minute.audio_normalization;
                if rate.is_none() {
                    match unpriced.iter_mut().find(|(a, _)| *a == AddOn::AudioNormalization) {
                        Some((_, n)) => *n += 1,
                        None => unpriced.push((AddOn::AudioNormalization, 1)),
                    }
                }
                add_ons.push(AddOnRate { add_on: AddOn::AudioNormalization, rate_per_minute: rate });
            }
            // Summed to a billionth, so 0.0075 + 0.0025 prints as 0.01.
            let rate = (base + add_ons.iter().filter_map(|a| a.rate_per_minute).sum::<f64>()) * 1e9;
            let rate = rate.round() / 1e9;
            let cost = round(billed as f64 / 60.0 * rate);
            costs.push(OutputCost {
                output: format!("{group_name}/{name}"),
                class,
                high_frame_rate: high,
                billed_seconds: billed,
                rate_per_minute: rate,
                cost,
                frame_capture,
                add_ons,
            });
        }
    }
    CostEstimate {
        total: round(costs.iter().map(|c| c.cost).sum()),
        currency: prices.currency.clone(),
        tier,
        professional_features: features,
        outputs: costs,
        prices_as_of: prices.as_of.clone(),
        region: prices.region.clone(),
        source: prices.source.clone(),
        unpriced: unpriced
            .into_iter()
            .map(|(add_on, n)| {
                let outputs = if n == 1 { "output" } else { "outputs" };
                format!("{} on {n} {outputs}: the price table has no rate for it", add_on.describe())
            })
            .collect(),
    }
}

/// To a millionth of the currency: what a sum of rates can carry without float noise.
fn round(amount: f64) -> f64 {
    (amount * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests;
