//! Machine captions end to end through `mediaflow process --auto-captions`: speech made by
//! espeak-ng from a known text, heard by the real local recognizer (faster-whisper with Whisper
//! tiny.en, installed by `scripts/ensure-tools`) behind the Transcribe stand-in, published as
//! WebVTT that the W3C's parser accepts and that keeps the cue rules; and what has no speech,
//! no sound, a container Transcribe does not read, or a language the model lacks, published
//! without one and told why.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use mediaflow_testkit::{assert_w3c_webvtt, ffmpeg, silent_sound_video, speaking_video, speech};
use serde_json::Value;

const SAID: &str = "The quick brown fox jumps over the lazy dog. Every upload becomes a video with captions.";

fn run(dir: &Path, data: &str, extra: &[&str], files: &[&str]) -> BTreeMap<String, Value> {
    let mut args = vec!["process", "--json", "--data", data];
    args.extend(extra);
    args.extend(files);
    let out = common::mediaflow(dir, &args);
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let traces: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    traces.into_iter().map(|t| (t["key"].as_str().unwrap().to_string(), t)).collect()
}

fn document(public: &Path, stem: &str) -> Value {
    let doc: Value = serde_json::from_slice(&std::fs::read(public.join(format!("json/{stem}.json"))).unwrap()).unwrap();
    common::assert_valid("MetadataDocument", &doc);
    doc
}

fn states(trace: &Value) -> Vec<&str> {
    trace["states"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect()
}

/// Whether a state that calls Transcribe or reads its outcome ran.
fn transcribed(trace: &Value) -> bool {
    states(trace).iter().any(|s| ["StartTranscription", "StartIdentifiedTranscription", "AwaitCaptions"].contains(s))
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn speech_is_captioned_and_what_has_none_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let said = d.join("said.wav");
    speech(&said, SAID);
    speaking_video(&d.join("talk.mp4"), SAID, Some(7));
    ffmpeg(&["-i", said.to_str().unwrap(), "-c:a", "libmp3lame", d.join("voice.mp3").to_str().unwrap()]);
    silent_sound_video(&d.join("quiet.mp4"), 2);
    mediaflow_testkit::video(&d.join("mute.mp4"), 320, 180, 2.0, false);
    speaking_video(&d.join("phone.mov"), SAID, Some(2));

    let files = ["talk.mp4", "voice.mp3", "quiet.mp4", "mute.mp4", "phone.mov"];
    let traces = run(d, "data", &["--auto-captions"], &files);
    let public = d.join("data/s3/public");
    for (key, trace) in &traces {
        assert_eq!(trace["status"], "SUCCEEDED", "{key}: {trace}");
    }

    // Speech, in a video and in an MP3: a caption each, valid, keeping the cue rules, with most
    // of what was said, listed in the metadata with its cost.
    let expected = words(SAID);
    let mut published = Vec::new();
    for stem in ["talk", "voice"] {
        let key = format!("closed-caption/{stem}.en-US.auto.vtt");
        let path = public.join(&key);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{key}: {e}"));
        let captions = mediaflow_captions::read(&text, mediaflow_captions::CaptionFormat::Vtt).unwrap();
        assert!(captions.repairs.is_empty(), "{key} needed repairs: {:?}", captions.repairs);
        mediaflow_captions::check(&captions.cues).unwrap_or_else(|e| panic!("{key}: {e}"));
        let heard: Vec<String> = captions.cues.iter().flat_map(|c| words(&c.payload)).collect();
        let found = expected.iter().filter(|w| heard.contains(w)).count();
        assert!(found * 10 >= expected.len() * 7, "{key}: heard {heard:?} of {expected:?}");
        let doc = document(&public, stem);
        let caption = &doc["captions"][0];
        assert_eq!((caption["source"].as_str(), caption["key"].as_str()), (Some("machine"), Some(&*key)), "{stem}");
        assert_eq!(caption["language"], "en-US");
        assert_eq!(caption["cues"].as_u64(), Some(captions.cues.len() as u64), "{stem}");
        let cost = &doc["transcriptionCost"];
        assert_eq!(cost["billedSeconds"], 15, "{stem}: Transcribe's 15 s minimum");
        assert!(cost["cost"].as_f64().unwrap() > 0.0, "{stem}");
        assert!(
            traces[&format!("inputs/{stem}.{}", if stem == "talk" { "mp4" } else { "mp3" })]["outputs"]
                .as_array()
                .unwrap()
                .contains(&Value::from(key.clone()))
        );
        published.push(path);
    }
    assert_w3c_webvtt(&published);

    // Silence: no cue, no failure, the reason named.
    let quiet = document(&public, "quiet");
    assert_eq!(quiet["captions"][0]["skipped"]["reason"], "NoSpeech", "{quiet}");
    assert!(!public.join("closed-caption/quiet.en-US.auto.vtt").exists());
    // No audio track: no transcription at all.
    let mute = &traces["inputs/mute.mp4"];
    assert!(!transcribed(mute), "{:?}", states(mute));
    assert!(document(&public, "mute").get("captions").is_none());
    // A container Transcribe does not read: skipped by name, the rest published.
    let mov = document(&public, "phone");
    assert_eq!(mov["captions"][0]["skipped"]["reason"], "MediaFormatUnsupported", "{mov}");
    assert!(public.join("audiovideo/phone_180p.mp4").exists());
}

#[test]
fn off_nothing_changes_and_a_language_the_model_lacks_is_skipped_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let said = d.join("said.wav");
    speech(&said, SAID);
    ffmpeg(&["-i", said.to_str().unwrap(), "-c:a", "libmp3lame", d.join("voice.mp3").to_str().unwrap()]);

    // Off: no step runs Transcribe and the document says nothing of captions.
    let traces = run(d, "off", &[], &["voice.mp3"]);
    let trace = &traces["inputs/voice.mp3"];
    assert!(!transcribed(trace), "{:?}", states(trace));
    let public = d.join("off/s3/public");
    let doc = document(&public, "voice");
    assert!(doc.get("captions").is_none() && doc.get("transcriptionCost").is_none(), "{doc}");
    assert!(!public.join("closed-caption").exists());

    // French asked of an English-only model: refused at the start, published without a caption.
    let traces = run(d, "french", &["--auto-captions", "--caption-language", "fr-FR"], &["voice.mp3"]);
    assert_eq!(traces["inputs/voice.mp3"]["status"], "SUCCEEDED");
    let doc = document(&d.join("french/s3/public"), "voice");
    let skipped = &doc["captions"][0]["skipped"];
    assert_eq!(skipped["reason"], "Refused", "{skipped}");
    let detail = skipped["detail"].as_str().unwrap();
    assert!(detail.contains("LanguageUnsupported") && detail.contains("fr-FR"), "{detail}");
}
