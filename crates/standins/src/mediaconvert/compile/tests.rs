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
    assert!(
        args.contains("-vn")
            && args.contains("-c:a libmp3lame -b:a 192000 -ar 48000 -ac 2 -af loudnorm=I=-16:TP=-1:LRA=50 -f mp3"),
        "{args}"
    );
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

/// The video template with the storyboard group the pipeline appends (2 s apart, 3 at most).
fn with_storyboard() -> Value {
    let mut job = mediaflow_core::templates::video();
    let plan = mediaflow_core::storyboard::StoryboardPlan {
        interval_seconds: 2,
        max_tiles: 3,
        tile_width: 160,
        tile_height: 90,
        frames_prefix: "frames/talk_storyboard".into(),
    };
    let group = mediaflow_core::storyboard::frame_capture_group(&plan, "s3://watch/frames/talk");
    job["Settings"]["OutputGroups"].as_array_mut().unwrap().push(group);
    job
}

#[test]
fn a_frame_capture_is_jpegs_taken_at_each_interval_from_zero() {
    let compiled = compile(&request(with_storyboard()), "talk.mp4").unwrap();
    let frames = compiled.outputs.last().unwrap();
    assert_eq!(
        (frames.group, frames.destination.as_str(), frames.file.as_str(), frames.video, frames.frames),
        (1, "s3://watch/frames/talk_storyboard", "frames-4/talk_storyboard.%07d.jpg", Some((160, 90)), true)
    );
    assert_eq!(compiled.groups[1], Group { kind: "FILE_GROUP", master: None });
    let args = compiled.args.join(" ");
    assert!(args.starts_with("-filter_complex [0:v:0]split=5"), "one decode for renditions and frames: {args}");
    assert!(args.contains("[s4]select='gte(t*1,selected_n*2)',scale=160:90:flags=bicubic,setsar=1[v4]"), "{args}");
    assert!(
        args.ends_with(
            "-map [v4] -c:v mjpeg -pix_fmt yuvj420p -q:v 8 -fps_mode passthrough -frames:v 3 -an -f image2 \
             -start_number 0 frames-4/talk_storyboard.%07d.jpg"
        ),
        "{args}"
    );
    assert_eq!((frames::qscale(100), frames::qscale(80), frames::qscale(1)), (2, 8, 31));
}

#[test]
fn normalized_audio_waits_for_the_measurement_and_measure_only_changes_nothing() {
    let compiled = compile(&request(with_storyboard()), "talk.mp4").unwrap();
    assert_eq!(compiled.loudness.len(), 4, "every rendition, not the frames");
    for fix in &compiled.loudness {
        assert_eq!(compiled.args[fix.arg - 1], "-af");
        assert_eq!(compiled.args[fix.arg], "loudnorm=I=-16:TP=-1:LRA=50");
        assert_eq!(
            (fix.target.target_lkfs, fix.target.true_peak_limit_dbtp, fix.sample_rate),
            (-16.0, Some(-1.0), Some(48000))
        );
    }
    let mut job = mediaflow_core::templates::audio();
    let settings = "/Settings/OutputGroups/0/Outputs/0/AudioDescriptions/0/AudioNormalizationSettings";
    job.pointer_mut(settings).unwrap()["AlgorithmControl"] = json!("MEASURE_ONLY");
    let compiled = compile(&request(job), "talk.wav").unwrap();
    assert!(compiled.loudness.is_empty() && !compiled.args.contains(&"-af".to_string()), "{:?}", compiled.args);
}

#[test]
fn frame_capture_and_normalization_settings_it_cannot_honour_are_refused() {
    let refused = |edit: &dyn Fn(&mut Value), setting: &str| {
        let mut job = with_storyboard();
        edit(&mut job);
        let err = compile(&request(job), "talk.mp4").unwrap_err();
        assert_eq!(err.setting, setting, "{err}");
    };
    let frames = "/Settings/OutputGroups/1/Outputs/0";
    let capture = "/Settings/OutputGroups/1/Outputs/0/VideoDescription/CodecSettings/FrameCaptureSettings";
    refused(
        &|j| j.pointer_mut(capture).unwrap()["FramerateNumerator"] = json!(0),
        "settings.outputGroups[1].outputs[0].videoDescription.codecSettings.frameCaptureSettings.framerateNumerator",
    );
    refused(
        &|j| j.pointer_mut(frames).unwrap()["AudioDescriptions"] = json!([{"CodecSettings": {"Codec": "AAC"}}]),
        "settings.outputGroups[1].outputs[0].audioDescriptions",
    );
    let normalization = "/Settings/OutputGroups/0/Outputs/0/AudioDescriptions/0/AudioNormalizationSettings";
    refused(
        &|j| j.pointer_mut(normalization).unwrap()["LoudnessLogging"] = json!("LOG"),
        "settings.outputGroups[0].outputs[0].audioDescriptions[0].audioNormalizationSettings.loudnessLogging",
    );
    refused(
        &|j| j.pointer_mut(normalization).unwrap()["Algorithm"] = json!("ITU_BS_1770_1"),
        "settings.outputGroups[0].outputs[0].audioDescriptions[0].audioNormalizationSettings.algorithm",
    );
    refused(
        &|j| j.pointer_mut(normalization).unwrap()["TargetLkfs"] = json!(-2),
        "settings.outputGroups[0].outputs[0].audioDescriptions[0].audioNormalizationSettings.targetLkfs",
    );
}
