//! `statemachine/pipeline.asl.json` holds together: every transition lands, every state is
//! reachable, every error name exists and is documented, a failure stays where it happened,
//! every Task reads and writes what its contract names.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::read_json;
use mediaflow_core::ErrorName;
use mediaflow_core::statemachine::{FUNCTION_PLACEHOLDERS, TASK_CONTRACTS, task_contract};
use serde_json::Value;

/// Lambda's own transient errors, as Step Functions names them.
const LAMBDA_TRANSIENT: [&str; 4] = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

fn definition() -> Value {
    read_json("statemachine/pipeline.asl.json")
}

/// A state, wherever it is (top level, a Parallel's branch, a Map's processor).
struct Located<'a> {
    name: &'a str,
    state: &'a Value,
}

fn all_states(def: &Value) -> Vec<Located<'_>> {
    fn walk<'a>(machine: &'a Value, out: &mut Vec<Located<'a>>) {
        let scope = machine["States"].as_object().expect("States is an object");
        for (name, state) in scope {
            out.push(Located { name, state });
            for branch in state.get("Branches").and_then(Value::as_array).into_iter().flatten() {
                walk(branch, out);
            }
            if let Some(processor) = state.get("ItemProcessor").or_else(|| state.get("Iterator")) {
                walk(processor, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(def, &mut out);
    out
}

fn targets(state: &Value) -> Vec<&str> {
    let mut t: Vec<&str> = Vec::new();
    for field in ["Next", "Default"] {
        if let Some(n) = state.get(field).and_then(Value::as_str) {
            t.push(n);
        }
    }
    for list in ["Choices", "Catch"] {
        for item in state.get(list).and_then(Value::as_array).into_iter().flatten() {
            t.extend(item.get("Next").and_then(Value::as_str));
        }
    }
    t
}

#[test]
fn every_transition_lands_and_every_state_is_reachable() {
    let def = definition();
    let mut machines = vec![&def];
    let mut names = BTreeSet::new();
    for s in all_states(&def) {
        assert!(names.insert(s.name), "the state name {} is used twice", s.name);
        machines.extend(s.state.get("Branches").and_then(Value::as_array).into_iter().flatten());
    }
    for machine in machines {
        let scope = machine["States"].as_object().unwrap();
        let start = machine["StartAt"].as_str().unwrap();
        assert!(scope.contains_key(start), "StartAt {start} does not exist");
        let mut seen = BTreeSet::from([start]);
        let mut todo = vec![start];
        while let Some(name) = todo.pop() {
            let state = &scope[name];
            let kind = state["Type"].as_str().unwrap();
            let terminal = state.get("End") == Some(&Value::Bool(true)) || matches!(kind, "Succeed" | "Fail");
            assert!(terminal || state.get("Next").is_some() || kind == "Choice", "{name} neither ends nor goes on");
            for t in targets(state) {
                assert!(scope.contains_key(t), "{name} goes to {t}, which is not in its scope");
                if seen.insert(t) {
                    todo.push(t);
                }
            }
        }
        let unreachable: Vec<_> = scope.keys().filter(|k| !seen.contains(k.as_str())).collect();
        assert!(unreachable.is_empty(), "unreachable states: {unreachable:?}");
    }
}

#[test]
fn it_is_the_flow_the_architecture_draws() {
    let def = definition();
    let states: BTreeMap<&str, &Value> = all_states(&def).into_iter().map(|s| (s.name, s.state)).collect();
    let route: BTreeMap<&str, &str> = states["RouteByKind"]["Choices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c.get("StringEquals")?.as_str()?, c["Next"].as_str()?)))
        .collect();
    assert_eq!(route["chunk"], "AssembleCheck");
    assert_eq!(route["unsupported"], "Unsupported");
    assert_eq!(route["duplicate"], "Duplicate");
    assert_eq!(route["superseded"], "Superseded");
    assert_eq!(route["caption"], "ConvertCaption");
    assert_eq!(route["mp3"], "CopyMp3");
    assert_eq!(states["Unsupported"]["Type"], "Succeed");
    assert_eq!(states["Duplicate"]["Type"], "Succeed");
    assert_eq!(states["ConvertCaption"]["Next"], "Publish");
    assert_eq!(states["CopyMp3"]["Next"], "Probe");
    assert_eq!(states["ArchiveOriginal"]["Next"], "Probe");
    assert_eq!(states["Media"]["Type"], "Parallel");
    assert_eq!(states["Media"]["Next"], "HasTranscription");
    assert_eq!(states["MeasureMp3Loudness"]["Next"], "HasTranscription");
    // Machine captions: planned after Probe, started beside the media work, read after it.
    assert_eq!(states["Probe"]["Next"], "PlanCaptions");
    assert_eq!(states["PlanCaptions"]["Next"], "WantsCaptions");
    assert_eq!(states["WantsCaptions"]["Default"], "RouteByMedia");
    for start in ["StartTranscription", "StartIdentifiedTranscription"] {
        assert_eq!(states[start]["Resource"], "arn:aws:states:::aws-sdk:transcribe:startTranscriptionJob");
        assert_eq!(states[start]["Next"], "RouteByMedia");
    }
    assert_eq!(states["HasTranscription"]["Choices"][0]["Next"], "AwaitCaptions");
    assert_eq!(states["HasTranscription"]["Default"], "SaveMetadata");
    assert_eq!(states["AwaitCaptions"]["Next"], "SaveMetadata");
    assert_eq!(states["SaveMetadata"]["Next"], "Publish");
    // One step makes an upload's outputs public; a superseded upload succeeds untold.
    assert_eq!(states["Publish"]["Next"], "RouteByPublish");
    assert_eq!(states["RouteByPublish"]["Choices"][0]["Next"], "Superseded");
    assert_eq!(states["RouteByPublish"]["Default"], "NotifySuccess");
    assert_eq!(states["Superseded"]["Type"], "Succeed");
    assert_eq!(states["NotifySuccess"]["Resource"], "arn:aws:states:::sns:publish");
    assert_eq!(states["NotifySuccess"]["Parameters"]["TopicArn"], "${NotificationTopicArn}");
    assert_eq!(states["NotifySuccess"]["Next"], "Done");
    let transcode = states["Transcode"];
    assert_eq!(transcode["Resource"], "arn:aws:states:::lambda:invoke.waitForTaskToken");
    assert_eq!(transcode["Parameters"]["Payload"]["taskToken.$"], "$$.Task.Token");
    assert_eq!(transcode["Parameters"]["Payload"]["redriveCount.$"], "$$.Execution.RedriveCount");
    assert!(transcode["HeartbeatSeconds"].as_u64().unwrap() < transcode["TimeoutSeconds"].as_u64().unwrap());
    let lost = transcode["Catch"].as_array().unwrap();
    assert!(lost.iter().any(|c| c["Next"] == "CheckTranscode"
        && c["ErrorEquals"].as_array().unwrap().contains(&"States.HeartbeatTimeout".into())));
}

/// The function a Task invokes, by its placeholder.
fn function_of(state: &Value) -> Option<&str> {
    let resource = state["Resource"].as_str()?;
    let placeholder = match resource {
        r if r.starts_with("arn:aws:states:::lambda:invoke") => state["Parameters"]["FunctionName"].as_str()?,
        r => r,
    };
    let name = placeholder.strip_prefix("${")?.strip_suffix('}')?;
    FUNCTION_PLACEHOLDERS.iter().find(|(p, _)| *p == name).map(|(_, f)| *f)
}

#[test]
fn every_task_retries_transient_errors() {
    let def = definition();
    for s in all_states(&def).into_iter().filter(|s| s.state["Type"] == "Task") {
        if function_of(s.state).is_none() {
            continue;
        }
        let retriers = s.state["Retry"].as_array().unwrap_or_else(|| panic!("{} has no Retry", s.name));
        let transient = retriers
            .iter()
            .find(|r| r["ErrorEquals"].as_array().unwrap().contains(&"MediaFlow.Transient".into()))
            .unwrap_or_else(|| panic!("{} does not retry MediaFlow.Transient", s.name));
        for lambda in LAMBDA_TRANSIENT {
            assert!(transient["ErrorEquals"].as_array().unwrap().contains(&lambda.into()), "{}: {lambda}", s.name);
        }
        assert!(transient["BackoffRate"].as_f64().unwrap() > 1.0, "{}: no backoff", s.name);
        assert_eq!(transient["JitterStrategy"], "FULL", "{}: no jitter", s.name);
    }
}

/// A redrive restarts at the state that failed. So a failure is never caught on its way to a
/// Fail state (the redrive would restart there and fail again) or to a notification of failure:
/// a `Catch` only recovers (and may go on to the success notice), and nothing catches
/// everything. The topic hears of failures from the execution's status.
#[test]
fn a_failure_stays_at_the_state_that_failed() {
    let def = definition();
    let located = all_states(&def);
    for s in &located {
        for c in s.state["Catch"].as_array().into_iter().flatten() {
            let errors = c["ErrorEquals"].as_array().unwrap();
            assert!(!errors.contains(&"States.ALL".into()), "{} catches every error", s.name);
            let mut todo = vec![c["Next"].as_str().unwrap()];
            let mut seen = BTreeSet::new();
            while let Some(name) = todo.pop() {
                if !seen.insert(name) {
                    continue;
                }
                let next = located.iter().find(|l| l.name == name).unwrap().state;
                assert_ne!(next["Type"], "Fail", "{}: a Catch leads to the Fail state {name}", s.name);
                let succeeded = next["Parameters"]["MessageAttributes"]["status"]["StringValue"] == "SUCCEEDED";
                let notifies = next["Resource"] == "arn:aws:states:::sns:publish";
                assert!(!notifies || succeeded, "{}: a Catch leads to the notice {name}", s.name);
                todo.extend(targets(next));
            }
        }
    }
}

/// What each error means and what to do about it, as README's table says: a name the code
/// raises is in the table, and the table names nothing else.
fn documented_errors() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let table = readme.split("## Errors").nth(1).expect("README has an Errors section");
    table
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .map(String::from)
        .collect()
}

#[test]
fn error_names_and_the_error_enum_agree() {
    let def = definition();
    let mut used = BTreeSet::new();
    for s in all_states(&def) {
        for list in ["Retry", "Catch"] {
            for item in s.state[list].as_array().into_iter().flatten() {
                for e in item["ErrorEquals"].as_array().unwrap() {
                    used.insert(e.as_str().unwrap().to_string());
                }
            }
        }
        if let Some(e) = s.state.get("Error").and_then(Value::as_str) {
            used.insert(e.to_string());
        }
    }
    for name in &used {
        // Transcribe's own, which tests/transcription_model.rs checks against its API model.
        let known = ErrorName::from_error_type(name).is_some()
            || LAMBDA_TRANSIENT.contains(&name.as_str())
            || name.starts_with("Transcribe.")
            || name.starts_with("States.");
        assert!(known, "{name} is used in the definition but raised by no code");
    }
    let documented = documented_errors();
    for &name in ErrorName::ALL {
        assert!(documented.contains(name.as_str()), "{name} is raised by the code but README's table lacks it");
    }
    assert_eq!(documented.len(), ErrorName::ALL.len(), "README's table names errors no code raises: {documented:?}");
}

/// Resolves `#/$defs/X` references and nullable wrappers down to an object schema.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> Vec<&'a Value> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local refs only");
        return resolve(&root["$defs"][name], root);
    }
    for combinator in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
            return options.iter().flat_map(|o| resolve(o, root)).collect();
        }
    }
    vec![schema]
}

