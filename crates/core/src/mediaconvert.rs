//! MediaConvert's side of the contract, as pure functions: the job as MediaConvert's REST API
//! takes it, the reference that ties a job to the waiting state, and the renditions a finished
//! job reports.

use serde_json::{Map, Value};

use crate::contract::{JobStateChangeDetail, OutputFile, Renditions};

/// Structure members whose values are maps keyed by user data: their keys stay as written.
/// (In MediaConvert's service model every other member's wire name is its name with the first
/// letter lowered.)
const USER_KEYED_MAPS: [&str; 6] =
    ["AudioSelectors", "AudioSelectorGroups", "CaptionSelectors", "DynamicAudioSelectors", "UserMetadata", "Tags"];

/// A job in the console's JSON (PascalCase: `Settings.OutputGroups`) as the REST API's wire
/// format (lowerCamelCase: `settings.outputGroups`), every field kept.
pub fn to_wire(job: &Value) -> Value {
    match job {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, value)| {
                    let wire_value = if USER_KEYED_MAPS.contains(&name.as_str()) {
                        match value {
                            Value::Object(entries) => Value::Object(
                                entries.iter().map(|(k, v)| (k.clone(), to_wire(v))).collect::<Map<_, _>>(),
                            ),
                            other => to_wire(other),
                        }
                    } else {
                        to_wire(value)
                    };
                    (lower_first(name), wire_value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(to_wire).collect()),
        other => other.clone(),
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The reference of one wait for MediaConvert: the execution and its redrive count (a redrive
/// submits anew), hashed short enough for MediaConvert's `userMetadata` values (256 characters)
/// and `clientRequestToken`.
pub fn task_ref(execution_id: &str, redrive_count: u32) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(execution_id.as_bytes());
    hash.update(b"\n");
    hash.update(redrive_count.to_string().as_bytes());
    hex::encode(&hash.finalize()[..16])
}

/// Where the task token of `task_ref` is kept, in the watch bucket.
pub fn task_key(task_ref: &str) -> String {
    format!(".mediaflow/tasks/{task_ref}.json")
}

/// The files a finished job wrote, from its `outputGroupDetails`: keys in `bucket`, with the
/// label of `_<n>p` renditions and the size and length MediaConvert reports. Groups with
/// playlists (HLS) are streams, which the caller reads from their playlists. Frame captures are
/// no renditions: the Storyboard step reads the frames from its plan's `frames_prefix`.
pub fn renditions(detail: &JobStateChangeDetail, bucket: &str) -> Renditions {
    let outputs = detail
        .output_group_details
        .iter()
        .filter(|group| group.playlist_file_paths.as_ref().is_none_or(Vec::is_empty))
        .flat_map(|group| &group.output_details)
        .filter(|output| !output.output_file_paths.iter().any(|path| is_frame_capture(path)))
        .flat_map(|output| {
            output.output_file_paths.iter().filter_map(|path| public_key(path, bucket)).map(move |key| OutputFile {
                key: key.to_string(),
                label: label_of(key),
                width: output.video_details.as_ref().map(|v| v.width_in_px),
                height: output.video_details.as_ref().map(|v| v.height_in_px),
                duration_ms: output.duration_in_ms,
            })
        })
        .collect();
    Renditions { bucket: bucket.to_string(), job_id: Some(detail.job_id.clone()), outputs, streams: Vec::new() }
}

/// Whether an output path is a frame capture's: MediaConvert reports a frame capture output by
/// its last image, `<prefix>.<n as 7 digits>.jpg` (it has no other output named so).
pub fn is_frame_capture(path: &str) -> bool {
    crate::storyboard::split_frame_key(path).is_some()
}

/// The public key an output path of the job stands for: in `bucket` itself, or staged for it
/// in the watch bucket (`s3://<watch>/.mediaflow/staging/<id>/<key>`).
pub fn public_key<'a>(path: &'a str, bucket: &str) -> Option<&'a str> {
    let (in_bucket, key) = crate::keys::s3_location(path)?;
    if in_bucket == bucket { Some(key) } else { crate::publish::unstaged(key) }
}

