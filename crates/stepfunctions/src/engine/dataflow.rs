//! Amazon States Language data flow: JSONPath selection over the state input or the context
//! object (`$$`), payload templates (`Parameters`, `ResultSelector`, `ItemSelector`) whose
//! `.$` keys are paths or intrinsic functions, and `ResultPath`.

use std::time::Duration;

use serde_json::{Map, Value, json};
use serde_json_path::JsonPath;

use super::errors::StatesError;
use super::intrinsics;
use super::states::{Filter, ResultPath, Seconds};

/// A failure of the data flow: Step Functions raises these as `States.Runtime`, except
/// intrinsic failures, which are `States.IntrinsicFailure`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("States.Runtime: {0}")]
    Runtime(String),
    #[error("States.IntrinsicFailure: {0}")]
    Intrinsic(String),
}

impl DataError {
    /// The error name a `Catch` matches.
    pub fn error_name(&self) -> &'static str {
        match self {
            DataError::Runtime(_) => StatesError::Runtime.as_str(),
            DataError::Intrinsic(_) => StatesError::IntrinsicFailure.as_str(),
        }
    }
}

/// Whether a path may select several nodes (then its value is the array of them).
fn is_indefinite(path: &str) -> bool {
    path.contains('*') || path.contains("..") || path.contains('?') || path.contains(',') || path.contains(':')
}

/// The value `path` selects: from `input` for `$…`, from `context` for `$$…`. A definite path
/// must select exactly one node.
pub fn select(path: &str, input: &Value, context: &Value) -> Result<Value, DataError> {
    let (document, path) = match path.strip_prefix("$$") {
        Some(rest) => (context, format!("${rest}")),
        None => (input, path.to_string()),
    };
    let parsed = JsonPath::parse(&path).map_err(|e| DataError::Runtime(format!("invalid path {path:?}: {e}")))?;
    let nodes = parsed.query(document);
    if is_indefinite(&path) {
        return Ok(Value::Array(nodes.all().into_iter().cloned().collect()));
    }
    nodes
        .exactly_one()
        .cloned()
        .map_err(|_| DataError::Runtime(format!("the JSONPath {path:?} could not be found in the input")))
}

