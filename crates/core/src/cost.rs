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
//! It is an estimate: AWS's monthly volume discounts, reserved queues, add-on features (Dolby
//! Vision, …) and taxes are not in it.

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputCost {
    /// `<group name or type>/<name modifier or index>`.
    pub output: String,
    pub class: Class,
    pub high_frame_rate: bool,
    pub billed_seconds: u32,
    pub rate_per_minute: f64,
    pub cost: f64,
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
    for group in job.pointer("/Settings/OutputGroups").and_then(Value::as_array).into_iter().flatten() {
        let group_name = group["Name"]
            .as_str()
            .or_else(|| group.pointer("/OutputGroupSettings/Type").and_then(Value::as_str))
            .unwrap_or("group");
        for (i, output) in group["Outputs"].as_array().into_iter().flatten().enumerate() {
            let name = output["NameModifier"].as_str().map_or_else(|| i.to_string(), str::to_string);
            let video = &output["VideoDescription"];
            let (class, rate, high) = if video.is_null() {
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
                let high = frame_rate(video, source.frame_rate).is_some_and(|fps| fps > 30.0 + 1e-6);
                (class, if high { base * prices.high_frame_rate_multiplier } else { base }, high)
            };
            let cost = round(billed as f64 / 60.0 * rate);
            costs.push(OutputCost {
                output: format!("{group_name}/{name}"),
                class,
                high_frame_rate: high,
                billed_seconds: billed,
                rate_per_minute: rate,
                cost,
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
    }
}

/// To a millionth of the currency: what a sum of rates can carry without float noise.
fn round(amount: f64) -> f64 {
    (amount * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests;
