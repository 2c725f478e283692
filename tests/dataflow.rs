//! The pipeline's own definition through the engine's data flow: every Task's parameters, made
//! concrete from a real execution document, are a valid input of the Task's contract, and the
//! Media branches' results merge into a valid execution document.

use mediaflow_core::statemachine::{DEFINITION, task_contract};
use mediaflow_stepfunctions::engine::dataflow::{apply_result_path, apply_template};
use mediaflow_stepfunctions::engine::definition::result_path;
use serde_json::{Value, json};

fn schema(name: &str) -> jsonschema::Validator {
    let path = mediaflow_testkit::repo().join(format!("schemas/{name}.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(name: &str, value: &Value, what: &str) {
    let errors: Vec<String> =
        schema(name).iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} is not a valid {name}: {errors:#?}\n{value:#}");
}

fn context() -> Value {
    json!({
        "Execution": {"Id": "arn:aws:states:us-east-1:111122223333:execution:mediaflow:run-1", "Name": "run-1",
                      "StartTime": "2026-11-25T10:00:00.000Z", "RedriveCount": 0,
                      "Input": {"time": "2026-11-25T09:59:59Z"}},
        "State": {"Name": "x", "EnteredTime": "2026-11-25T10:00:01.000Z", "RetryCount": 0},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:111122223333:stateMachine:mediaflow", "Name": "mediaflow"},
        "Task": {"Token": "token-1"}
    })
}

/// An execution document as it stands when the media branches start.
fn document() -> Value {
    json!({
        "source": {"bucket": "watch", "key": "inputs/a/talk.mp4", "size": 1000, "etag": "e", "sequencer": "0A"},
        "asset": {"kind": "video", "name": {"dir": "a", "name": "talk.mp4", "stem": "talk", "extension": "mp4"}, "container": "mp4"},
        "original": {"bucket": "public", "key": "original/a/talk.mp4", "size": 1000, "etag": "e"},
        "probe": {"container": "mov,mp4", "durationSeconds": 10.0,
                  "video": {"codec": "h264", "width": 1280, "height": 720, "rotation": 0, "displayWidth": 1280, "displayHeight": 720, "hdr": false},
                  "audio": [], "subtitles": []},
        "transcription": {"skipped": {"reason": "MediaFormatUnsupported", "detail": "not QuickTime"}},
        "plan": {"template": "job.json", "job": {"Settings": {}}, "renditions": [], "outputs": [],
                 "storyboard": {"intervalSeconds": 1, "maxTiles": 10, "tileWidth": 160, "tileHeight": 90,
                                "framesPrefix": ".mediaflow/staging/ab/frames/talk_storyboard"}}
    })
}

fn states(def: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, state) in def["States"].as_object().unwrap() {
        out.push((name.clone(), state.clone()));
        for branch in state.get("Branches").and_then(Value::as_array).into_iter().flatten() {
            out.extend(states(branch));
        }
    }
    out
}

#[test]
fn every_task_payload_meets_its_contract() {
    let def: Value = serde_json::from_str(DEFINITION).unwrap();
    let event: Value = serde_json::from_str(include_str!("fixtures/events/s3-object-created-multipart.json")).unwrap();
    let mut checked = 0;
    for (name, state) in states(&def) {
        let Some(contract) = task_contract(&name) else { continue };
        let input = if name == "Classify" { event.clone() } else { document() };
        let params = &state["Parameters"];
        let template = params.get("Payload").unwrap_or(params);
        let payload = apply_template(template, &input, &context()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_valid(contract.input, &payload, &format!("{name}'s payload"));
        checked += 1;
    }
    assert_eq!(checked, mediaflow_core::statemachine::TASK_CONTRACTS.len());
}

#[test]
fn the_media_branches_merge_into_a_valid_document() {
    let def: Value = serde_json::from_str(DEFINITION).unwrap();
    let media = &def["States"]["Media"];
    let renditions =
        json!({"bucket": "public", "jobId": "j", "outputs": [{"key": "audiovideo/a/talk_720p.mp4", "label": "720p"}]});
    let file = |key: &str| json!({"key": key, "size": 10, "etag": "e"});
    let storyboard = json!({"bucket": "public", "image": file("thumbnail/a/talk.storyboard.jpg"),
        "map": file("thumbnail/a/talk.storyboard.vtt"), "grid": {"tiles": 3, "columns": 3, "rows": 1,
        "tileWidth": 160, "tileHeight": 90, "intervalSeconds": 1}});
    let thumbnail = json!({"bucket": "public", "key": "thumbnail/a/talk.jpg", "width": 1280, "height": 720, "atSeconds": 7.0, "size": 10, "etag": "t"});
    let loudness = json!({"integratedLufs": -20.5, "rangeLu": 4.0, "truePeakDbtp": -3.2});
    // Each Task of a branch adds its result to the document at its ResultPath.
    let step = |branch: usize, state: &str, document: Value, result: Value| {
        let task = &media["Branches"][branch]["States"][state];
        assert!(task.get("ResultSelector").is_none(), "{state}: the branches keep whole documents");
        apply_result_path(&document, result, &result_path(task.get("ResultPath"), state).unwrap()).unwrap()
    };
    let first = step(0, "Transcode", document(), renditions);
    let first = step(0, "Storyboard", first, storyboard);
    let second = step(1, "SaveFrame", document(), thumbnail);
    let second = step(1, "MeasureLoudness", second, loudness);
    let joined = apply_template(&media["ResultSelector"], &json!([first, second]), &context()).unwrap();
    let output = joined
        .pointer(media["OutputPath"].as_str().unwrap().trim_start_matches('$').replace('.', "/").as_str())
        .unwrap()
        .clone();
    assert_valid("ExecutionDocument", &output, "the joined document");
    assert_eq!(output["thumbnail"]["key"], "thumbnail/a/talk.jpg");
    assert_eq!(output["renditions"]["outputs"][0]["label"], "720p");
    assert_eq!(output["storyboard"]["map"]["key"], "thumbnail/a/talk.storyboard.vtt");
    assert_eq!(output["loudness"]["integratedLufs"], -20.5);

    // Audio: the NoPicture and NoStoryboard passes add nothing.
    for (branch, pass) in [(0, "NoStoryboard"), (1, "NoPicture"), (1, "NoSound")] {
        let state = &media["Branches"][branch]["States"][pass];
        assert!(state.get("Result").is_none() && state.get("ResultPath").is_none(), "{pass} passes its input on");
    }
    let joined = apply_template(&media["ResultSelector"], &json!([first, document()]), &context()).unwrap();
    assert!(joined["document"].get("thumbnail").is_none());
    assert_valid("ExecutionDocument", &joined["document"], "the audio document");
}

#[test]
fn the_success_notification_carries_the_document_and_names_its_execution() {
    let def: Value = serde_json::from_str(DEFINITION).unwrap();
    let message = apply_template(&def["States"]["NotifySuccess"]["Parameters"], &document(), &context()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(message["Message"].as_str().unwrap()).unwrap(), document());
    assert!(message["Subject"].as_str().unwrap().ends_with("run-1"), "{message}");
    assert!(message["Subject"].as_str().unwrap().len() <= 100);
    let attributes = &message["MessageAttributes"];
    assert_eq!(attributes["status"], json!({"DataType": "String", "StringValue": "SUCCEEDED"}));
    assert_eq!(attributes["execution"], json!({"DataType": "String", "StringValue": "run-1"}));
}