/// The schema of `path` (`$.a.b`) inside `root`, if the path names a field.
fn schema_at<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let rest = path.strip_prefix('$')?;
    let mut nodes = vec![root];
    for step in rest.split('.').filter(|f| !f.is_empty()) {
        // `audio[0]`: the field, then an item of its array.
        let (field, indexed) = match step.split_once('[') {
            Some((field, index)) if index.ends_with(']') => (field, true),
            _ => (step, false),
        };
        nodes =
            nodes.into_iter().flat_map(|n| resolve(n, root)).filter_map(|n| n.get("properties")?.get(field)).collect();
        if indexed {
            nodes = nodes.into_iter().flat_map(|n| resolve(n, root)).filter_map(|n| n.get("items")).collect();
        }
        if nodes.is_empty() {
            return None;
        }
    }
    nodes.into_iter().next()
}

/// The name of the `$defs` type a schema node refers to (through a nullable wrapper).
fn type_name(node: &Value) -> Option<&str> {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        return r.strip_prefix("#/$defs/");
    }
    node.get("anyOf")?.as_array()?.iter().find_map(type_name)
}

/// Every `….$` path in a Parameters object, with the key it fills.
fn reads(params: &Value, out: &mut Vec<String>) {
    match params {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.ends_with(".$"), v.as_str()) {
                    (true, Some(p)) if p.starts_with("$.") || p == "$" => out.push(p.to_string()),
                    _ => reads(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| reads(v, out)),
        _ => {}
    }
}

