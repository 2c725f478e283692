//! Worked examples with the shipped table's rates (us-east-1 on-demand, AVC, up to 30 fps,
//! as `infra/mediaconvert-prices.json` states them from AWS's pricing page): Basic SD
//! $0.0075/min, HD $0.015/min, UHD $0.030/min; Professional SD $0.012/min, HD $0.024/min,
//! UHD $0.048/min; audio-only $0.003/min; ×2 above 30 fps; billed per second, 10 s minimum;
//! no rate for audio normalization (AWS's was not found: the table says so).

use crate::Named;
use serde_json::json;

use super::*;
use crate::keys::SourceKey;
use crate::plan::{PlanConfig, job_for};
use crate::probe::{Probe, parse_ffprobe};
use crate::templates;

fn shipped() -> PriceTable {
    PriceTable::shipped()
}

fn source(seconds: f64, fps: f64) -> Billable {
    Billable { seconds, frame_rate: Some(fps), size: Some((1920, 1080)) }
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn the_shipped_table_states_its_date_region_and_source() {
    let table = shipped();
    assert_eq!((table.region.as_str(), table.currency.as_str()), ("us-east-1", "USD"));
    assert!(table.source.contains("aws.amazon.com/mediaconvert/pricing"), "{}", table.source);
    assert!(chrono::NaiveDate::parse_from_str(&table.as_of, "%Y-%m-%d").is_ok(), "{}", table.as_of);
}

/// A 10-minute 1080p upload through the shipped video template: four rungs at Basic, two SD
/// (360p, 480p) at $0.0075 and two HD (720p, 1080p) at $0.015, 10 minutes each:
/// 10 × (0.0075 + 0.0075 + 0.015 + 0.015) = $0.45.
#[test]
fn ten_minutes_of_the_shipped_ladder_cost_forty_five_cents_at_basic() {
    let estimate = estimate(&templates::video(), source(600.0, 25.0), &shipped());
    assert_eq!(estimate.tier, Tier::Basic);
    assert!(estimate.professional_features.is_empty());
    let classes: Vec<Class> = estimate.outputs.iter().map(|o| o.class).collect();
    assert_eq!(classes, [Class::Sd, Class::Sd, Class::Hd, Class::Hd]);
    assert!(estimate.outputs.iter().all(|o| o.billed_seconds == 600));
    close(estimate.total, 0.45);
}

/// Above 30 fps the rates double: a 60 fps 1-minute 720p output is 2 × $0.015 = $0.03.
#[test]
fn above_thirty_frames_a_second_the_rate_doubles() {
    let job = json!({"Settings": {"OutputGroups": [{"Name": "File Group", "Outputs": [
        {"NameModifier": "_720p", "VideoDescription": {"Width": 1280, "Height": 720,
            "CodecSettings": {"Codec": "H_264", "H264Settings": {}}}}]}]}});
    let at_60 = estimate(&job, source(60.0, 59.94), &shipped());
    assert!(at_60.outputs[0].high_frame_rate);
    close(at_60.total, 0.03);
    close(estimate(&job, source(60.0, 30.0), &shipped()).total, 0.015);
}

/// Multi-pass HQ makes the job Professional, named: 3 hours at 1080p is 180 × $0.024 = $4.32.
#[test]
fn a_professional_feature_is_named_and_priced_at_professional() {
    let job = json!({"Settings": {"OutputGroups": [{"Name": "File Group", "Outputs": [
        {"NameModifier": "_1080p", "VideoDescription": {"Width": 1920, "Height": 1080,
            "CodecSettings": {"Codec": "H_264", "H264Settings": {"QualityTuningLevel": "MULTI_PASS_HQ"}}}}]}]}});
    let e = estimate(&job, source(3.0 * 3600.0, 25.0), &shipped());
    assert_eq!(e.tier, Tier::Professional);
    assert_eq!(e.professional_features, ["AVC multi-pass HQ (QualityTuningLevel MULTI_PASS_HQ)"]);
    close(e.total, 4.32);
    let hevc = json!({"Settings": {"OutputGroups": [{"Outputs": [
        {"VideoDescription": {"Width": 3840, "Height": 2160, "CodecSettings": {"Codec": "H_265"}}}]}]}});
    let e = estimate(&hevc, source(60.0, 25.0), &shipped());
    assert_eq!(e.professional_features, ["the H_265 codec"]);
    assert_eq!(e.outputs[0].class, Class::Uhd);
    close(e.total, 0.048);
}

/// The audio template's one MP3 is audio-only: 4.5 minutes at $0.003 = $0.0135. A 3-second
/// clip is billed the 10-second minimum: 10/60 × $0.003 = $0.0005.
#[test]
fn audio_only_outputs_have_their_rate_and_every_output_a_minimum() {
    let audio = Billable { seconds: 270.0, frame_rate: None, size: None };
    let e = estimate(&templates::audio(), audio, &shipped());
    assert_eq!(e.outputs[0].class, Class::AudioOnly);
    close(e.total, 0.0135);
    let short = estimate(&templates::audio(), Billable { seconds: 3.0, ..audio }, &shipped());
    assert_eq!(short.outputs[0].billed_seconds, 10);
    close(short.total, 0.0005);
    assert_eq!(billed_seconds(61.2, &shipped().billing), 62, "whole seconds, rounded up");
}

#[test]
fn resolution_classes_go_by_the_short_side() {
    assert_eq!(class_of(854, 480), Class::Sd);
    assert_eq!(class_of(1280, 720), Class::Hd);
    assert_eq!(class_of(1080, 1920), Class::Hd, "portrait 1080p");
    assert_eq!(class_of(2560, 1440), Class::Uhd);
}

#[test]
fn a_broken_table_is_a_configuration_error() {
    let err = PriceTable::parse(r#"{"asOf": "2024-12-01"}"#).unwrap_err();
    assert_eq!(err.name(), crate::ErrorName::Configuration);
}

/// ffprobe's answer for a 60-second 1920×1080 H.264 upload at `fps` with stereo AAC.
fn probe_1080p(fps: u32) -> Probe {
    let json = json!({
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "60.000000", "size": "31457280"},
        "streams": [
            {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
             "avg_frame_rate": format!("{fps}/1"), "pix_fmt": "yuv420p"},
            {"codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "48000"}
        ]
    });
    parse_ffprobe(json.to_string().as_bytes()).unwrap()
}

/// The estimate of the job the pipeline builds for `probe` from `template`, with `prices`.
fn planned(probe: &Probe, template: &Value, prices: PriceTable) -> CostEstimate {
    let key = SourceKey::parse("inputs/talk.mp4").unwrap();
    let config = PlanConfig { prices, ..PlanConfig::new("watch", "public") };
    job_for(&key, probe, templates::VIDEO_NAME, template, &config).unwrap().cost.unwrap()
}

/// The shipped table with a rate for audio normalization. $0.001/min is a test value, not AWS's.
fn with_normalization_rate() -> PriceTable {
    let mut table = shipped();
    table.per_minute.audio_normalization = Some(0.001);
    table
}

fn without_normalization(mut job: Value) -> Value {
    for group in job["Settings"]["OutputGroups"].as_array_mut().unwrap() {
        for output in group["Outputs"].as_array_mut().unwrap() {
            for audio in output["AudioDescriptions"].as_array_mut().into_iter().flatten() {
                audio.as_object_mut().unwrap().remove("AudioNormalizationSettings");
            }
        }
    }
    job
}

/// A 60 s 1080p upload at 60 fps: the four rungs take the source's 60 fps and double
/// (2 × (0.0075 + 0.0075 + 0.015 + 0.015) = $0.09); the storyboard's frames (160×90 JPEGs, one a
/// second) are one SD output at the Basic rate, not doubled: 1 min × $0.0075. Total $0.0975.
#[test]
fn storyboard_frames_bill_as_one_sd_output_never_doubled() {
    let e = planned(&probe_1080p(60), &templates::video(), shipped());
    assert_eq!(e.tier, Tier::Basic, "{:?}", e.professional_features);
    let frames: Vec<&OutputCost> = e.outputs.iter().filter(|o| o.frame_capture).collect();
    assert_eq!(frames.len(), 1, "{:#?}", e.outputs);
    let frames = frames[0];
    assert_eq!(frames.output, "Storyboard frames/_storyboard");
    assert_eq!((frames.class, frames.high_frame_rate, frames.billed_seconds), (Class::Sd, false, 60));
    close(frames.rate_per_minute, 0.0075);
    close(frames.cost, 0.0075);
    assert!(frames.add_ons.is_empty(), "stills have no audio");
    let rungs: Vec<&OutputCost> = e.outputs.iter().filter(|o| !o.frame_capture).collect();
    assert_eq!(rungs.len(), 4);
    assert!(rungs.iter().all(|o| o.high_frame_rate), "{rungs:#?}");
    close(e.total, 0.0975);
    // At 25 fps nothing doubles, the frames still cost the same: 0.045 + 0.0075.
    let e = planned(&probe_1080p(25), &templates::video(), shipped());
    assert!(e.outputs.iter().all(|o| !o.high_frame_rate));
    close(e.total, 0.0525);
}

/// Every rung normalizes its audio (ITU-R BS.1770-3 to -16 LKFS): one add-on per minute of each
/// of the four, none on the stills. The shipped table has no rate for it, so the total stays
/// $0.0975 and the estimate says what it left out; with a rate (here a test value of
/// $0.001/min) each rung's line carries it: 0.0975 + 4 × 0.001 = $0.1015.
#[test]
fn audio_normalization_is_an_add_on_per_normalized_output() {
    let e = planned(&probe_1080p(60), &templates::video(), shipped());
    let normalized: Vec<&OutputCost> = e.outputs.iter().filter(|o| !o.add_ons.is_empty()).collect();
    assert_eq!(normalized.len(), 4, "{:#?}", e.outputs);
    assert!(normalized.iter().all(|o| !o.frame_capture));
    let unpriced = AddOnRate { add_on: AddOn::AudioNormalization, rate_per_minute: None };
    assert!(normalized.iter().all(|o| o.add_ons == [unpriced.clone()]));
    close(e.total, 0.0975);
    assert_eq!(
        e.unpriced,
        ["audio normalization (AudioNormalizationSettings) on 4 outputs: the price table has no rate for it"]
    );
    assert!(e.source.contains("audioNormalization: "), "the table says why it has no rate: {}", e.source);

    let priced = planned(&probe_1080p(60), &templates::video(), with_normalization_rate());
    assert!(priced.unpriced.is_empty());
    let rung = priced.outputs.iter().find(|o| o.output.ends_with("_1080p")).unwrap();
    assert_eq!(rung.add_ons, [AddOnRate { add_on: AddOn::AudioNormalization, rate_per_minute: Some(0.001) }]);
    close(rung.rate_per_minute, 0.031);
    close(rung.cost, 0.031);
    close(priced.total, 0.1015);
}

/// A template without normalization estimates as before: no add-on, nothing unpriced, and none
/// of the new keys in the JSON, whatever the table says of normalization.
#[test]
fn a_template_without_normalization_is_unchanged() {
    let plain = without_normalization(templates::video());
    let e = estimate(&plain, source(600.0, 25.0), &shipped());
    close(e.total, 0.45);
    assert!(e.unpriced.is_empty());
    assert!(e.outputs.iter().all(|o| o.add_ons.is_empty() && !o.frame_capture));
    assert_eq!(e, estimate(&plain, source(600.0, 25.0), &with_normalization_rate()));
    let text = serde_json::to_string(&e).unwrap();
    for key in ["unpriced", "addOns", "frameCapture"] {
        assert!(!text.contains(&format!("\"{key}\":")), "{key} in {text}");
    }
    // An estimate written before these fields reads back.
    let old: CostEstimate = serde_json::from_str(&text).unwrap();
    assert_eq!(old, e);
}

/// A table written before the normalization rate still reads, without one.
#[test]
fn a_table_without_the_normalization_rate_still_reads() {
    let old = PRICES_JSON.replace(",\n    \"audioNormalization\": null", "");
    assert_ne!(old, PRICES_JSON);
    let table = PriceTable::parse(&old).unwrap();
    assert_eq!(table.per_minute.audio_normalization, None);
    assert_eq!(table.per_minute.audio_only, 0.003);
}
