//! The engine's conformance suite: small definitions, one construct each, with the inputs and
//! outputs AWS's documentation gives where it gives them. Time runs on tokio's paused clock:
//! waits, backoffs and time-outs pass at once, and their timestamps are what AWS would show.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{FN, echo, machine, ok, only, run, single};
use mediaflow_stepfunctions::engine::{
    Definition, Engine, Event, Failure, Registry, StateMachine, Status, TokenError, handler, lambda_failure,
};
use serde_json::{Value, json};

/// AWS's Pass example: `Result` placed at `ResultPath`.
#[tokio::test(start_paused = true)]
async fn pass_puts_its_result_at_the_result_path() {
    let outcome = run(
        single(json!({"Type": "Pass", "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355}, "ResultPath": "$.coords", "End": true})),
        Registry::default(),
        json!({"georefOf": "Home"}),
    )
    .await;
    assert_eq!(
        ok(&outcome),
        &json!({"georefOf": "Home", "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355}})
    );
    assert_eq!(
        outcome.history.kinds(),
        ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    );
}

/// The data-flow example of AWS's "Example: Manipulating state data with paths": InputPath,
/// Parameters, ResultSelector, ResultPath and OutputPath around a `lambda:invoke` Task.
#[tokio::test(start_paused = true)]
async fn a_task_applies_every_path_in_order() {
    let registry = only(handler(|payload: Value| async move {
        Ok(json!({"sum": payload["a"].as_i64().unwrap() + payload["b"].as_i64().unwrap(), "ignored": true}))
    }));
    let state = json!({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.numbers",
        "Parameters": {"FunctionName": FN, "Payload": {"a.$": "$.first", "b.$": "$.second", "run.$": "$$.Execution.Name"}},
        "ResultSelector": {"total.$": "$.Payload.sum", "status.$": "$.StatusCode"},
        "ResultPath": "$.result",
        "OutputPath": "$.result",
        "End": true
    });
    let outcome = run(single(state), registry, json!({"numbers": {"first": 2, "second": 40}, "other": "x"})).await;
    assert_eq!(ok(&outcome), &json!({"total": 42, "status": 200}));
    assert_eq!(
        outcome.history.kinds(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let Event::TaskScheduled { details: scheduled, .. } = &outcome.history.events[2].event else { panic!("scheduled") };
    assert_eq!(scheduled["resourceType"], "lambda");
    assert_eq!(scheduled["resource"], "invoke");
}

#[tokio::test(start_paused = true)]
async fn lambda_invoke_returns_aws_envelope_and_a_plain_arn_the_payload() {
    let envelope = run(
        single(json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "End": true})),
        echo(),
        json!({"k": 1}),
    )
    .await;
    let out = ok(&envelope);
    assert_eq!(out["Payload"], json!({"k": 1}));
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["ExecutedVersion"], "$LATEST");
    let plain = run(single(json!({"Type": "Task", "Resource": FN, "End": true})), echo(), json!({"k": 1})).await;
    assert_eq!(ok(&plain), &json!({"k": 1}));
    assert!(plain.history.kinds().contains(&"LambdaFunctionSucceeded"), "{:?}", plain.history.kinds());
}

#[tokio::test(start_paused = true)]
async fn choice_picks_the_first_matching_rule_or_the_default() {
    let definition = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.n", "NumericGreaterThan": 10}, {"Not": {"Variable": "$.tag", "StringMatches": "skip*"}}], "Next": "Big"},
            {"Variable": "$.n", "NumericLessThanPath": "$.limit", "Next": "Small"}
        ], "Default": "Other"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true},
        "Other": {"Type": "Pass", "Result": "other", "End": true}
    }});
    for (input, expected) in [
        (json!({"n": 11, "tag": "keep"}), "big"),
        (json!({"n": 11, "tag": "skip-me", "limit": 5}), "other"),
        (json!({"n": 3, "tag": "x", "limit": 5}), "small"),
    ] {
        assert_eq!(ok(&run(definition.clone(), Registry::default(), input.clone()).await), expected, "{input}");
    }
    let mut no_default = definition.clone();
    no_default["States"]["C"].as_object_mut().unwrap().remove("Default");
    let outcome = run(no_default, Registry::default(), json!({"n": 0, "tag": "x", "limit": 0})).await;
    assert_eq!(outcome.failure.unwrap().error, "States.NoChoiceMatched");
}

