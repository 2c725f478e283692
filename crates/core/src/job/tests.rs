use crate::Named;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::templates;

const RICH: &str = include_str!("../../testdata/rich-job.json");

fn target() -> JobTarget<'static> {
    JobTarget {
        input_url: "s3://watch/inputs/team/talk.mov",
        bucket: "public",
        staging: "",
        base_key: "audiovideo/team/talk",
    }
}

fn video(w: u32, h: u32) -> SourceMedia {
    SourceMedia { display_size: Some((w, h)), has_audio: true }
}

/// Every leaf of a JSON value by its JSON pointer.
fn leaves(v: &Value) -> BTreeMap<String, Value> {
    fn walk(v: &Value, path: String, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    walk(v, format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, format!("{path}/{i}"), out);
                }
            }
            leaf => {
                out.insert(path, leaf.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

/// The fields the builder may set; every other leaf must pass through.
fn builder_owned(path: &str) -> bool {
    path == "/Settings/Inputs/0/FileInput"
        || path.ends_with("/Destination")
        || path.ends_with("/NameModifier")
        || path.ends_with("/VideoDescription/Width")
        || path.ends_with("/VideoDescription/Height")
}

fn output_rungs(job: &Value, group: usize) -> Vec<Option<u32>> {
    job["Settings"]["OutputGroups"][group]["Outputs"].as_array().unwrap().iter().map(|o| rung_of(o).unwrap()).collect()
}

/// Checks that each output of `built` equals the template's output of the same rung, but for
/// the builder's own fields, and that nothing outside the outputs changed.
fn assert_passed_through(template: &Value, built: &Value) {
    let (t_leaves, b_leaves) = (leaves(template), leaves(built));
    let outside = |p: &String| !p.contains("/Outputs/");
    for (path, value) in t_leaves.iter().filter(|(p, _)| outside(p) && !builder_owned(p)) {
        assert_eq!(b_leaves.get(path), Some(value), "{path} changed or was dropped");
    }
    for (path, value) in b_leaves.iter().filter(|(p, _)| outside(p) && !builder_owned(p)) {
        assert_eq!(t_leaves.get(path), Some(value), "{path} was added");
    }
    let groups = template["Settings"]["OutputGroups"].as_array().unwrap();
    for g in 0..groups.len() {
        let t_rungs = output_rungs(template, g);
        let t_outputs = template["Settings"]["OutputGroups"][g]["Outputs"].as_array().unwrap();
        for (o, output) in built["Settings"]["OutputGroups"][g]["Outputs"].as_array().unwrap().iter().enumerate() {
            let rung = rung_of(output).unwrap();
            let from = t_rungs.iter().position(|r| *r == rung).expect("a kept output comes from the template");
            let t_out = leaves(&t_outputs[from]);
            let b_out = leaves(output);
            for (path, value) in t_out.iter().filter(|(p, _)| !builder_owned(p)) {
                assert_eq!(b_out.get(path), Some(value), "group {g} output {o}: {path} changed or was dropped");
            }
            for path in b_out.keys().filter(|p| !builder_owned(p)) {
                assert!(t_out.contains_key(path), "group {g} output {o}: {path} was added");
            }
        }
    }
}

#[test]
fn default_template_for_full_hd() {
    let template = templates::video();
    let plan = build_job(&template, "job.json", target(), video(1920, 1080)).unwrap();
    assert_eq!(plan.template, "job.json");
    let keys: Vec<_> = plan.outputs.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "audiovideo/team/talk_360p.mp4",
            "audiovideo/team/talk_480p.mp4",
            "audiovideo/team/talk_720p.mp4",
            "audiovideo/team/talk_1080p.mp4"
        ]
    );
    let job = &plan.job;
    assert_eq!(job["Settings"]["Inputs"][0]["FileInput"], "s3://watch/inputs/team/talk.mov");
    assert_eq!(
        job["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"],
        "s3://public/audiovideo/team/talk"
    );
    assert_passed_through(&template, job);
}

