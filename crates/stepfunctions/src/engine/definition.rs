//! Loading a definition: everything in it must be something the engine does, or loading fails
//! naming the construct. A field the engine would skip silently would make the local run
//! differ from AWS without anyone knowing.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map as Object, Value};

use super::states::{
    Catcher, Choice, ChoiceRule, Fail, Filter, Kind, Machine, Map, Parallel, Pass, Recovery, ResultPath, Retrier, Rule,
    Seconds, Shape, State, Task, Text, Wait,
};

/// A definition the engine can run, its states typed once at load.
#[derive(Clone, Debug)]
pub struct Definition {
    pub machine: Machine,
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

/// An AWS SDK integration in its request-response form (`arn:aws:states:::aws-sdk:<service>:
/// <action>`); `.sync` and `.waitForTaskToken` forms are not run here.
pub fn is_aws_sdk(resource: &str) -> bool {
    resource
        .strip_prefix("arn:aws:states:::aws-sdk:")
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(service, action)| !service.is_empty() && !action.is_empty() && !action.contains(['.', ':']))
}

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
        Ok(Definition { machine: load_machine(&json, "")? })
    }
}

fn invalid(at: &str, what: impl Into<String>) -> LoadError {
    LoadError::Invalid { at: at.to_string(), what: what.into() }
}

fn unsupported(at: &str, construct: impl Into<String>) -> LoadError {
    LoadError::Unsupported { at: at.to_string(), construct: construct.into() }
}

/// A state machine or a branch: `StartAt`, `States` and what else the top level may hold.
fn load_machine(machine: &Value, at: &str) -> Result<Machine, LoadError> {
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
    let timeout = match machine.get("TimeoutSeconds") {
        None => None,
        Some(v) => {
            Some(Duration::from_secs(v.as_u64().ok_or_else(|| invalid(at, "TimeoutSeconds must be a whole number"))?))
        }
    };
    let states = states
        .iter()
        .map(|(name, state)| Ok((name.clone(), load_state(name, state, states)?)))
        .collect::<Result<HashMap<_, _>, LoadError>>()?;
    Ok(Machine { start_at: start.to_string(), states, timeout })
}

fn load_state(name: &str, state: &Value, siblings: &Object<String, Value>) -> Result<State, LoadError> {
    let at = format!("state {name:?}");
    let kind = state["Type"].as_str().ok_or_else(|| invalid(&at, "Type is missing"))?;
    let own = fields_of(kind).ok_or_else(|| unsupported(&at, format!("the state type {kind:?}")))?;
    for key in state.as_object().into_iter().flat_map(|o| o.keys()) {
        if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
            return Err(unsupported(&at, format!("the field {key:?} in a {kind} state")));
        }
    }
    let target = |next: &Value, what: &str| -> Result<String, LoadError> {
        match next.as_str() {
            Some(n) if siblings.contains_key(n) => Ok(n.to_string()),
            _ => Err(invalid(&at, format!("{what} names no state: {next}"))),
        }
    };
    let next = match kind {
        "Choice" | "Succeed" | "Fail" => None,
        _ => match (state.get("Next"), state.get("End")) {
            (Some(next), None) => Some(target(next, "Next")?),
            (None, Some(Value::Bool(true))) => None,
            _ => return Err(invalid(&at, "exactly one of Next and End: true")),
        },
    };
    let template = |field: &str| state.get(field).cloned();
    let recovery = || recovery(state, &at, &target);
    let shape = || -> Result<Shape, LoadError> {
        Ok(Shape {
            result_selector: template("ResultSelector"),
            result_path: result_path(state.get("ResultPath"), &at)?,
        })
    };
    let kind = match kind {
        "Pass" => Kind::Pass(Pass {
            result: template("Result"),
            parameters: template("Parameters"),
            result_path: result_path(state.get("ResultPath"), &at)?,
        }),
        "Task" => Kind::Task(task(state, &at, shape()?, recovery()?)?),
        "Choice" => {
            let mut choices = Vec::new();
            for rule in state["Choices"].as_array().ok_or_else(|| invalid(&at, "Choices must be a list"))? {
                choices.push(ChoiceRule { rule: load_rule(rule, &at)?, next: target(&rule["Next"], "a choice rule")? });
            }
            let default = state.get("Default").map(|d| target(d, "Default")).transpose()?;
            Kind::Choice(Choice { choices, default })
        }
        "Wait" => Kind::Wait(wait(state, &at)?),
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail(Fail { error: text(state, "Error", &at)?, cause: text(state, "Cause", &at)? }),
        "Parallel" => {
            let branches = state["Branches"].as_array().ok_or_else(|| invalid(&at, "Branches must be a list"))?;
            let branches =
                branches.iter().map(|b| load_machine(b, &format!("{at}, a branch"))).collect::<Result<_, _>>()?;
            Kind::Parallel(Parallel {
                branches,
                parameters: template("Parameters"),
                shape: shape()?,
                recovery: recovery()?,
            })
        }
        _ => {
            let processor = state.get("ItemProcessor").or_else(|| state.get("Iterator"));
            let processor = processor.ok_or_else(|| invalid(&at, "a Map needs an ItemProcessor"))?;
            let max_concurrency = match state.get("MaxConcurrency") {
                None => 0,
                Some(n) => n.as_u64().ok_or_else(|| invalid(&at, "MaxConcurrency must be a whole number"))? as usize,
            };
            Kind::Map(Map {
                processor: Box::new(load_machine(processor, &format!("{at}, its item processor"))?),
                items_path: path_field(state, "ItemsPath", &at)?.unwrap_or_else(|| "$".into()),
                item_selector: template("ItemSelector").or_else(|| template("Parameters")),
                max_concurrency,
                shape: shape()?,
                recovery: recovery()?,
            })
        }
    };
    Ok(State {
        next,
        input_path: filter(state, "InputPath", &at)?,
        output_path: filter(state, "OutputPath", &at)?,
        kind,
    })
}