#[tokio::test(start_paused = true)]
async fn a_wait_of_a_day_passes_on_the_paused_clock() {
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Until"},
        "Until": {"Type": "Wait", "Timestamp": "2000-01-01T00:00:00Z", "End": true}
    }});
    let outcome = run(definition, Registry::default(), json!({"wait": 86400})).await;
    ok(&outcome);
    let events = &outcome.history.events;
    let elapsed = events.last().unwrap().timestamp - events[0].timestamp;
    assert_eq!(elapsed.num_seconds(), 86400, "a past Timestamp does not wait");
}

/// Retry: `IntervalSeconds` 3, `BackoffRate` 2 → attempts at 0, 3 and 9 s; `RetryCount` in
/// the context counts them.
#[tokio::test(start_paused = true)]
async fn retries_back_off_on_the_clock() {
    let attempts: Arc<Mutex<Vec<(f64, i64)>>> = Arc::default();
    let seen = attempts.clone();
    let start = tokio::time::Instant::now();
    let registry = only(handler(move |input: Value| {
        let seen = seen.clone();
        async move {
            let mut seen = seen.lock().unwrap();
            seen.push((start.elapsed().as_secs_f64(), input["retry"].as_i64().unwrap()));
            if seen.len() < 3 { Err(lambda_failure("MediaFlow.Transient", "try again")) } else { Ok(json!("done")) }
        }
    }));
    let state = json!({"Type": "Task", "Resource": FN, "Parameters": {"retry.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["MediaFlow.Transient"], "IntervalSeconds": 3, "BackoffRate": 2, "MaxAttempts": 5}], "End": true});
    let outcome = run(single(state), registry, json!({})).await;
    assert_eq!(ok(&outcome), "done");
    assert_eq!(*attempts.lock().unwrap(), [(0.0, 0), (3.0, 1), (9.0, 2)]);
}

#[tokio::test(start_paused = true)]
async fn catch_puts_the_error_object_at_its_result_path_and_a_lambda_error_type_is_the_name() {
    let registry = only(handler(|_| async { Err(lambda_failure("MediaFlow.InvalidMedia", "not a video")) }));
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN,
              "Retry": [{"ErrorEquals": ["MediaFlow.Transient"]}],
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Handled"}], "End": true},
        "Handled": {"Type": "Pass", "End": true}
    }});
    let outcome = run(definition, registry, json!({"key": "inputs/a.mp4"})).await;
    let out = ok(&outcome);
    assert_eq!(out["key"], "inputs/a.mp4");
    assert_eq!(out["error"]["Error"], "MediaFlow.InvalidMedia");
    let cause: Value = serde_json::from_str(out["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause, json!({"errorType": "MediaFlow.InvalidMedia", "errorMessage": "not a video"}));
    assert!(outcome.history.kinds().contains(&"LambdaFunctionFailed"));
}

#[tokio::test(start_paused = true)]
async fn a_task_over_its_timeout_fails_with_states_timeout() {
    let registry = only(handler(|_| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(json!("late"))
    }));
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "TimeoutSeconds": 10,
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}], "End": true},
        "TimedOut": {"Type": "Pass", "End": true}
    }});
    let outcome = run(definition, registry, json!({})).await;
    assert_eq!(ok(&outcome)["Error"], "States.Timeout");
    assert!(outcome.history.kinds().contains(&"LambdaFunctionTimedOut"));
}

