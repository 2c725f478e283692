//! The pipeline's own definition through the engine's data flow: every Task's parameters, made
//! concrete from a real execution document, are a valid input of the Task's contract, and the
//! Media branches' results merge into a valid execution document.

use mediaflow_core::statemachine::{DEFINITION, task_contract};
use mediaflow_local::engine::dataflow::{apply_result_path, apply_template};
use mediaflow_local::engine::definition::result_path;
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
        "plan": {"template": "job.json", "job": {"Settings": {}}, "renditions": [], "outputs": []}
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
    let event: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/events/s3-object-created-multipart.json")).unwrap();
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
    let thumbnail = json!({"bucket": "public", "key": "thumbnail/a/talk.jpg", "width": 1280, "height": 720, "atSeconds": 7.0, "size": 10, "etag": "t"});
    // Branch one ends with Transcode's result at $.renditions; branch two with SaveFrame's
    // result wrapped by its ResultSelector.
    let transcode = &media["Branches"][0]["States"]["Transcode"];
    let first =
        apply_result_path(&document(), renditions, &result_path(transcode.get("ResultPath"), "Transcode").unwrap())
            .unwrap();
    let save_frame = &media["Branches"][1]["States"]["SaveFrame"];
    let selected = apply_template(&save_frame["ResultSelector"], &thumbnail, &context()).unwrap();
    let second =
        apply_result_path(&document(), selected, &result_path(save_frame.get("ResultPath"), "SaveFrame").unwrap())
            .unwrap();
    let joined = apply_template(&media["ResultSelector"], &json!([first, second]), &context()).unwrap();
    let output = joined
        .pointer(media["OutputPath"].as_str().unwrap().trim_start_matches('$').replace('.', "/").as_str())
        .unwrap()
        .clone();
    assert_valid("ExecutionDocument", &output, "the joined document");
    assert_eq!(output["thumbnail"]["key"], "thumbnail/a/talk.jpg");
    assert_eq!(output["renditions"]["outputs"][0]["label"], "720p");

    // Audio: the NoPicture branch adds nothing.
    let no_picture = &media["Branches"][1]["States"]["NoPicture"];
    let joined = apply_template(&media["ResultSelector"], &json!([first, no_picture["Result"]]), &context()).unwrap();
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
