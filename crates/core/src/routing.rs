//! The three EventBridge rules of the pipeline, as patterns, and EventBridge's matching of an event
//! against a pattern. `infra/template.yaml` writes the same patterns (a test compares them) and
//! the local platform routes its events with [`matches`], so both deliver the same events.

use serde_json::{Value, json};

/// Uploads under `inputs/` of the watch bucket start an execution.
pub fn upload_pattern(watch_bucket: &str) -> Value {
    json!({
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [watch_bucket]},
            "object": {"key": [{"prefix": "inputs/"}]}
        }
    })
}

/// State changes of this application's MediaConvert jobs go to await-mediaconvert's complete
/// entry point: the end states answer the task token, PROGRESSING and STATUS_UPDATE keep its
/// heartbeat alive while a long job runs.
pub fn job_state_pattern(application: &str) -> Value {
    json!({
        "source": ["aws.mediaconvert"],
        "detail-type": ["MediaConvert Job State Change"],
        "detail": {
            "status": ["COMPLETE", "ERROR", "CANCELED", "PROGRESSING", "STATUS_UPDATE"],
            "userMetadata": {"application": [application]}
        }
    })
}

/// An execution of the pipeline that ends without success is told to the notification topic.
/// The state machine notifies success itself; its failures are left uncaught, so that the state
/// that failed is where a redrive starts, and are told from here.
pub fn execution_failed_pattern(state_machine_arn: &str) -> Value {
    json!({
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            "stateMachineArn": [state_machine_arn]
        }
    })
}

/// A pattern this matcher cannot evaluate: refused rather than guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported EventBridge pattern at {path}: {what}")]
pub struct PatternError {
    pub path: String,
    pub what: String,
}

/// Whether `event` matches `pattern`, as EventBridge decides: every field the pattern names must
/// match; a field's list matches when any of its entries does (a value equal to the event's, or to
/// any element of the event's array); `prefix`, `suffix`, `equals-ignore-case`, `exists` and
/// `anything-but` (of values or of a prefix) are the content filters understood.
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, PatternError> {
    match_fields(pattern, Some(event), "")
}