/// `waitForTaskToken`: the token reaches the function through `$$.Task.Token`; the task ends
/// when someone answers it; heartbeats keep it alive, silence times it out.
#[tokio::test(start_paused = true)]
async fn task_tokens_are_answered_kept_alive_or_timed_out() {
    let engine_slot: Arc<Mutex<Option<Arc<Engine>>>> = Arc::default();
    let slot = engine_slot.clone();
    let registry = only(handler(move |payload: Value| {
        let slot = slot.clone();
        async move {
            let token = payload["token"].as_str().unwrap().to_string();
            let mode = payload["mode"].as_str().unwrap().to_string();
            let engine = slot.lock().unwrap().clone().unwrap();
            tokio::spawn(async move {
                match mode.as_str() {
                    "succeed" => {
                        for _ in 0..5 {
                            tokio::time::sleep(Duration::from_secs(50)).await;
                            engine.send_task_heartbeat(&token).unwrap();
                        }
                        engine.send_task_success(&token, json!({"done": true})).unwrap();
                        assert_eq!(engine.send_task_success(&token, json!({})), Err(TokenError::TaskDoesNotExist));
                    }
                    "fail" => {
                        let failure = Failure { error: "MediaFlow.TranscodeFailed".into(), cause: "1010".into() };
                        engine.send_task_failure(&token, failure).unwrap();
                    }
                    _ => {} // silence
                }
            });
            Ok(json!({"submitted": true}))
        }
    }));
    let engine = Engine::new(registry);
    *engine_slot.lock().unwrap() = Some(engine.clone());
    let state = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": FN, "Payload": {"token.$": "$$.Task.Token", "mode.$": "$.mode"}},
        "HeartbeatSeconds": 60, "End": true});
    let sm = machine(single(state));

    let outcome = engine.execute(&sm, "a", json!({"mode": "succeed"})).await;
    assert_eq!(ok(&outcome), &json!({"done": true}));
    let outcome = engine.execute(&sm, "b", json!({"mode": "fail"})).await;
    assert_eq!(outcome.failure.unwrap(), Failure { error: "MediaFlow.TranscodeFailed".into(), cause: "1010".into() });
    let outcome = engine.execute(&sm, "c", json!({"mode": "silent"})).await;
    assert_eq!(outcome.failure.unwrap().error, "States.HeartbeatTimeout");
    assert!(outcome.history.kinds().contains(&"TaskTimedOut"));
    let silent_token = outcome.history.events.iter().find_map(|e| {
        let Event::TaskScheduled { details, .. } = &e.event else { return None };
        let parameters: Value = serde_json::from_str(details["parameters"].as_str()?).ok()?;
        parameters["Payload"]["token"].as_str().map(str::to_string)
    });
    let late = engine.send_task_success(&silent_token.unwrap(), json!({}));
    assert_eq!(late, Err(TokenError::TaskTimedOut));
    assert_eq!(engine.send_task_heartbeat(&uuid_like()), Err(TokenError::TaskDoesNotExist));
    assert_eq!(engine.send_task_heartbeat("never-issued"), Err(TokenError::InvalidToken));
}

/// A well-formed token no task was given.
fn uuid_like() -> String {
    "6f1c1f7e-2b0a-4c47-9d1e-0d4b5e3f2a11".to_string()
}

#[tokio::test(start_paused = true)]
async fn parallel_outputs_follow_branch_order_and_a_failed_branch_fails_the_state() {
    let branch = |seconds: u64, result: Value| json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "Next": "P"}, "P": {"Type": "Pass", "Result": result, "End": true}}});
    let definition =
        single(json!({"Type": "Parallel", "Branches": [branch(5, json!("slow")), branch(1, json!("fast"))],
        "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"}, "End": true}));
    let outcome = run(definition, Registry::default(), json!({})).await;
    assert_eq!(ok(&outcome), &json!({"first": "slow", "second": "fast"}));
    let kinds = outcome.history.kinds();
    assert!(kinds.contains(&"ParallelStateStarted") && kinds.contains(&"ParallelStateSucceeded"), "{kinds:?}");

    let failing =
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "on purpose"}}});
    let definition = single(json!({"Type": "Parallel", "Branches": [branch(5, json!("slow")), failing], "End": true}));
    let outcome = run(definition, Registry::default(), json!({})).await;
    assert_eq!(outcome.failure.unwrap(), Failure { error: "Branch.Broke".into(), cause: "on purpose".into() });
}