fn task(state: &Value, at: &str, shape: Shape, recovery: Recovery) -> Result<Task, LoadError> {
    let resource = state["Resource"].as_str().ok_or_else(|| invalid(at, "Resource is missing"))?;
    let known = [LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT, SNS_PUBLISH].contains(&resource)
        || (resource.starts_with("arn:aws:lambda:") && resource.contains(":function:"))
        || is_aws_sdk(resource);
    if !known {
        return Err(unsupported(at, format!("the Task resource {resource:?}")));
    }
    Ok(Task {
        resource: resource.to_string(),
        parameters: state.get("Parameters").cloned(),
        timeout: seconds(state, "TimeoutSeconds", at)?,
        heartbeat: seconds(state, "HeartbeatSeconds", at)?,
        shape,
        recovery,
    })
}

/// A field that must be a string (a path), if present.
fn path_field(state: &Value, field: &str, at: &str) -> Result<Option<String>, LoadError> {
    match state.get(field) {
        None => Ok(None),
        Some(Value::String(path)) => Ok(Some(path.clone())),
        Some(other) => Err(invalid(at, format!("{field} {other} is not a path"))),
    }
}

fn filter(state: &Value, field: &str, at: &str) -> Result<Filter, LoadError> {
    Ok(match state.get(field) {
        None => Filter::All,
        Some(Value::Null) => Filter::Nothing,
        Some(Value::String(path)) => Filter::Path(path.clone()),
        Some(other) => return Err(invalid(at, format!("{field} {other} is not a path"))),
    })
}

/// At most one of `fields` may be given (a value and its `…Path` form, or a Wait's four).
fn at_most_one(state: &Value, fields: &[&str], at: &str) -> Result<(), LoadError> {
    let given: Vec<&str> = fields.iter().copied().filter(|f| state.get(*f).is_some()).collect();
    match given.as_slice() {
        [_, _, ..] => Err(invalid(at, format!("only one of {} may be given", given.join(" and ")))),
        _ => Ok(()),
    }
}

/// `ResultPath`: absent or `$`, `null`, or `$.` and field names.
pub fn result_path(value: Option<&Value>, at: &str) -> Result<ResultPath, LoadError> {
    let path = match value {
        None => return Ok(ResultPath::Replace),
        Some(Value::Null) => return Ok(ResultPath::Discard),
        Some(Value::String(p)) => p.as_str(),
        Some(other) => return Err(invalid(at, format!("ResultPath {other} is not a path"))),
    };
    if path == "$" {
        return Ok(ResultPath::Replace);
    }
    match path.strip_prefix("$.") {
        Some(fields) if fields.split('.').all(|f| !f.is_empty()) => {
            Ok(ResultPath::At(fields.split('.').map(str::to_string).collect()))
        }
        _ => Err(invalid(at, format!("ResultPath {path:?} must be $ or $. and field names"))),
    }
}