fn match_fields(pattern: &Value, event: Option<&Value>, path: &str) -> Result<bool, PatternError> {
    let Value::Object(fields) = pattern else {
        return Err(PatternError { path: path.into(), what: "a pattern field must be an object or an array".into() });
    };
    for (name, want) in fields {
        let here = format!("{path}.{name}");
        let found = event.and_then(|e| e.get(name));
        let ok = match want {
            Value::Object(_) => match_fields(want, found, &here)?,
            Value::Array(entries) => match_any(entries, found, &here)?,
            _ => return Err(PatternError { path: here, what: "a leaf must be a list of values".into() }),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn match_any(entries: &[Value], found: Option<&Value>, path: &str) -> Result<bool, PatternError> {
    let values: Vec<&Value> = match found {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    for entry in entries {
        if let Value::Object(filter) = entry {
            if match_filter(filter, found, &values, path)? {
                return Ok(true);
            }
        } else if values.contains(&entry) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn match_filter(
    filter: &serde_json::Map<String, Value>,
    found: Option<&Value>,
    values: &[&Value],
    path: &str,
) -> Result<bool, PatternError> {
    let unsupported = |what: &str| PatternError { path: path.into(), what: what.into() };
    let (op, arg) = match filter.iter().next() {
        Some(pair) if filter.len() == 1 => pair,
        _ => return Err(unsupported("a content filter has exactly one operator")),
    };
    let strings = || values.iter().filter_map(|v| v.as_str());
    Ok(match (op.as_str(), arg) {
        ("prefix", Value::String(p)) => strings().any(|s| s.starts_with(p.as_str())),
        ("suffix", Value::String(p)) => strings().any(|s| s.ends_with(p.as_str())),
        ("equals-ignore-case", Value::String(p)) => strings().any(|s| s.eq_ignore_ascii_case(p)),
        ("exists", Value::Bool(want)) => found.is_some() == *want,
        ("anything-but", Value::Object(inner)) => match inner.get("prefix") {
            Some(Value::String(p)) if inner.len() == 1 => {
                !values.is_empty() && strings().count() == values.len() && strings().all(|s| !s.starts_with(p.as_str()))
            }
            _ => return Err(unsupported(&format!("anything-but {}", Value::Object(inner.clone())))),
        },
        ("anything-but", Value::Array(excluded)) => !values.is_empty() && values.iter().all(|v| !excluded.contains(v)),
        ("anything-but", single) => !values.is_empty() && values.iter().all(|v| *v != single),
        (op, arg) => return Err(unsupported(&format!("{op}: {arg}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(bucket: &str, key: &str) -> Value {
        json!({
            "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 5}, "reason": "PutObject"}
        })
    }

    fn job(status: &str, metadata: Value) -> Value {
        json!({
            "source": "aws.mediaconvert", "detail-type": "MediaConvert Job State Change",
            "detail": {"status": status, "jobId": "1", "userMetadata": metadata}
        })
    }

    #[test]
    fn uploads_under_inputs_of_the_watch_bucket_start_an_execution() {
        let p = upload_pattern("watch");
        assert_eq!(matches(&p, &upload("watch", "inputs/talk.mp4")), Ok(true));
        assert_eq!(matches(&p, &upload("watch", "inputs/a/b/talk.mp4.CHUNK0")), Ok(true));
        assert_eq!(matches(&p, &upload("watch", ".mediaflow/claims/x")), Ok(false));
        assert_eq!(matches(&p, &upload("watch", "input/talk.mp4")), Ok(false));
        assert_eq!(matches(&p, &upload("public", "inputs/talk.mp4")), Ok(false));
        let mut deleted = upload("watch", "inputs/talk.mp4");
        deleted["detail-type"] = json!("Object Deleted");
        assert_eq!(matches(&p, &deleted), Ok(false));
    }

    #[test]
    fn only_this_applications_job_states_reach_await_mediaconvert() {
        let p = job_state_pattern("mediaflow");
        for status in ["COMPLETE", "ERROR", "CANCELED", "PROGRESSING", "STATUS_UPDATE"] {
            assert_eq!(
                matches(&p, &job(status, json!({"application": "mediaflow", "ref": "r"}))),
                Ok(true),
                "{status}"
            );
        }
        assert_eq!(matches(&p, &job("SUBMITTED", json!({"application": "mediaflow"}))), Ok(false));
        assert_eq!(matches(&p, &job("COMPLETE", json!({"application": "other"}))), Ok(false));
        assert_eq!(matches(&p, &job("COMPLETE", json!({}))), Ok(false));
    }

    #[test]
    fn the_documented_event_fixtures_match() {
        let read = |name: &str| -> Value {
            let path = format!("{}/../../tests/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let created = read("s3-object-created.json");
        let bucket = created["detail"]["bucket"]["name"].as_str().unwrap();
        let mut under_inputs = created.clone();
        under_inputs["detail"]["object"]["key"] = json!("inputs/example-key");
        assert_eq!(matches(&upload_pattern(bucket), &under_inputs), Ok(true));
        assert_eq!(matches(&upload_pattern(bucket), &created), Ok(false), "example-key is not under inputs/");
        for name in ["mediaconvert-complete.json", "mediaconvert-error.json", "mediaconvert-canceled.json"] {
            let mut event = read(name);
            event["detail"]["userMetadata"] = json!({"application": "mediaflow", "ref": "r"});
            assert_eq!(matches(&job_state_pattern("mediaflow"), &event), Ok(true), "{name}");
        }
        let failed = read("sfn-execution-failed.json");
        let machine = failed["detail"]["stateMachineArn"].as_str().unwrap();
        assert_eq!(matches(&execution_failed_pattern(machine), &failed), Ok(true));
    }

    #[test]
    fn executions_of_the_pipeline_that_end_without_success_are_told() {
        let machine = "arn:aws:states:us-east-1:111122223333:stateMachine:mediaflow-pipeline";
        let p = execution_failed_pattern(machine);
        let event = |status: &str, machine: &str| {
            json!({
                "source": "aws.states", "detail-type": "Step Functions Execution Status Change",
                "detail": {"status": status, "stateMachineArn": machine, "name": "n", "error": null}
            })
        };
        for status in ["FAILED", "TIMED_OUT", "ABORTED"] {
            assert_eq!(matches(&p, &event(status, machine)), Ok(true), "{status}");
        }
        for status in ["RUNNING", "SUCCEEDED", "PENDING_REDRIVE"] {
            assert_eq!(matches(&p, &event(status, machine)), Ok(false), "{status}");
        }
        assert_eq!(
            matches(&p, &event("FAILED", "arn:aws:states:us-east-1:111122223333:stateMachine:other")),
            Ok(false)
        );
    }

    #[test]
    fn content_filters_follow_eventbridge() {
        let event = json!({"a": "Photo.JPG", "n": 3, "tags": ["x", "y"]});
        let yes = |p: Value| assert_eq!(matches(&p, &event), Ok(true), "{p}");
        let no = |p: Value| assert_eq!(matches(&p, &event), Ok(false), "{p}");
        yes(json!({"a": [{"suffix": ".JPG"}]}));
        no(json!({"a": [{"suffix": ".jpg"}]}));
        yes(json!({"a": [{"equals-ignore-case": "photo.jpg"}]}));
        yes(json!({"n": [3]}));
        no(json!({"n": ["3"]}));
        yes(json!({"tags": ["y"]}));
        yes(json!({"missing": [{"exists": false}]}));
        no(json!({"a": [{"exists": false}]}));
        yes(json!({"a": [{"anything-but": ["x"]}]}));
        no(json!({"a": [{"anything-but": "Photo.JPG"}]}));
        no(json!({"a": [{"anything-but": {"prefix": "Ph"}}]}));
        no(json!({"missing": [{"anything-but": "x"}]}));
        assert!(matches(&json!({"a": [{"numeric": [">", 0]}]}), &event).is_err());
        assert!(matches(&json!({"a": "Photo.JPG"}), &event).is_err());
    }
}