#[tokio::test(start_paused = true)]
async fn map_keeps_item_order_under_max_concurrency_and_selects_items() {
    let running = Arc::new(Mutex::new((0usize, 0usize))); // (now, most)
    let seen = running.clone();
    let registry = only(handler(move |item: Value| {
        let seen = seen.clone();
        async move {
            {
                let mut s = seen.lock().unwrap();
                s.0 += 1;
                s.1 = s.1.max(s.0);
            }
            // Later items finish first, so order comes from the engine, not from timing.
            tokio::time::sleep(Duration::from_secs(10 - item["index"].as_u64().unwrap())).await;
            seen.lock().unwrap().0 -= 1;
            Ok(json!(format!("{}#{}", item["name"].as_str().unwrap(), item["index"])))
        }
    }));
    let definition = single(json!({"Type": "Map", "ItemsPath": "$.files", "MaxConcurrency": 2,
        "ItemSelector": {"name.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN, "End": true}}},
        "ResultPath": "$.results", "End": true}));
    let outcome = run(definition, registry, json!({"files": ["a", "b", "c", "d"]})).await;
    assert_eq!(ok(&outcome)["results"], json!(["a#0", "b#1", "c#2", "d#3"]));
    assert_eq!(running.lock().unwrap().1, 2, "MaxConcurrency 2");
}

#[tokio::test(start_paused = true)]
async fn a_fail_state_fails_the_execution_with_its_error_and_cause() {
    let definition = single(json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}));
    let outcome = run(definition, Registry::default(), json!({"e": "MediaFlow.InvalidKey", "c": "a/../b"})).await;
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(outcome.failure.unwrap(), Failure { error: "MediaFlow.InvalidKey".into(), cause: "a/../b".into() });
    assert_eq!(outcome.history.kinds(), ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]);
}

/// AWS's example: `CausePath` may be an intrinsic function.
#[tokio::test(start_paused = true)]
async fn a_fail_state_takes_its_cause_from_an_intrinsic_function() {
    let definition = single(json!({"Type": "Fail", "ErrorPath": "$.Error",
        "CausePath": "States.Format('this is the error: {}, and this is the cause: {}', $.Error, $.Cause)"}));
    let outcome = run(definition, Registry::default(), json!({"Error": "Oops", "Cause": "a bad day"})).await;
    assert_eq!(
        outcome.failure.unwrap(),
        Failure { error: "Oops".into(), cause: "this is the error: Oops, and this is the cause: a bad day".into() }
    );
}

#[tokio::test(start_paused = true)]
async fn a_path_that_finds_nothing_is_states_runtime_which_states_all_does_not_catch() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "InputPath": "$.missing",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Succeed"}
    }});
    let outcome = run(definition, echo(), json!({})).await;
    assert_eq!(outcome.failure.unwrap().error, "States.Runtime");
}

/// A Pass applies its InputPath first, as every state does, even when its `Result` does not
/// read the input: a path that finds nothing fails it.
#[tokio::test(start_paused = true)]
async fn a_pass_with_a_result_still_fails_on_an_input_path_that_finds_nothing() {
    let state = json!({"Type": "Pass", "InputPath": "$.missing", "Result": {"x": 1}, "End": true});
    let outcome = run(single(state), Registry::default(), json!({})).await;
    assert_eq!(outcome.failure.unwrap().error, "States.Runtime");
}

#[tokio::test(start_paused = true)]
async fn the_context_object_names_the_execution_and_the_state() {
    let state = json!({"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id", "name.$": "$$.State.Name",
        "machine.$": "$$.StateMachine.Name", "input.$": "$$.Execution.Input", "redrives.$": "$$.Execution.RedriveCount"}, "End": true});
    let outcome = run(single(state), Registry::default(), json!({"a": 1})).await;
    assert_eq!(
        ok(&outcome),
        &json!({"id": "arn:aws:states:us-east-1:123456789012:execution:test:run", "name": "S", "machine": "test",
                "input": {"a": 1}, "redrives": 0})
    );
}

