//! What the engine's test suites share: a machine from a definition, a run of it, and a
//! registry of one function.
#![allow(dead_code)] // each suite uses its own part

use mediaflow_stepfunctions::engine::{
    Definition, Engine, Execution, Handler, Registry, StateMachine, Status, handler,
};
use serde_json::{Value, json};

pub const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:work";

pub fn machine(definition: Value) -> StateMachine {
    StateMachine::new("test", Definition::parse(&definition.to_string()).expect("the definition loads"))
}

pub async fn run(definition: Value, registry: Registry, input: Value) -> Execution {
    Engine::new(registry).execute(&machine(definition), "run", input).await
}

pub fn single(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

/// A registry whose one function, at `FN`, is `f`.
pub fn only(f: Handler) -> Registry {
    let mut registry = Registry::default();
    registry.function(FN, f);
    registry
}

pub fn echo() -> Registry {
    only(handler(|input| async move { Ok(input) }))
}

pub fn ok(outcome: &Execution) -> &Value {
    assert_eq!(outcome.status, Status::Succeeded, "{:?}\n{:#?}", outcome.failure, outcome.history.kinds());
    outcome.output.as_ref().unwrap()
}
