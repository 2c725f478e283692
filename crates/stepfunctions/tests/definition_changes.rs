//! An execution kept under one definition and redriven under another: where it stopped may no
//! longer exist. It must fail, named, not hang.

use mediaflow_stepfunctions::engine::{Definition, Engine, Registry, StateMachine, Status};
use serde_json::{Value, json};

fn machine(definition: Value) -> StateMachine {
    StateMachine::new("test", Definition::parse(&definition.to_string()).expect("the definition loads"))
}

#[tokio::test(start_paused = true)]
async fn a_redrive_to_a_state_the_definition_lost_fails_as_a_runtime_error() {
    let before = machine(json!({"StartAt": "Gone", "States": {
        "Gone": {"Type": "Fail", "Error": "Broken", "Cause": "it was"}}}));
    let failed = Engine::new(Registry::default()).execute(&before, "kept", json!({"n": 1})).await;
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.resume.as_ref().map(|r| r.state.as_str()), Some("Gone"));

    let after = machine(json!({"StartAt": "Here", "States": {"Here": {"Type": "Succeed"}}}));
    let redriven = Engine::new(Registry::default()).redrive(&after, failed).await.unwrap();
    assert_eq!(redriven.status, Status::Failed);
    let failure = redriven.failure.unwrap();
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("\"Gone\""), "{}", failure.cause);
    assert_eq!(redriven.history.kinds().last(), Some(&"ExecutionFailed"));
}