#[test]
fn never_above_the_source_and_portrait_aware() {
    let template = templates::video();
    let plan = build_job(&template, "job.json", target(), video(720, 1280)).unwrap();
    let labels: Vec<_> = plan.outputs.iter().filter_map(|o| o.label.as_deref()).collect();
    assert_eq!(labels, ["360p", "480p", "720p"]);
    let outputs = plan.job["Settings"]["OutputGroups"][0]["Outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 3);
    let last = &outputs[2]["VideoDescription"];
    assert_eq!((last["Width"].as_u64(), last["Height"].as_u64()), (Some(720), Some(1280)));
    assert_eq!(outputs[2]["NameModifier"], "_720p");
    assert_passed_through(&template, &plan.job);
}

#[test]
fn a_small_source_gets_the_lowest_rung_at_its_own_size() {
    let plan = build_job(&templates::video(), "job.json", target(), video(320, 240)).unwrap();
    assert_eq!(
        plan.outputs,
        vec![PlannedOutput { key: "audiovideo/team/talk_240p.mp4".into(), label: Some("240p".into()) }]
    );
    let out = &plan.job["Settings"]["OutputGroups"][0]["Outputs"][0];
    assert_eq!(out["VideoDescription"]["Width"], 320);
    assert_eq!(out["VideoDescription"]["Height"], 240);
    // The 360p rung's settings.
    assert_eq!(out["VideoDescription"]["CodecSettings"]["H264Settings"]["MaxBitrate"], 1_000_000);
}

#[test]
fn a_rich_template_keeps_every_field_a_user_wrote() {
    let template: Value = serde_json::from_str(RICH).unwrap();
    for (w, h) in [(1920, 1080), (1280, 720), (1080, 1920), (640, 360)] {
        let plan = build_job(&template, "custom", target(), video(w, h)).unwrap();
        assert_passed_through(&template, &plan.job);
        let hls = &plan.job["Settings"]["OutputGroups"][1];
        assert_eq!(hls["OutputGroupSettings"]["HlsGroupSettings"]["Destination"], "s3://public/audiovideo/team/talk");
        // The audio-only HLS rendition is never a rung and always stays.
        assert!(hls["Outputs"].as_array().unwrap().iter().any(|o| o["NameModifier"] == "_audio"));
        assert!(plan.outputs.iter().any(|o| o.key == "audiovideo/team/talk.m3u8"), "{:?}", plan.outputs);
    }
    let full = build_job(&template, "custom", target(), video(1920, 1080)).unwrap();
    // The rung named only by its size got its name.
    assert_eq!(full.job["Settings"]["OutputGroups"][0]["Outputs"][3]["NameModifier"], "_1080p");
    assert_eq!(full.job["UserMetadata"], json!({"team": "Docs & Training", "CostCenter": "42"}));
    let small = build_job(&template, "custom", target(), video(1280, 720)).unwrap();
    let hls_labels: Vec<_> = small.job["Settings"]["OutputGroups"][1]["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["NameModifier"].as_str().unwrap())
        .collect();
    assert_eq!(hls_labels, ["_720p", "_audio"]);
}

#[test]
fn a_source_without_sound_gets_no_audio() {
    let template: Value = serde_json::from_str(RICH).unwrap();
    let silent = SourceMedia { display_size: Some((1920, 1080)), has_audio: false };
    let plan = build_job(&template, "custom", target(), silent).unwrap();
    for group in plan.job["Settings"]["OutputGroups"].as_array().unwrap() {
        for output in group["Outputs"].as_array().unwrap() {
            assert!(output.get("AudioDescriptions").is_none(), "{output}");
            assert!(output.get("VideoDescription").is_some());
        }
    }
}

#[test]
fn the_audio_template_makes_one_mp3() {
    let template = templates::audio();
    let audio = SourceMedia { display_size: None, has_audio: true };
    let target = JobTarget {
        input_url: "s3://watch/inputs/pod/ep1.wav",
        bucket: "public",
        staging: "",
        base_key: "audiovideo/pod/ep1",
    };
    let plan = build_job(&template, "job-audio.json", target, audio).unwrap();
    assert_eq!(plan.outputs, vec![PlannedOutput { key: "audiovideo/pod/ep1.mp3".into(), label: None }]);
    assert!(plan.renditions.is_empty());
    assert_passed_through(&template, &plan.job);
}

#[test]
fn bad_templates_are_named_errors() {
    let cases = [
        (json!([]), "no \"Settings\""),
        (json!({"Settings": {}}), "OutputGroups"),
        (json!({"Settings": {"OutputGroups": []}}), "OutputGroups"),
        (json!({"Settings": {"Inputs": {}, "OutputGroups": [{}]}}), "Inputs"),
        (
            json!({"Settings": {"OutputGroups": [{"OutputGroupSettings": {"Type": "NOPE"},
                "Outputs": [{"NameModifier": "_720p", "VideoDescription": {}}]}]}}),
            "unknown output group type",
        ),
        (
            json!({"Settings": {"OutputGroups": [{"OutputGroupSettings": {"Type": "FILE_GROUP_SETTINGS"},
                "Outputs": [{"VideoDescription": {}}]}]}}),
            "NameModifier like",
        ),
        (
            json!({"Settings": {"OutputGroups": [{"OutputGroupSettings": {"Type": "FILE_GROUP_SETTINGS"},
                "Outputs": [{"NameModifier": "_720p", "VideoDescription": {}, "ContainerSettings": {"Container": "MP4"}},
                            {"NameModifier": "_720p", "VideoDescription": {}, "ContainerSettings": {"Container": "MP4"}}]}]}}),
            "two outputs are the 720p rung",
        ),
        (
            json!({"Settings": {"OutputGroups": [{"OutputGroupSettings": {"Type": "FILE_GROUP_SETTINGS"},
                "Outputs": [{"NameModifier": "_720p", "VideoDescription": {}, "ContainerSettings": {"Container": "XYZ"}}]}]}}),
            "needs an \"Extension\"",
        ),
        (
            json!({"Settings": {"OutputGroups": [{"OutputGroupSettings": {"Type": "FILE_GROUP_SETTINGS"},
                "Outputs": [{"ContainerSettings": {"Container": "MP4"}}]}]}}),
            "no video output",
        ),
    ];
    for (template, why) in cases {
        let err = build_job(&template, "t.json", target(), video(1920, 1080)).unwrap_err();
        assert_eq!(err.name(), crate::ErrorName::InvalidTemplate);
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    let err = build_job(&templates::video(), "job.json", target(), SourceMedia { display_size: None, has_audio: true })
        .unwrap_err();
    assert!(err.to_string().contains("no picture"), "{err}");
}

/// The HLS template: the ladder applies to both groups alike, no rung above the source in
/// either, and the HLS group's master playlist is planned beside the MP4s.
#[test]
fn the_hls_template_keeps_the_same_rungs_in_every_group() {
    let plan = build_job(&templates::hls(), "job-hls.json", target(), video(1280, 720)).unwrap();
    let groups = plan.job["Settings"]["OutputGroups"].as_array().unwrap();
    let modifiers = |g: &Value| -> Vec<String> {
        g["Outputs"].as_array().unwrap().iter().map(|o| o["NameModifier"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(modifiers(&groups[0]), ["_360p", "_480p", "_720p"]);
    assert_eq!(modifiers(&groups[1]), modifiers(&groups[0]), "the HLS group drops the same rung");
    assert_eq!(groups[1]["OutputGroupSettings"]["HlsGroupSettings"]["Destination"], "s3://public/audiovideo/team/talk");
    assert_eq!(groups[1]["OutputGroupSettings"]["HlsGroupSettings"]["SegmentLength"], 6);
    let keys: Vec<&str> = plan.outputs.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "audiovideo/team/talk_360p.mp4",
            "audiovideo/team/talk_480p.mp4",
            "audiovideo/team/talk_720p.mp4",
            "audiovideo/team/talk.m3u8"
        ]
    );
    assert_eq!(crate::hls::masters(&plan.job), ["s3://public/audiovideo/team/talk.m3u8"]);
}
