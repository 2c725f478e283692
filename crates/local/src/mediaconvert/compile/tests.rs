//! The compiler against the shipped templates, and the settings it refuses by their path.

use mediaflow_core::mediaconvert::to_wire;
use serde_json::json;

use super::*;

fn request(template: Value) -> Value {
    let mut job = template;
    job["Settings"]["Inputs"][0]["FileInput"] = json!("s3://watch/inputs/talk.mp4");
    job["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"] =
        json!("s3://public/audiovideo/talk");
    job["Role"] = json!("arn:aws:iam::123456789012:role/mc");
    job["UserMetadata"] = json!({"application": "mediaflow", "ref": "r1"});
    to_wire(&job)
}

#[test]
fn the_shipped_video_template_is_one_run_with_four_renditions() {
    let compiled = compile(&request(mediaflow_core::templates::video()), "talk.mp4").unwrap();
    let names: Vec<&str> = compiled.outputs.iter().map(|o| o.destination.as_str()).collect();
    assert_eq!(
        names,
        [
            "s3://public/audiovideo/talk_360p.mp4",
            "s3://public/audiovideo/talk_480p.mp4",
            "s3://public/audiovideo/talk_720p.mp4",
            "s3://public/audiovideo/talk_1080p.mp4"
        ]
    );
    assert_eq!(compiled.outputs[3].video, Some((1920, 1080)));
    let args = compiled.args.join(" ");
    assert!(args.starts_with("-filter_complex [0:v:0]split=4[s0][s1][s2][s3];[s0]scale=640:360"), "{args}");
    assert!(args.contains("-crf 23 -maxrate 1000000 -bufsize 2000000"), "{args}");
    assert!(args.contains("-c:a aac -b:a 96000 -ar 48000 -ac 2"), "{args}");
    assert_eq!(args.matches("-f mp4").count(), 4);
}

#[test]
fn the_shipped_audio_template_makes_one_mp3() {
    let compiled = compile(&request(mediaflow_core::templates::audio()), "talk.wav").unwrap();
    assert_eq!(compiled.outputs.len(), 1);
    assert_eq!(compiled.outputs[0].destination, "s3://public/audiovideo/talk.mp3");
    let args = compiled.args.join(" ");
    assert!(args.contains("-vn") && args.contains("-c:a libmp3lame -b:a 192000 -ar 48000 -ac 2 -f mp3"), "{args}");
}

#[test]
fn a_setting_it_cannot_honour_is_refused_by_its_path() {
    let refused = |edit: &dyn Fn(&mut Value), setting: &str| {
        let mut job = mediaflow_core::templates::video();
        edit(&mut job);
        let err = compile(&request(job), "talk.mp4").unwrap_err();
        assert_eq!(err.setting, setting, "{err}");
    };
    fn first(job: &mut Value) -> &mut Value {
        &mut job["Settings"]["OutputGroups"][0]["Outputs"][0]
    }
    refused(
        &|j| first(j)["VideoDescription"]["CodecSettings"]["Codec"] = json!("H_265"),
        "settings.outputGroups[0].outputs[0].videoDescription.codecSettings.codec",
    );
    refused(
        &|j| first(j)["VideoDescription"]["Sharpness"] = json!(100),
        "settings.outputGroups[0].outputs[0].videoDescription.sharpness",
    );
    refused(
        &|j| first(j)["VideoDescription"]["VideoPreprocessors"] = json!({"Deinterlacer": {"Mode": "DEINTERLACE"}}),
        "settings.outputGroups[0].outputs[0].videoDescription.videoPreprocessors.deinterlacer.mode",
    );
    refused(
        &|j| j["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["Type"] = json!("CMAF_GROUP_SETTINGS"),
        "settings.outputGroups[0].outputGroupSettings.type",
    );
    refused(&|j| j["AccelerationSettings"]["Mode"] = json!("ENABLED"), "accelerationSettings.mode");
}

#[test]
fn the_hls_template_adds_a_variant_per_rung_named_as_mediaconvert_names_them() {
    let mut job = mediaflow_core::templates::hls();
    job["Settings"]["OutputGroups"][1]["OutputGroupSettings"]["HlsGroupSettings"]["Destination"] =
        json!("s3://public/audiovideo/talk");
    let compiled = compile(&request(job.clone()), "talk.mp4").unwrap();
    assert_eq!(
        compiled.groups[1],
        Group { kind: "HLS_GROUP", master: Some("s3://public/audiovideo/talk.m3u8".into()) }
    );
    let hls: Vec<&Output> = compiled.outputs.iter().filter(|o| o.hls).collect();
    assert_eq!(hls.len(), 4);
    assert_eq!(hls[0].destination, "s3://public/audiovideo/talk_360p.m3u8");
    let args = compiled.args.join(" ");
    assert!(args.contains("-hls_time 6 -hls_flags independent_segments -hls_segment_filename hls-4/talk_360p_%05d.ts hls-4/talk_360p.m3u8"), "{args}");
    assert_eq!(args.matches("-sc_threshold 0").count(), 4, "no scene-cut keyframes in the ladder: {args}");
    assert!(args.starts_with("-filter_complex [0:v:0]split=8"), "one decode for all eight outputs: {args}");

    let hls_settings = "/Settings/OutputGroups/1/OutputGroupSettings/HlsGroupSettings";
    job.pointer_mut(hls_settings).unwrap()["SegmentLengthControl"] = json!("EXACT");
    let err = compile(&request(job), "talk.mp4").unwrap_err();
    assert_eq!(err.setting, "settings.outputGroups[1].outputGroupSettings.hlsGroupSettings.segmentLengthControl");
}

#[test]
fn destinations_ending_in_a_slash_are_named_after_the_input() {
    let mut wire = request(mediaflow_core::templates::audio());
    wire["settings"]["outputGroups"][0]["outputGroupSettings"]["fileGroupSettings"]["destination"] =
        json!("s3://public/audiovideo/");
    let compiled = compile(&wire, "talk").unwrap();
    assert_eq!(compiled.outputs[0].destination, "s3://public/audiovideo/talk.mp3");
    assert_eq!(
        dotted("/settings/inputs/0/audioSelectors/Audio Selector 1/x"),
        "settings.inputs[0].audioSelectors.Audio Selector 1.x"
    );
}
