//! Worked examples with the shipped table's rates (us-east-1 on-demand, AVC, up to 30 fps,
//! as `infra/mediaconvert-prices.json` states them from AWS's pricing page): Basic SD
//! $0.0075/min, HD $0.015/min, UHD $0.030/min; Professional SD $0.012/min, HD $0.024/min,
//! UHD $0.048/min; audio-only $0.003/min; ×2 above 30 fps; billed per second, 10 s minimum.

use crate::Named;
use serde_json::json;

use super::*;
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