#[test]
fn tasks_read_and_write_what_their_contracts_name() {
    let def = definition();
    let document = read_json("schemas/ExecutionDocument.json");
    let mut contracted = BTreeSet::new();
    for s in all_states(&def) {
        let state = s.state;
        // Choices read the execution document.
        for choice in state["Choices"].as_array().into_iter().flatten() {
            let mut vars = Vec::new();
            collect_variables(choice, &mut vars);
            for v in vars {
                assert!(schema_at(&document, &v).is_some(), "{}: {v} is not a field of the execution document", s.name);
            }
        }
        if function_of(state).is_none() {
            continue;
        }
        let contract = task_contract(s.name).unwrap_or_else(|| panic!("{} has no TaskContract", s.name));
        contracted.insert(s.name);
        let payload = if state["Resource"].as_str().unwrap().starts_with("arn:aws:states:::lambda:invoke") {
            &state["Parameters"]["Payload"]
        } else {
            &state["Parameters"]
        };
        // The payload's keys are exactly the input type's fields (and all its required ones).
        let input = read_json(format!("schemas/{}.json", contract.input));
        let variant = match payload.get("action").and_then(Value::as_str) {
            Some(action) => resolve(&input, &input)
                .into_iter()
                .find(|v| v["properties"]["action"]["const"] == action)
                .unwrap_or_else(|| panic!("{}: no {} variant for action {action}", s.name, contract.input)),
            None => &input,
        };
        let fields: Vec<String> =
            payload.as_object().unwrap().keys().map(|k| k.trim_end_matches(".$").to_string()).collect();
        for f in &fields {
            assert!(variant["properties"].get(f).is_some(), "{}: {f} is not a field of {}", s.name, contract.input);
        }
        for r in variant["required"].as_array().into_iter().flatten() {
            assert!(fields.iter().any(|f| f == r.as_str().unwrap()), "{}: the required {r} is not given", s.name);
        }
        // What it reads from the document exists there (Classify alone reads the event).
        if s.name != "Classify" {
            let mut paths = Vec::new();
            reads(payload, &mut paths);
            for p in paths {
                assert!(schema_at(&document, &p).is_some(), "{}: {p} is not a field of the execution document", s.name);
            }
        }
        // Where it writes holds its output type.
        let result_path = state["ResultPath"].as_str().unwrap();
        if result_path != "$" {
            let slot = schema_at(&document, result_path)
                .unwrap_or_else(|| panic!("{}: ResultPath {result_path} is not a field of the document", s.name));
            assert_eq!(
                type_name(slot),
                Some(contract.output),
                "{}: {result_path} does not hold a {}",
                s.name,
                contract.output
            );
        }
        for c in state["Catch"].as_array().into_iter().flatten() {
            let path = c["ResultPath"].as_str().unwrap();
            assert_eq!(type_name(schema_at(&document, path).unwrap()), Some("ErrorInfo"), "{}: {path}", s.name);
        }
    }
    let all: BTreeSet<&str> = TASK_CONTRACTS.iter().map(|c| c.state).collect();
    assert_eq!(contracted, all, "TASK_CONTRACTS names states the definition does not have");
}