/// `TimeoutSeconds`/`HeartbeatSeconds` (a positive whole number) or its `…Path` form.
fn seconds(state: &Value, field: &str, at: &str) -> Result<Option<Seconds>, LoadError> {
    at_most_one(state, &[field, &format!("{field}Path")], at)?;
    if let Some(path) = path_field(state, &format!("{field}Path"), at)? {
        return Ok(Some(Seconds::Path(path)));
    }
    match state.get(field) {
        None => Ok(None),
        Some(v) => match v.as_u64().filter(|s| *s > 0) {
            Some(s) => Ok(Some(Seconds::Fixed(Duration::from_secs(s)))),
            None => Err(invalid(at, format!("{field} {v} is not a positive integer"))),
        },
    }
}

fn wait(state: &Value, at: &str) -> Result<Wait, LoadError> {
    at_most_one(state, &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"], at)?;
    if let Some(s) = state.get("Seconds") {
        let seconds = s.as_f64().filter(|s| *s >= 0.0);
        return seconds
            .map(Wait::Seconds)
            .ok_or_else(|| invalid(at, format!("Seconds {s} is not a non-negative number")));
    }
    if let Some(t) = state.get("Timestamp") {
        let at_time = t.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        return at_time
            .map(Wait::Timestamp)
            .ok_or_else(|| invalid(at, format!("Timestamp {t} is not an ISO-8601 time")));
    }
    if let Some(path) = path_field(state, "SecondsPath", at)? {
        return Ok(Wait::SecondsPath(path));
    }
    match path_field(state, "TimestampPath", at)? {
        Some(path) => Ok(Wait::TimestampPath(path)),
        None => Err(invalid(at, "a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath")),
    }
}

/// `Error`/`Cause` of a Fail state, or their `…Path` form.
fn text(state: &Value, field: &str, at: &str) -> Result<Option<Text>, LoadError> {
    at_most_one(state, &[field, &format!("{field}Path")], at)?;
    if let Some(v) = state.get(field) {
        let literal = v.as_str().ok_or_else(|| invalid(at, format!("{field} must be a string")))?;
        return Ok(Some(Text::Literal(literal.to_string())));
    }
    Ok(path_field(state, &format!("{field}Path"), at)?.map(Text::Path))
}

fn list<'a>(state: &'a Value, field: &str, at: &str) -> Result<&'a [Value], LoadError> {
    match state.get(field) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(at, format!("{field} must be a list"))),
    }
}

fn error_equals(entry: &Value, at: &str) -> Result<Vec<String>, LoadError> {
    let names = entry["ErrorEquals"].as_array().ok_or_else(|| invalid(at, "ErrorEquals must be a list"))?;
    names
        .iter()
        .map(|n| n.as_str().map(str::to_string).ok_or_else(|| invalid(at, "an error name must be a string")))
        .collect()
}

/// The `Retry` and `Catch` of a state; `target` checks that a catcher's `Next` names a state.
pub fn recovery(
    state: &Value,
    at: &str,
    target: &dyn Fn(&Value, &str) -> Result<String, LoadError>,
) -> Result<Recovery, LoadError> {
    let mut catch = Vec::new();
    for catcher in list(state, "Catch", at)? {
        catch.push(Catcher {
            error_equals: error_equals(catcher, at)?,
            next: target(&catcher["Next"], "a Catch")?,
            result_path: result_path(catcher.get("ResultPath"), at)?,
        });
    }
    Ok(Recovery { retry: retriers(state, at)?, catch })
}

/// The `Retry` of a state, with AWS's defaults: 1 s, rate 2, 3 attempts.
fn retriers(state: &Value, at: &str) -> Result<Vec<Retrier>, LoadError> {
    let number = |retrier: &Value, field: &str| -> Result<Option<f64>, LoadError> {
        match retrier.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| *n >= 0.0)
                .map(Some)
                .ok_or_else(|| invalid(at, format!("{field} {v} is not a number"))),
        }
    };
    list(state, "Retry", at)?
        .iter()
        .map(|retrier| {
            Ok(Retrier {
                error_equals: error_equals(retrier, at)?,
                interval_seconds: number(retrier, "IntervalSeconds")?.unwrap_or(1.0),
                max_attempts: number(retrier, "MaxAttempts")?.map_or(3, |n| n as u32),
                backoff_rate: number(retrier, "BackoffRate")?.unwrap_or(2.0),
                max_delay_seconds: number(retrier, "MaxDelaySeconds")?,
                full_jitter: retrier["JitterStrategy"].as_str() == Some("FULL"),
            })
        })
        .collect()
}

