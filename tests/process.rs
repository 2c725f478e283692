//! `mediaflow process` end to end, on a set of real media made with ffmpeg, checked as a user
//! would check the outputs: sizes and names of the renditions, the thumbnail's orientation, the
//! metadata document against its schema, byte-identical copies, valid WebVTT, and failures
//! that say what went wrong and lose nothing.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use mediaflow_testkit::{assert_w3c_webvtt, ffmpeg, video};
use serde_json::Value;

fn ffprobe_size(path: &Path) -> (u64, u64, String) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,codec_name",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["streams"][0];
    (s["width"].as_u64().unwrap_or(0), s["height"].as_u64().unwrap_or(0), s["codec_name"].as_str().unwrap_or("").into())
}

/// The state an execution failed at, as its trace says.
fn failed_state(trace: &Value) -> &str {
    trace["failedState"].as_str().unwrap_or_else(|| panic!("no failed state in {trace}"))
}

#[test]
fn a_mixed_upload_set_becomes_the_output_tree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("course")).unwrap();
    video(&d.join("course/talk.mp4"), 1280, 720, 2.0, true);
    video(&d.join("phone.mp4"), 480, 854, 2.0, false);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330",
        "-t",
        "2",
        "-c:a",
        "libmp3lame",
        d.join("intro.mp3").to_str().unwrap(),
    ]);
    std::fs::write(d.join("talk.en.srt"), "1\n00:00:00,500 --> 00:00:01,500\nHello & <b>welcome</b>\n").unwrap();
    std::fs::write(d.join("notes.txt"), "not media").unwrap();
    // An MP4 header and nothing a decoder can use: media, but unreadable.
    std::fs::write(d.join("broken.mp4"), [b"\0\0\0\x18ftypisom\0\0\0\0isommp41".as_slice(), &[7u8; 4096]].concat())
        .unwrap();

    let files = ["course/talk.mp4", "phone.mp4", "intro.mp3", "talk.en.srt", "notes.txt", "broken.mp4"];
    let mut args = vec!["process", "--json", "--data", "data"];
    args.extend(files);
    let out = common::mediaflow(d, &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one upload fails, so the exit code says so\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let by_key: HashMap<&str, &Value> = traces.iter().map(|t| (t["key"].as_str().unwrap(), t)).collect();
    assert_eq!(by_key.len(), 6, "{traces:#?}");
    for key in
        ["inputs/course/talk.mp4", "inputs/phone.mp4", "inputs/intro.mp3", "inputs/talk.en.srt", "inputs/notes.txt"]
    {
        assert_eq!(by_key[key]["status"], "SUCCEEDED", "{key}: {}", by_key[key]);
    }

    let public = d.join("data/s3/public");
    // Renditions: the source's ladder, never above it, portrait kept portrait.
    for (key, size) in [("talk_360p", (640, 360)), ("talk_480p", (854, 480)), ("talk_720p", (1280, 720))] {
        let (w, h, codec) = ffprobe_size(&public.join(format!("audiovideo/course/{key}.mp4")));
        assert_eq!(((w, h), codec.as_str()), (size, "h264"), "{key}");
    }
    assert!(!public.join("audiovideo/course/talk_1080p.mp4").exists(), "no upscaling");
    assert_eq!(ffprobe_size(&public.join("audiovideo/phone_360p.mp4")).0, 360);
    assert_eq!(ffprobe_size(&public.join("audiovideo/phone_480p.mp4")).1, 854);
    assert!(!public.join("audiovideo/phone_720p.mp4").exists());

    // Thumbnails: JPEGs in the source's orientation.
    let (w, h, codec) = ffprobe_size(&public.join("thumbnail/course/talk.jpg"));
    assert!(codec == "mjpeg" && w > h, "{w}x{h} {codec}");
    let (w, h, _) = ffprobe_size(&public.join("thumbnail/phone.jpg"));
    assert!(h > w, "{w}x{h}");

    // The metadata documents meet their schema.
    for doc in ["json/course/talk.json", "json/phone.json", "json/intro.json"] {
        let value: Value = serde_json::from_slice(&std::fs::read(public.join(doc)).unwrap()).unwrap();
        common::assert_valid("MetadataDocument", &value);
    }
    // What the transcode costs on AWS: in the document, the success notification and the trace;
    // nothing for the MP3, which is copied.
    let talk: Value = serde_json::from_slice(&std::fs::read(public.join("json/course/talk.json")).unwrap()).unwrap();
    let cost = talk["cost"]["total"].as_f64().expect("the document has the cost");
    assert!(cost > 0.0 && talk["cost"]["tier"] == "basic", "{}", talk["cost"]);
    let traced = &by_key["inputs/course/talk.mp4"];
    assert_eq!(traced["cost"].as_f64(), Some(cost));
    let message = &traced["notifications"][0]["message"];
    let told: Value = message.as_str().map_or_else(|| message.clone(), |m| serde_json::from_str(m).unwrap());
    assert_eq!(told["plan"]["cost"]["total"].as_f64(), Some(cost), "the notification carries it: {told}");
    let intro: Value = serde_json::from_slice(&std::fs::read(public.join("json/intro.json")).unwrap()).unwrap();
    assert!(intro.get("cost").is_none(), "a copied MP3 costs nothing");
    // Copies are byte for byte.
    assert_eq!(
        std::fs::read(public.join("audiovideo/intro.mp3")).unwrap(),
        std::fs::read(d.join("intro.mp3")).unwrap()
    );
    assert_eq!(
        std::fs::read(public.join("original/course/talk.mp4")).unwrap(),
        std::fs::read(d.join("course/talk.mp4")).unwrap()
    );
    // Captions: valid WebVTT, by the W3C's parser.
    assert_w3c_webvtt(&[public.join("closed-caption/talk.en.vtt")]);

    // Not media: succeeded, saying why nothing was made.
    let notes = by_key["inputs/notes.txt"];
    assert!(notes["output"]["asset"]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{notes}");

    // Unreadable media: failed with a named error, notified, the upload kept.
    let broken = by_key["inputs/broken.mp4"];
    assert_eq!(broken["status"], "FAILED");
    assert_eq!(broken["error"], "MediaFlow.InvalidMedia", "{broken}");
    let notices = broken["notifications"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "told once: {notices:?}");
    assert_eq!(notices[0]["status"], "FAILED");
    // The message is the execution's status change, as the failure rule sends it.
    let told = &notices[0]["message"];
    common::assert_valid("ExecutionStatusChangeEvent", told);
    assert_eq!((&told["detail"]["error"], &told["detail"]["name"]), (&broken["error"], &broken["name"]));
    assert_eq!(failed_state(broken), "Probe", "the failure stays where it happened");
    assert!(d.join("data/s3/watch/inputs/broken.mp4").exists(), "the upload is kept");
    assert!(!public.join("json/broken.json").exists());
}

/// A job MediaConvert fails (here the stand-in, on a codec it cannot honour in an edited
/// template) fails the execution at Transcode with `MediaFlow.TranscodeFailed`, and is told.
#[test]
fn a_failed_transcode_fails_at_transcode_and_is_notified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    video(&d.join("talk.mp4"), 640, 360, 1.0, true);
    let mut template: Value = serde_json::from_str(mediaflow_core::templates::VIDEO_JSON).unwrap();
    template["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["Codec"] =
        Value::from("H_265");
    std::fs::write(d.join("job.json"), template.to_string()).unwrap();

    let out = common::mediaflow(d, &["process", "--json", "--data", "data", "--job-template", "job.json", "talk.mp4"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let trace = &traces[0];
    assert_eq!(trace["status"], "FAILED");
    assert_eq!(trace["error"], "MediaFlow.TranscodeFailed", "{trace}");
    let cause = trace["cause"].as_str().unwrap();
    assert!(cause.contains("codecSettings.codec"), "the cause names the setting: {cause}");
    assert_eq!(trace["notifications"][0]["status"], "FAILED");
    assert_eq!(failed_state(trace), "Transcode");
    assert!(d.join("data/s3/watch/inputs/talk.mp4").exists(), "the upload is kept");

    let listed = common::mediaflow(d, &["executions", "list", "--data", "data"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("Failed"));
}

/// The same upload again, smaller: its outputs are replaced and the rung it no longer reaches
/// is removed.
#[test]
fn a_reupload_with_fewer_rungs_leaves_no_stale_rendition() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    video(&d.join("talk.mp4"), 1280, 720, 1.0, true);
    let first = common::mediaflow(d, &["process", "--data", "data", "talk.mp4"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let public = d.join("data/s3/public/audiovideo");
    assert!(public.join("talk_720p.mp4").exists());

    video(&d.join("talk.mp4"), 854, 480, 1.0, true);
    let second = common::mediaflow(d, &["process", "--data", "data", "talk.mp4"]);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(!public.join("talk_720p.mp4").exists(), "the stale 720p is gone");
    assert_eq!(ffprobe_size(&public.join("talk_480p.mp4")).1, 480);
}

/// A job template that is not JSON fails the upload at BuildJob. Fixed and redriven, the
/// execution goes on from BuildJob to success; what had succeeded (the archive, the probe) is
/// not done again.
#[test]
fn a_failed_execution_is_redriven_to_success_after_its_cause_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    video(&d.join("talk.mp4"), 640, 360, 1.0, true);
    std::fs::write(d.join("job.json"), "{\"Settings\": {\"OutputGroups\": [").unwrap();

    let out = common::mediaflow(d, &["process", "--json", "--data", "data", "--job-template", "job.json", "talk.mp4"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let trace = &traces[0];
    assert_eq!((&trace["status"], &trace["error"]), (&"FAILED".into(), &"MediaFlow.InvalidTemplate".into()), "{trace}");
    assert_eq!(failed_state(trace), "BuildJob");
    assert_eq!(trace["notifications"][0]["status"], "FAILED");
    // Nothing of a failed upload is public; its archive waits in its staging folder.
    let public = d.join("data/s3/public");
    assert!(!public.join("original/talk.mp4").exists());
    assert!(!public.join("audiovideo/talk_360p.mp4").exists());
    let staging = std::fs::read_dir(d.join("data/s3/watch/.mediaflow/staging")).unwrap().next().unwrap().unwrap();
    assert!(staging.path().join("original/talk.mp4").exists());

    // The fix: the shipped template. Then a redrive, by name.
    std::fs::write(d.join("job.json"), mediaflow_core::templates::VIDEO_JSON).unwrap();
    let name = trace["name"].as_str().unwrap();
    let redrive =
        common::mediaflow(d, &["executions", "redrive", name, "--data", "data", "--job-template", "job.json"]);
    let printed = String::from_utf8_lossy(&redrive.stdout);
    assert!(redrive.status.success(), "{printed}{}", String::from_utf8_lossy(&redrive.stderr));
    assert!(printed.contains("Succeeded") && printed.contains("notification [SUCCEEDED]"), "{printed}");
    assert_eq!(ffprobe_size(&public.join("audiovideo/talk_360p.mp4")), (640, 360, "h264".into()));
    assert!(public.join("json/talk.json").exists() && public.join("thumbnail/talk.jpg").exists());

    // The topic was told of both ends, by the two processes.
    let shown = common::mediaflow(d, &["executions", "show", name, "--data", "data"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("notification [FAILED]") && shown.contains("notification [SUCCEEDED]"), "{shown}");

    // What ran after the redrive: from the failed state on, nothing that had succeeded.
    let kept = d.join(format!("data/executions/mediaflow-pipeline/{name}.json"));
    let execution: Value = serde_json::from_slice(&std::fs::read(kept).unwrap()).unwrap();
    let events = execution["history"]["events"].as_array().unwrap();
    let redriven = events.iter().position(|e| e["type"] == "ExecutionRedriven").expect("an ExecutionRedriven event");
    let entered: BTreeSet<&str> =
        events[redriven..].iter().filter_map(|e| e.get("stateEnteredEventDetails")?["name"].as_str()).collect();
    for state in ["BuildJob", "Transcode", "SaveMetadata", "NotifySuccess"] {
        assert!(entered.contains(state), "{state} ran again: {entered:?}");
    }
    for state in ["Classify", "ArchiveOriginal", "Probe"] {
        assert!(!entered.contains(state), "{state} had succeeded, yet ran again: {entered:?}");
    }
    assert_eq!(execution["redriveCount"], 1);
}

/// An ID3v2.4 tag of `padding` bytes (as taggers pad for album art), then `body`.
fn tagged(body: &[u8], padding: usize) -> Vec<u8> {
    let syncsafe = [(padding >> 21) & 0x7F, (padding >> 14) & 0x7F, (padding >> 7) & 0x7F, padding & 0x7F];
    let mut out = b"ID3\x04\x00\x00".to_vec();
    out.extend(syncsafe.map(|b| b as u8));
    out.resize(10 + padding, 0);
    out.extend_from_slice(body);
    out
}

/// A WAV behind an ID3 tag, named `.mp3`, is transcoded to MP3, not copied as one; a real MP3
/// behind a tag longer than Classify's first read is still copied byte for byte.
#[test]
fn only_what_is_mp3_behind_its_tag_is_copied_as_mp3() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    mediaflow_testkit::tone(&d.join("tone.wav"), 2.0);
    mediaflow_testkit::tone(&d.join("tone.mp3"), 2.0);
    std::fs::write(d.join("wave.mp3"), tagged(&std::fs::read(d.join("tone.wav")).unwrap(), 100)).unwrap();
    std::fs::write(d.join("song.mp3"), tagged(&std::fs::read(d.join("tone.mp3")).unwrap(), 10_000)).unwrap();
    let out = common::mediaflow(d, &["process", "--json", "--data", "data", "wave.mp3", "song.mp3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let kind = |key: &str| traces.iter().find(|t| t["key"] == key).unwrap()["output"]["asset"]["kind"].clone();
    assert_eq!(kind("inputs/wave.mp3"), "audio", "transcoded");
    assert_eq!(kind("inputs/song.mp3"), "mp3", "copied");
    let public = d.join("data/s3/public/audiovideo");
    let wave = std::fs::read(public.join("wave.mp3")).unwrap();
    assert_ne!(wave, std::fs::read(d.join("wave.mp3")).unwrap(), "not the WAV's bytes");
    let codec = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(public.join("wave.mp3"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&codec.stdout).trim(), "mp3");
    assert_eq!(std::fs::read(public.join("song.mp3")).unwrap(), std::fs::read(d.join("song.mp3")).unwrap());
}

/// Every execution keeps what its functions logged, per state, as Lambda's log lines would
/// read: `executions show` prints it; no presigned URL or task token is in it.
#[test]
fn every_execution_keeps_its_functions_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    video(&d.join("talk.mp4"), 640, 360, 1.0, true);
    let out = common::mediaflow(d, &["process", "--json", "--data", "data", "talk.mp4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let name = traces[0]["name"].as_str().unwrap();
    let shown = common::mediaflow(d, &["executions", "show", "--data", "data", name]);
    let text = String::from_utf8_lossy(&shown.stdout);
    for expected in
        ["  log:", "Classify", "decided=video", "ran tool=ffprobe", "wrote bucket=watch", "copied bucket=public"]
    {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    let kept = std::fs::read_to_string(d.join(format!("data/logs/{name}.jsonl"))).unwrap();
    assert!(kept.lines().all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["timestamp"].is_string())));
    assert!(!kept.contains("X-Amz-Signature") && !kept.contains("taskToken"), "{kept}");
}

/// A long file name (past what s3s-fs could once name a file for) goes through the whole
/// pipeline: every output of it is written and published under its full name.
#[test]
fn a_long_file_name_gets_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = format!("{}.mp4", "a long name ".repeat(17).trim());
    video(&d.join(&name), 640, 360, 1.0, true);
    let out = common::mediaflow(d, &["process", "--json", "--data", "data", &name]);
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(traces[0]["status"], "SUCCEEDED", "{}", traces[0]);
    let outputs: Vec<&str> = traces[0]["outputs"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let stem = name.trim_end_matches(".mp4");
    for key in [format!("audiovideo/{stem}_360p.mp4"), format!("thumbnail/{stem}.jpg"), format!("json/{stem}.json")] {
        assert!(outputs.contains(&key.as_str()), "{key} in {outputs:?}");
    }
}