/// `…_720p.mp4` → `720p`.
pub fn label_of(key: &str) -> Option<String> {
    let name = key.rsplit('/').next()?;
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let label = stem.rsplit_once('_')?.1;
    let digits = label.strip_suffix('p')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| label.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::contract::{JobStatus, OutputDetail, OutputGroupDetail, VideoDetails};

    #[test]
    fn the_wire_format_lowers_member_names_and_keeps_user_keys() {
        let job = json!({
            "Role": "arn:aws:iam::1:role/mc",
            "UserMetadata": {"CostCenter": "42", "application": "mediaflow"},
            "Tags": {"Project": "Docs"},
            "Settings": {
                "Inputs": [{
                    "FileInput": "s3://watch/inputs/a.mp4",
                    "AudioSelectors": {"Audio Selector 1": {"DefaultSelection": "DEFAULT", "Tracks": [1, 2]}},
                    "CaptionSelectors": {"Captions Selector 1": {"SourceSettings": {"SourceType": "EMBEDDED"}}}
                }],
                "OutputGroups": [{"OutputGroupSettings": {"Type": "FILE_GROUP_SETTINGS"}, "Outputs": [{"NameModifier": "_720p"}]}]
            }
        });
        let wire = to_wire(&job);
        assert_eq!(wire["role"], "arn:aws:iam::1:role/mc");
        assert_eq!(wire["userMetadata"], json!({"CostCenter": "42", "application": "mediaflow"}));
        assert_eq!(wire["tags"], json!({"Project": "Docs"}));
        let input = &wire["settings"]["inputs"][0];
        assert_eq!(input["fileInput"], "s3://watch/inputs/a.mp4");
        assert_eq!(
            input["audioSelectors"]["Audio Selector 1"],
            json!({"defaultSelection": "DEFAULT", "tracks": [1, 2]})
        );
        assert_eq!(input["captionSelectors"]["Captions Selector 1"]["sourceSettings"]["sourceType"], "EMBEDDED");
        // Enum values are data, not names.
        assert_eq!(wire["settings"]["outputGroups"][0]["outputGroupSettings"]["type"], "FILE_GROUP_SETTINGS");
        assert_eq!(wire["settings"]["outputGroups"][0]["outputs"][0]["nameModifier"], "_720p");
    }

    #[test]
    fn no_field_of_the_rich_template_is_lost_on_the_wire() {
        let template: Value = serde_json::from_str(include_str!("../testdata/rich-job.json")).unwrap();
        fn count(v: &Value) -> usize {
            match v {
                Value::Object(m) => m.len() + m.values().map(count).sum::<usize>(),
                Value::Array(a) => a.iter().map(count).sum(),
                _ => 0,
            }
        }
        let wire = to_wire(&template);
        assert_eq!(count(&wire), count(&template));
        assert_eq!(wire["hopDestinations"][0]["waitMinutes"], 5);
        assert_eq!(wire["settings"]["inputs"][0]["futureInputField"]["nested"][2]["deep"], true);
    }

    #[test]
    fn refs_change_with_the_redrive() {
        let a = task_ref("arn:…:execution:x", 0);
        assert_eq!(a.len(), 32);
        assert_eq!(a, task_ref("arn:…:execution:x", 0));
        assert_ne!(a, task_ref("arn:…:execution:x", 1));
        assert_eq!(task_key(&a), format!(".mediaflow/tasks/{a}.json"));
    }

    #[test]
    fn renditions_from_a_finished_job() {
        let detail = JobStateChangeDetail {
            job_id: "1671476818694-phptj0".into(),
            status: JobStatus::Complete,
            output_group_details: vec![OutputGroupDetail {
                group_type: "FILE_GROUP".into(),
                playlist_file_paths: None,
                output_details: vec![
                    OutputDetail {
                        output_file_paths: vec!["s3://public/audiovideo/a b/talk_720p.mp4".into()],
                        duration_in_ms: Some(30041),
                        video_details: Some(VideoDetails {
                            width_in_px: 1280,
                            height_in_px: 720,
                            average_bitrate: None,
                        }),
                    },
                    OutputDetail {
                        output_file_paths: vec!["s3://public/audiovideo/pod.mp3".into()],
                        duration_in_ms: Some(1000),
                        video_details: None,
                    },
                    OutputDetail {
                        output_file_paths: vec!["s3://elsewhere/x.mp4".into()],
                        duration_in_ms: None,
                        video_details: None,
                    },
                ],
            }],
            ..JobStateChangeDetail::default()
        };
        let mut detail = detail;
        // As MediaConvert reports a frame capture: one detail naming its last image.
        detail.output_group_details.insert(
            0,
            OutputGroupDetail {
                group_type: "FILE_GROUP".into(),
                playlist_file_paths: None,
                output_details: vec![OutputDetail {
                    output_file_paths: vec!["s3://public/frames/talk_storyboard.0000036.jpg".into()],
                    duration_in_ms: Some(30041),
                    video_details: Some(VideoDetails { width_in_px: 160, height_in_px: 90, average_bitrate: None }),
                }],
            },
        );
        assert!(is_frame_capture("s3://b/frames/file.0000036.jpg"));
        assert!(!is_frame_capture("s3://b/thumbnail/file.jpg") && !is_frame_capture("s3://b/a.123.jpg"));
        let r = renditions(&detail, "public");
        assert_eq!(r.job_id.as_deref(), Some("1671476818694-phptj0"));
        assert_eq!(r.outputs.len(), 2);
        assert_eq!(r.outputs[0].key, "audiovideo/a b/talk_720p.mp4");
        assert_eq!(
            (r.outputs[0].label.as_deref(), r.outputs[0].width, r.outputs[0].height),
            (Some("720p"), Some(1280), Some(720))
        );
        assert_eq!((r.outputs[1].label.as_deref(), r.outputs[1].duration_ms), (None, Some(1000)));
    }
}
