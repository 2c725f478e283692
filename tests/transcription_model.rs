//! What the state machine sends Amazon Transcribe, checked against Transcribe's own API model
//! (botocore's `transcribe/2017-10-26/service-2.json`, as the aws CLI that
//! `scripts/ensure-tools --test-tools` installs ships it): every parameter a member of the
//! operation's input, every required member given, every enum value one Transcribe knows, and
//! every error the definition retries or catches one the operation raises.

mod common;

use std::path::PathBuf;

use mediaflow_core::contract::{Asset, AssetKind, AssetName, Container, Source};
use mediaflow_core::probe::Probe;
use mediaflow_core::statemachine::DEFINITION;
use mediaflow_core::transcription::{CaptionSettings, plan};
use serde_json::{Value, json};

fn model() -> Value {
    let root = common::repo().join(".tools/awscli/lib");
    let found: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/ensure-tools --test-tools", root.display()))
        .filter_map(|python| {
            let site = python.ok()?.path().join("site-packages");
            ["awscli/botocore", "botocore"]
                .iter()
                .map(|b| site.join(b).join("data/transcribe/2017-10-26/service-2.json"))
                .find(|p| p.exists())
        })
        .collect();
    let path = found.first().expect("botocore's Transcribe model beside the aws CLI in .tools/awscli");
    common::read_json(path)
}

/// The problems of `value` as the shape `name` of `model`; `$`-suffixed keys are paths the
/// state fills at run time, checked by name only.
fn problems(model: &Value, name: &str, value: &Value, at: &str, out: &mut Vec<String>) {
    let shape = &model["shapes"][name];
    match shape["type"].as_str() {
        Some("structure") => {
            let Some(object) = value.as_object() else { return out.push(format!("{at}: not an object")) };
            for required in shape["required"].as_array().into_iter().flatten() {
                let r = required.as_str().unwrap();
                if !object.contains_key(r) && !object.contains_key(&format!("{r}.$")) {
                    out.push(format!("{at}: the required {r} is missing"));
                }
            }
            for (key, member) in object {
                let (field, is_path) = match key.strip_suffix(".$") {
                    Some(f) => (f, true),
                    None => (key.as_str(), false),
                };
                match shape["members"][field]["shape"].as_str() {
                    None => out.push(format!("{at}: {field} is not a member of {name}")),
                    Some(_) if is_path => {}
                    Some(inner) => problems(model, inner, member, &format!("{at}.{field}"), out),
                }
            }
        }
        Some("list") => {
            let inner = shape["member"]["shape"].as_str().unwrap();
            for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                problems(model, inner, item, &format!("{at}[{i}]"), out);
            }
        }
        Some("string") => {
            let known = shape["enum"].as_array();
            if let (Some(known), Some(v)) = (known, value.as_str())
                && !known.iter().any(|k| k == v)
            {
                out.push(format!("{at}: {v:?} is not one of {name}'s values"));
            }
        }
        _ => {}
    }
}

fn transcribe_states(definition: &Value, out: &mut Vec<(String, Value)>) {
    for (name, state) in definition["States"].as_object().unwrap() {
        if state["Resource"].as_str().is_some_and(|r| r.starts_with("arn:aws:states:::aws-sdk:transcribe:")) {
            out.push((name.clone(), state.clone()));
        }
        for branch in state["Branches"].as_array().into_iter().flatten() {
            transcribe_states(branch, out);
        }
    }
}

fn operation_of(state: &Value) -> String {
    let action = state["Resource"].as_str().unwrap().rsplit(':').next().unwrap();
    let mut name = action.to_string();
    name[..1].make_ascii_uppercase();
    name
}

#[test]
fn the_states_that_call_transcribe_are_made_of_its_model() {
    let model = model();
    let definition: Value = serde_json::from_str(DEFINITION).unwrap();
    let mut states = Vec::new();
    transcribe_states(&definition, &mut states);
    assert_eq!(states.len(), 2, "the two starts, one in a language and one identifying it");
    for (name, state) in &states {
        let operation = &model["operations"][operation_of(state)];
        assert!(operation.is_object(), "{name}: {} is no Transcribe operation", operation_of(state));
        let input = operation["input"]["shape"].as_str().unwrap();
        let mut found = Vec::new();
        problems(&model, input, &state["Parameters"], name, &mut found);
        assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
        // What it retries or catches, Transcribe raises ("Transcribe.<Name>").
        let raised: Vec<&str> =
            operation["errors"].as_array().unwrap().iter().map(|e| e["shape"].as_str().unwrap()).collect();
        let handled = state["Retry"].as_array().into_iter().chain(state["Catch"].as_array()).flatten();
        for error in handled.flat_map(|h| h["ErrorEquals"].as_array().unwrap()) {
            let error = error.as_str().unwrap();
            let bare =
                error.strip_prefix("Transcribe.").unwrap_or_else(|| panic!("{name}: {error} is not Transcribe's"));
            assert!(raised.contains(&bare), "{name}: StartTranscriptionJob raises no {bare} ({raised:?})");
        }
    }
}

#[test]
fn the_requests_the_pipeline_plans_are_made_of_transcribes_model() {
    let model = model();
    let source = Source::new("watch", "inputs/talks/intro.mp4", 1000, "e1");
    let asset = Asset {
        kind: AssetKind::Video,
        name: AssetName {
            dir: "talks".into(),
            name: "intro.mp4".into(),
            stem: "intro".into(),
            extension: "mp4".into(),
            language: None,
        },
        container: Some(Container::Mp4),
        caption_format: None,
        chunk: None,
        reason: None,
        duplicate_of: None,
    };
    let probe: Probe = serde_json::from_value(json!({
        "container": "mov,mp4,m4a,3gp,3g2,mj2", "durationSeconds": 12.0,
        "audio": [{"codec": "aac", "channels": 2, "sampleRate": 48000}]
    }))
    .unwrap();
    for language in ["en-US", "es-US", "auto"] {
        let settings =
            CaptionSettings { enabled: true, language: language.parse().unwrap(), application: "mediaflow".into() };
        let planned = plan(&source, &asset, &probe, "arn:aws:states:us-east-1:1:execution:p:e", &settings).unwrap();
        let request = serde_json::to_value(planned.request.unwrap()).unwrap();
        let mut found = Vec::new();
        problems(&model, "StartTranscriptionJobRequest", &request, language, &mut found);
        assert!(found.is_empty(), "{language}:\n{}", found.join("\n"));
        // The name fits the model's pattern and length.
        let shape = &model["shapes"]["TranscriptionJobName"];
        let name = request["TranscriptionJobName"].as_str().unwrap();
        assert!(name.len() as u64 <= shape["max"].as_u64().unwrap(), "{name}");
        assert_eq!(shape["pattern"], "^[0-9a-zA-Z._-]+", "the model's pattern changed: check the names");
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{name}");
    }
    // The check finds what it is for.
    let mut found = Vec::new();
    let wrong = json!({"TranscriptionJobName": "a", "Media": {"MediaFileUri": "s3://b/k"}, "LanguageCode": "en-XX",
                       "Subtitles": {"Formats": ["ass"]}, "OutputBucket": "b"});
    problems(&model, "StartTranscriptionJobRequest", &wrong, "wrong", &mut found);
    assert_eq!(found.len(), 3, "{found:?}");
}