/// A payload template made concrete: every `key.$` becomes `key` with the value its path or
/// intrinsic function gives; every other value is kept as written.
pub fn apply_template(template: &Value, input: &Value, context: &Value) -> Result<Value, DataError> {
    match template {
        Value::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (key, value) in fields {
                match key.strip_suffix(".$") {
                    Some(name) => {
                        let expression = value.as_str().ok_or_else(|| {
                            DataError::Runtime(format!("the value of {key:?} must be a path or intrinsic function"))
                        })?;
                        out.insert(name.to_string(), evaluate(expression, input, context)?);
                    }
                    None => {
                        out.insert(key.clone(), apply_template(value, input, context)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            items.iter().map(|v| apply_template(v, input, context)).collect::<Result<_, _>>().map(Value::Array)
        }
        other => Ok(other.clone()),
    }
}

/// A `.$` value: a path, or an intrinsic function call.
pub fn evaluate(expression: &str, input: &Value, context: &Value) -> Result<Value, DataError> {
    if expression.starts_with('$') {
        select(expression, input, context)
    } else if expression.starts_with("States.") {
        intrinsics::call(expression, input, context)
    } else {
        Err(DataError::Runtime(format!("{expression:?} is neither a path nor an intrinsic function")))
    }
}

/// Where a state's result goes: replacing the input, dropped, or set at a field of the input
/// (objects made on the way).
pub fn apply_result_path(input: &Value, result: Value, result_path: &ResultPath) -> Result<Value, DataError> {
    let names = match result_path {
        ResultPath::Replace => return Ok(result),
        ResultPath::Discard => return Ok(input.clone()),
        ResultPath::At(names) => names,
    };
    let mut output = input.clone();
    let mut at = &mut output;
    for (i, name) in names.iter().enumerate() {
        let object = at.as_object_mut().ok_or_else(|| {
            DataError::Runtime(format!("ResultPath $.{}: the input at {name:?} is not an object", names.join(".")))
        })?;
        if i + 1 == names.len() {
            object.insert(name.clone(), result);
            return Ok(output);
        }
        at = object.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()));
    }
    unreachable!("a path has at least one field")
}

/// `value` through an `InputPath` or `OutputPath`.
pub fn filtered(filter: &Filter, value: Value, context: &Value) -> Result<Value, DataError> {
    match filter {
        Filter::All => Ok(value),
        Filter::Nothing => Ok(json!({})),
        Filter::Path(path) => select(path, &value, context),
    }
}

/// `TimeoutSeconds`/`HeartbeatSeconds`, or their `…Path` forms read from the input.
pub fn seconds(
    field: &str,
    seconds: Option<&Seconds>,
    input: &Value,
    context: &Value,
) -> Result<Option<Duration>, DataError> {
    let value = match seconds {
        None => return Ok(None),
        Some(Seconds::Fixed(fixed)) => return Ok(Some(*fixed)),
        Some(Seconds::Path(path)) => select(path, input, context)?,
    };
    value
        .as_u64()
        .filter(|s| *s > 0)
        .map(|s| Some(Duration::from_secs(s)))
        .ok_or_else(|| DataError::Runtime(format!("{field} {value} is not a positive integer")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context() -> Value {
        json!({"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:run", "Name": "run", "RedriveCount": 0},
               "Task": {"Token": "tok"}})
    }

    /// The data-flow example of AWS's "InputPath, Parameters and ResultSelector" page.
    #[test]
    fn parameters_as_the_documentation_shows() {
        let input = json!({"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small", "material": "cotton"}, "availability": "in stock", "sku": "2317", "cost": "$23"}});
        let template = json!({"comment": "Selecting what I care about.", "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}});
        assert_eq!(
            apply_template(&template, &input, &context()).unwrap(),
            json!({"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}})
        );
    }

    #[test]
    fn context_paths_and_intrinsics() {
        let input = json!({"source": {"key": "inputs/a.mp4"}});
        let template = json!({"executionId.$": "$$.Execution.Id", "redriveCount.$": "$$.Execution.RedriveCount", "taskToken.$": "$$.Task.Token",
                              "subject.$": "States.Format('done: {}', $$.Execution.Name)", "everything.$": "$"});
        let out = apply_template(&template, &input, &context()).unwrap();
        assert_eq!(out["executionId"], "arn:aws:states:us-east-1:123456789012:execution:sm:run");
        assert_eq!(out["redriveCount"], 0);
        assert_eq!(out["taskToken"], "tok");
        assert_eq!(out["subject"], "done: run");
        assert_eq!(out["everything"], input);
    }

    #[test]
    fn definite_paths_must_exist_and_wildcards_give_arrays() {
        let input = json!({"items": [{"n": 1}, {"n": 2}]});
        assert_eq!(select("$.items[*].n", &input, &json!({})).unwrap(), json!([1, 2]));
        assert_eq!(select("$.items[1].n", &input, &json!({})).unwrap(), json!(2));
        let err = select("$.missing", &input, &json!({})).unwrap_err();
        assert_eq!(err.error_name(), "States.Runtime");
        assert!(apply_template(&json!({"x.$": 42}), &input, &json!({})).is_err());
    }

    /// The ResultPath examples of AWS's "Specifying state output using ResultPath" page.
    #[test]
    fn result_paths() {
        let path = |p: Value| crate::engine::definition::result_path(Some(&p), "test").unwrap();
        let input = json!({"master": {"detail": [1, 2, 3]}});
        let result = json!("Hello, AWS Step Functions!");
        assert_eq!(apply_result_path(&input, result.clone(), &ResultPath::Replace).unwrap(), result);
        assert_eq!(apply_result_path(&input, result.clone(), &path(json!("$"))).unwrap(), result);
        assert_eq!(apply_result_path(&input, result.clone(), &path(Value::Null)).unwrap(), input);
        assert_eq!(
            apply_result_path(&input, result.clone(), &path(json!("$.taskresult"))).unwrap(),
            json!({"master": {"detail": [1, 2, 3]}, "taskresult": "Hello, AWS Step Functions!"})
        );
        assert_eq!(
            apply_result_path(&input, result.clone(), &path(json!("$.master.detail"))).unwrap(),
            json!({"master": {"detail": "Hello, AWS Step Functions!"}})
        );
        assert_eq!(apply_result_path(&json!({}), json!(1), &path(json!("$.a.b"))).unwrap(), json!({"a": {"b": 1}}));
        assert!(apply_result_path(&json!({"a": 5}), json!(1), &path(json!("$.a.b"))).is_err());
    }
}