fn collect_variables(rule: &Value, out: &mut Vec<String>) {
    if let Some(v) = rule.get("Variable").and_then(Value::as_str) {
        out.push(v.to_string());
    }
    for key in ["And", "Or"] {
        for r in rule.get(key).and_then(Value::as_array).into_iter().flatten() {
            collect_variables(r, out);
        }
    }
    if let Some(r) = rule.get("Not") {
        collect_variables(r, out);
    }
}

/// AWS's rules as the npm `asl-validator` knows them, on the file as shipped and as infra fills it.
#[test]
fn asl_validator_accepts_the_definition() {
    let validator = common::repo().join("node_modules/.bin/asl-validator");
    assert!(validator.exists(), "asl-validator is missing: run `npm ci` (scripts/test does)");
    let filled = mediaflow_core::statemachine::fill(
        mediaflow_core::statemachine::DEFINITION,
        &mediaflow_core::statemachine::arns("us-east-1", "111122223333", "mediaflow"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let filled_path = dir.path().join("filled.asl.json");
    std::fs::write(&filled_path, filled).unwrap();
    let shipped = common::repo().join("statemachine/pipeline.asl.json");
    let broken_path = dir.path().join("broken.asl.json");
    std::fs::write(
        &broken_path,
        std::fs::read_to_string(&shipped).unwrap().replace("\"Next\": \"Probe\"", "\"Next\": \"Nowhere\""),
    )
    .unwrap();
    let run =
        |path: &std::path::Path| std::process::Command::new(&validator).arg("--json-path").arg(path).output().unwrap();
    for path in [&shipped, &filled_path] {
        let out = run(path);
        assert!(
            out.status.success(),
            "{}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!run(&broken_path).status.success(), "asl-validator let a missing target through");
}