/// A choice rule: `And`/`Or`/`Not`, or a comparison of `Variable`.
pub fn load_rule(rule: &Value, at: &str) -> Result<Rule, LoadError> {
    let rules = |field: &str| -> Result<Vec<Rule>, LoadError> {
        list(rule, field, at)?.iter().map(|r| load_rule(r, at)).collect()
    };
    if rule.get("And").is_some() {
        return Ok(Rule::And(rules("And")?));
    }
    if rule.get("Or").is_some() {
        return Ok(Rule::Or(rules("Or")?));
    }
    if let Some(inner) = rule.get("Not") {
        return Ok(Rule::Not(Box::new(load_rule(inner, at)?)));
    }
    let variable =
        rule["Variable"].as_str().ok_or_else(|| invalid(at, format!("a choice rule without Variable: {rule}")))?;
    let (operator, operand) = rule
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| !matches!(k.as_str(), "Variable" | "Next" | "Comment")))
        .ok_or_else(|| invalid(at, format!("a choice rule without a comparison: {rule}")))?;
    if !super::choice::is_operator(operator) {
        return Err(unsupported(at, format!("the comparison {operator:?}")));
    }
    if operator.ends_with("Path") && !operand.is_string() {
        return Err(invalid(at, format!("{operator} takes a path")));
    }
    Ok(Rule::Test { variable: variable.to_string(), operator: operator.clone(), operand: operand.clone() })
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
        refused(json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ecs:runTask.sync", "End": true}), "ecs");
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

    /// What the engine once found only when a run reached it, the typed load finds first.
    #[test]
    fn fields_that_cannot_work_are_refused_at_load() {
        let refused = |state: Value, what: &str| {
            let err = load(json!({"StartAt": "S", "States": {"S": state, "T": {"Type": "Succeed"}}})).unwrap_err();
            assert!(err.to_string().contains(what), "{err} should name {what}");
        };
        let task = |extra: Value| {
            let mut state = json!({"Type": "Task", "Resource": LAMBDA_INVOKE, "End": true});
            state.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            state
        };
        refused(task(json!({"ResultPath": "a.b"})), "ResultPath");
        refused(task(json!({"ResultPath": 3})), "ResultPath");
        refused(task(json!({"TimeoutSeconds": 0})), "TimeoutSeconds");
        refused(task(json!({"InputPath": 1})), "InputPath");
        refused(task(json!({"Retry": [{"ErrorEquals": "States.ALL"}]})), "ErrorEquals");
        refused(task(json!({"Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": "x"}]})), "BackoffRate");
        refused(
            task(json!({"Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.", "Next": "T"}]})),
            "ResultPath",
        );
        refused(json!({"Type": "Wait", "Seconds": -1, "End": true}), "Seconds");
        refused(json!({"Type": "Wait", "Timestamp": "tomorrow", "End": true}), "Timestamp");
        refused(json!({"Type": "Wait", "End": true}), "a Wait state needs");
        refused(json!({"Type": "Fail", "Error": 5}), "Error");
        refused(json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "StringIs": "x", "Next": "T"}]}), "StringIs");
        refused(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEqualsPath": 1, "Next": "T"}]}),
            "path",
        );
        refused(json!({"Type": "Choice", "Choices": [{"StringEquals": "x", "Next": "T"}]}), "Variable");
        refused(json!({"Type": "Map", "End": true}), "ItemProcessor");
        refused(task(json!({"TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"})), "only one of TimeoutSeconds and");
        refused(json!({"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t", "End": true}), "only one of Seconds and");
        refused(json!({"Type": "Fail", "Cause": "c", "CausePath": "$.c"}), "only one of Cause and CausePath");
        // What is well formed loads, typed.
        let ok = load(json!({"StartAt": "S", "TimeoutSeconds": 60, "States": {
            "S": {"Type": "Task", "Resource": LAMBDA_INVOKE, "ResultPath": "$.a.b", "OutputPath": null,
                  "TimeoutSecondsPath": "$.t", "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "FULL"}], "Next": "T"},
            "T": {"Type": "Succeed"}}}))
        .unwrap();
        assert_eq!(ok.machine.timeout, Some(std::time::Duration::from_secs(60)));
        let s = &ok.machine.states["S"];
        assert_eq!((s.next.as_deref(), &s.input_path, &s.output_path), (Some("T"), &Filter::All, &Filter::Nothing));
        let Kind::Task(task) = &s.kind else { panic!("S is a Task") };
        assert_eq!(task.shape.result_path, ResultPath::At(vec!["a".into(), "b".into()]));
        assert_eq!(task.timeout, Some(Seconds::Path("$.t".into())));
        let retrier = &task.recovery.retry[0];
        assert_eq!((retrier.interval_seconds, retrier.max_attempts, retrier.backoff_rate), (1.0, 3, 2.0));
        assert!(retrier.full_jitter);
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