/// The pipeline's own definition, filled as infra fills it: a Classify that fails twice
/// transiently is retried on the clock, then its refusal of the upload is caught, published to
/// the topic, and fails the execution with that error, as the console would show it.
#[tokio::test(start_paused = true)]
async fn the_pipeline_retries_then_fails_at_the_state_that_refused_the_upload() {
    use mediaflow_core::statemachine::{DEFINITION, arns, fill};
    let values = arns("us-east-1", "123456789012", "mediaflow");
    let pipeline = StateMachine::new(
        "mediaflow-pipeline",
        Definition::parse(&fill(DEFINITION, &values).unwrap()).expect("the pipeline loads"),
    );
    let calls = Arc::new(Mutex::new(0));
    let published: Arc<Mutex<Vec<Value>>> = Arc::default();
    let (counter, sink) = (calls.clone(), published.clone());
    let mut registry = Registry::default();
    registry.function(
        &values["ClassifyFunctionArn"],
        handler(move |_| {
            let counter = counter.clone();
            async move {
                let mut n = counter.lock().unwrap();
                *n += 1;
                match *n {
                    1 | 2 => Err(lambda_failure("MediaFlow.Transient", "S3 throttled")),
                    _ => Err(lambda_failure("MediaFlow.InvalidKey", "inputs/../x.mp4 escapes its folder")),
                }
            }
        }),
    );
    registry.service(
        "arn:aws:states:::sns:publish",
        handler(move |parameters| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(parameters);
                Ok(json!({"MessageId": "m-1"}))
            }
        }),
    );
    let event: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/events/s3-object-created.json")).unwrap();
    let outcome = Engine::new(registry).execute(&pipeline, "upload-1", event).await;

    assert_eq!(*calls.lock().unwrap(), 3);
    assert_eq!(outcome.status, Status::Failed);
    let failure = outcome.failure.unwrap();
    assert_eq!(failure.error, "MediaFlow.InvalidKey");
    assert!(failure.cause.contains("escapes its folder"), "{}", failure.cause);
    // The state machine publishes nothing: the failure rule tells the topic.
    assert!(published.lock().unwrap().is_empty());
    let kinds = outcome.history.kinds();
    assert_eq!(kinds.iter().filter(|k| **k == "LambdaFunctionFailed").count(), 3, "{kinds:?}");
    assert_eq!(&kinds[kinds.len() - 2..], ["LambdaFunctionFailed", "ExecutionFailed"]);
    assert_eq!(outcome.resume.as_ref().map(|r| r.state.as_str()), Some("Classify"), "a redrive starts at Classify");
}

/// With the pipeline's contracts on, a function that returns what its contract does not allow
/// stops the execution there, naming the contract; one that keeps it goes on.
#[tokio::test(start_paused = true)]
async fn the_pipeline_contracts_check_every_task() {
    use mediaflow_core::contract::{ClassifyOutput, ContractCheck, Direction, Source};
    use mediaflow_core::keys::SourceKey;
    use mediaflow_core::statemachine::{DEFINITION, arns, fill};
    use mediaflow_stepfunctions::engine::Side;
    let values = arns("us-east-1", "123456789012", "mediaflow");
    let pipeline = machine(serde_json::from_str(&fill(DEFINITION, &values).unwrap()).unwrap());
    let contracts = ContractCheck::new();
    let check: mediaflow_stepfunctions::engine::TaskCheck =
        std::sync::Arc::new(move |state: &str, side: Side, value: &Value| {
            contracts.check(state, if side == Side::Input { Direction::Payload } else { Direction::Result }, value)
        });
    let event: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/events/s3-object-created.json")).unwrap();

    let run_with = |output: Value| {
        let mut registry = Registry::default();
        registry.function(
            &values["ClassifyFunctionArn"],
            handler(move |_| {
                let output = output.clone();
                async move { Ok(output) }
            }),
        );
        registry.service("arn:aws:states:::sns:publish", handler(|_| async { Ok(json!({"MessageId": "m"})) }));
        Engine::checking(registry, check.clone())
    };

    let broken = run_with(json!({"kind": "video"})).execute(&pipeline, "broken", event.clone()).await;
    let failure = broken.failure.unwrap();
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("Classify: the result is not a valid ClassifyOutput"), "{}", failure.cause);

    let key = "inputs/notes.txt";
    let asset = mediaflow_core::classify::classify(&SourceKey::parse(key).unwrap(), b"just text");
    let kept = serde_json::to_value(ClassifyOutput { source: Source::new("watch", key, 9, "e"), asset }).unwrap();
    let fine = run_with(kept).execute(&pipeline, "fine", event).await;
    assert_eq!(fine.status, Status::Succeeded, "{:?}", fine.failure);
    assert!(fine.history.kinds().contains(&"SucceedStateEntered"));
}
