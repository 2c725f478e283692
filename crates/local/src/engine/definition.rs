//! Loading a definition: everything in it must be something the engine does, or loading fails
//! naming the construct. A field the engine would skip silently would make the local run
//! differ from AWS without anyone knowing.

use serde_json::Value;

/// A definition the engine can run, as JSON (states are read where they are used).
#[derive(Clone, Debug)]
pub struct Definition {
    pub json: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("the definition is not JSON: {0}")]
    NotJson(String),
    #[error("{at}: {what}")]
    Invalid { at: String, what: String },
    #[error("{at}: the engine does not implement {construct}")]
    Unsupported { at: String, construct: String },
}

/// Task resources the engine runs. Lambda function ARNs (`arn:aws:lambda:…:function:…`) too.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
pub const LAMBDA_INVOKE_WAIT: &str = "arn:aws:states:::lambda:invoke.waitForTaskToken";
pub const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";

const COMMON: &[&str] = &["Type", "Comment", "Next", "End", "InputPath", "OutputPath"];

fn fields_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pass" => &["Parameters", "Result", "ResultPath"],
        "Task" => &[
            "Resource",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
        ],
        "Choice" => &["Choices", "Default"],
        "Wait" => &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
        "Succeed" => &[],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &["Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"],
        "Map" => &[
            "ItemProcessor",
            "Iterator",
            "ItemsPath",
            "ItemSelector",
            "Parameters",
            "MaxConcurrency",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        _ => return None,
    })
}

impl Definition {
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let json: Value = serde_json::from_str(text).map_err(|e| LoadError::NotJson(e.to_string()))?;
        check_machine(&json, "")?;
        Ok(Definition { json })
    }
}

fn invalid(at: &str, what: impl Into<String>) -> LoadError {
    LoadError::Invalid { at: at.to_string(), what: what.into() }
}

fn unsupported(at: &str, construct: impl Into<String>) -> LoadError {
    LoadError::Unsupported { at: at.to_string(), construct: construct.into() }
}

/// A state machine or a branch: `StartAt`, `States` and what else the top level may hold.
fn check_machine(machine: &Value, at: &str) -> Result<(), LoadError> {
    let Value::Object(fields) = machine else { return Err(invalid(at, "a state machine must be an object")) };
    for key in fields.keys() {
        match key.as_str() {
            "StartAt" | "States" | "Comment" | "Version" | "TimeoutSeconds" | "ProcessorConfig" => {}
            "QueryLanguage" if machine[key] == "JSONPath" => {}
            other => return Err(unsupported(at, format!("the top-level field {other:?}"))),
        }
    }
    if let Some(config) = machine.get("ProcessorConfig")
        && config.get("Mode").is_some_and(|m| m != "INLINE")
    {
        return Err(unsupported(at, format!("ProcessorConfig {config}")));
    }
    let Some(states) = machine["States"].as_object() else { return Err(invalid(at, "States must be an object")) };
    let start = machine["StartAt"].as_str().ok_or_else(|| invalid(at, "StartAt is missing"))?;
    if !states.contains_key(start) {
        return Err(invalid(at, format!("StartAt names no state: {start:?}")));
    }
    for (name, state) in states {
        check_state(name, state, states)?;
    }
    Ok(())
}

