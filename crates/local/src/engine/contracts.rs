//! The pipeline's contracts as the engine's check: each Task's payload and result against the
//! JSON Schemas in `schemas/` that `mediaflow_core::statemachine::TASK_CONTRACTS` names.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use mediaflow_core::statemachine::TASK_CONTRACTS;
use serde_json::Value;

use super::run::{Side, TaskCheck};

/// A check built from `schemas_dir` (the repository's `schemas/`). Tasks without a contract
/// (the SNS notifications) are not checked.
pub fn pipeline_check(schemas_dir: &Path) -> Result<TaskCheck, String> {
    let mut validators = HashMap::new();
    for contract in TASK_CONTRACTS {
        for (side, name) in [(Side::Input, contract.input), (Side::Output, contract.output)] {
            let path = schemas_dir.join(format!("{name}.json"));
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let schema: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let validator = jsonschema::validator_for(&schema).map_err(|e| format!("{}: {e}", path.display()))?;
            validators.insert((contract.state, side), (name, validator));
        }
    }
    Ok(Arc::new(move |state: &str, side: Side, value: &Value| {
        let Some((name, validator)) = validators.get(&(state, side)) else { return Ok(()) };
        let problems: Vec<String> =
            validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        if problems.is_empty() {
            return Ok(());
        }
        let what = if side == Side::Input { "payload" } else { "result" };
        Err(format!("{state}: the {what} is not a valid {name}: {}", problems.join("; ")))
    }))
}
