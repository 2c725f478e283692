//! The contracts as a check of live payloads: each Task's payload and result against the
//! schema its type generates, as [`crate::statemachine::TASK_CONTRACTS`] pairs them. Built from
//! the types, so it holds wherever the program runs; `schemas/` is the same schemas written out.

use std::collections::HashMap;

use serde_json::Value;

use crate::statemachine::TASK_CONTRACTS;

/// Which side of a Task a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// What the Task state gives the function.
    Payload,
    /// What the function returns (or what a task token is answered with).
    Result,
}

/// A validator of every Task's payload and result.
pub struct ContractCheck {
    validators: HashMap<(&'static str, Direction), (&'static str, jsonschema::Validator)>,
}

impl ContractCheck {
    pub fn new() -> ContractCheck {
        let schemas: HashMap<&str, Value> =
            super::schemas().into_iter().map(|(name, schema)| (name, schema.to_value())).collect();
        let mut validators = HashMap::new();
        for contract in TASK_CONTRACTS {
            for (direction, name) in [(Direction::Payload, contract.input), (Direction::Result, contract.output)] {
                let schema = &schemas[name];
                // The schemas come from our own types; a test checks each one compiles.
                let validator = jsonschema::validator_for(schema).expect("a contract type's schema compiles");
                validators.insert((contract.state, direction), (name, validator));
            }
        }
        ContractCheck { validators }
    }

    /// Whether `value` keeps the contract of `state`'s `direction`; the problems, naming the
    /// contract, when not. A state without a contract (the SNS notifications) passes.
    pub fn check(&self, state: &str, direction: Direction, value: &Value) -> Result<(), String> {
        let Some((name, validator)) = self.validators.get(&(state, direction)) else { return Ok(()) };
        let problems: Vec<String> =
            validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        if problems.is_empty() {
            return Ok(());
        }
        let what = match direction {
            Direction::Payload => "payload",
            Direction::Result => "result",
        };
        Err(format!("{state}: the {what} is not a valid {name}: {}", problems.join("; ")))
    }
}

impl Default for ContractCheck {
    fn default() -> Self {
        ContractCheck::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_task_contract_compiles_and_a_breach_names_its_contract() {
        let check = ContractCheck::new();
        for contract in TASK_CONTRACTS {
            assert!(check.validators.contains_key(&(contract.state, Direction::Payload)), "{}", contract.state);
            assert!(check.validators.contains_key(&(contract.state, Direction::Result)), "{}", contract.state);
        }
        let refused = check.check("Classify", Direction::Result, &json!({"kind": "video"})).unwrap_err();
        assert!(refused.starts_with("Classify: the result is not a valid ClassifyOutput"), "{refused}");
        assert_eq!(check.check("NotifySuccess", Direction::Payload, &json!({"any": 1})), Ok(()));
    }
}