fn check_state(name: &str, state: &Value, siblings: &serde_json::Map<String, Value>) -> Result<(), LoadError> {
    let at = format!("state {name:?}");
    let kind = state["Type"].as_str().ok_or_else(|| invalid(&at, "Type is missing"))?;
    let own = fields_of(kind).ok_or_else(|| unsupported(&at, format!("the state type {kind:?}")))?;
    for key in state.as_object().into_iter().flat_map(|o| o.keys()) {
        if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
            return Err(unsupported(&at, format!("the field {key:?} in a {kind} state")));
        }
    }
    let terminal = matches!(kind, "Choice" | "Succeed" | "Fail");
    if !terminal {
        match (state.get("Next"), state.get("End")) {
            (Some(Value::String(next)), None) if siblings.contains_key(next) => {}
            (Some(next), None) => return Err(invalid(&at, format!("Next names no state: {next}"))),
            (None, Some(Value::Bool(true))) => {}
            _ => return Err(invalid(&at, "exactly one of Next and End: true")),
        }
    }
    let target_exists = |next: &Value, what: &str| -> Result<(), LoadError> {
        match next.as_str() {
            Some(n) if siblings.contains_key(n) => Ok(()),
            _ => Err(invalid(&at, format!("{what} names no state: {next}"))),
        }
    };
    for catcher in state["Catch"].as_array().into_iter().flatten() {
        target_exists(&catcher["Next"], "a Catch")?;
    }
    if kind == "Choice" {
        for rule in state["Choices"].as_array().ok_or_else(|| invalid(&at, "Choices must be a list"))? {
            target_exists(&rule["Next"], "a choice rule")?;
        }
        if let Some(default) = state.get("Default") {
            target_exists(default, "Default")?;
        }
    }
    if kind == "Task" {
        let resource = state["Resource"].as_str().ok_or_else(|| invalid(&at, "Resource is missing"))?;
        let known = [LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT, SNS_PUBLISH].contains(&resource)
            || (resource.starts_with("arn:aws:lambda:") && resource.contains(":function:"));
        if !known {
            return Err(unsupported(&at, format!("the Task resource {resource:?}")));
        }
    }
    for branch in state["Branches"].as_array().into_iter().flatten() {
        check_machine(branch, &format!("{at}, a branch"))?;
    }
    if let Some(processor) = state.get("ItemProcessor").or_else(|| state.get("Iterator")) {
        check_machine(processor, &format!("{at}, its item processor"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn load(definition: Value) -> Result<Definition, LoadError> {
        Definition::parse(&definition.to_string())
    }

    #[test]
    fn the_pipeline_loads_once_filled() {
        use mediaflow_core::statemachine::{DEFINITION, arns, fill};
        let err = Definition::parse(DEFINITION).unwrap_err();
        assert!(err.to_string().contains("${ClassifyFunctionArn}"), "{err}");
        Definition::parse(&fill(DEFINITION, &arns("us-east-1", "123456789012", "mediaflow")).unwrap()).unwrap();
    }

    #[test]
    fn what_the_engine_does_not_do_is_refused_by_name() {
        let refused = |state: Value, construct: &str| {
            let err = load(json!({"StartAt": "S", "States": {"S": state}})).unwrap_err();
            assert!(matches!(err, LoadError::Unsupported { .. }), "{err}");
            assert!(err.to_string().contains(construct), "{err} should name {construct}");
        };
        refused(json!({"Type": "Pass", "Assign": {"x": 1}, "End": true}), "\"Assign\"");
        refused(json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": true}), "dynamodb");
        refused(json!({"Type": "Map", "ItemReader": {}, "ItemProcessor": {}, "End": true}), "\"ItemReader\"");
        refused(json!({"Type": "Task", "Resource": "x", "Arguments": {}, "End": true}), "\"Arguments\"");
        refused(json!({"Type": "Sleep", "End": true}), "\"Sleep\"");
        let err = load(json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}))
            .unwrap_err();
        assert!(err.to_string().contains("QueryLanguage"), "{err}");
        let nested = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": {}, "End": true}}}]}}});
        assert!(load(nested).unwrap_err().to_string().contains("\"Output\""));
    }

    #[test]
    fn broken_transitions_are_refused() {
        let err = load(json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "Nowhere"}}})).unwrap_err();
        assert!(err.to_string().contains("Nowhere"), "{err}");
        let err = load(json!({"StartAt": "X", "States": {"S": {"Type": "Succeed"}}})).unwrap_err();
        assert!(err.to_string().contains("StartAt"), "{err}");
        let err = load(json!({"StartAt": "S", "States": {"S": {"Type": "Pass"}}})).unwrap_err();
        assert!(err.to_string().contains("End"), "{err}");
    }
}
