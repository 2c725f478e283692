//! The Step Functions API, driven by `aws-sdk-sfn` over HTTP as any client would drive AWS:
//! state machines, executions, task tokens, history, redrive, stop, and what a later process
//! finds in the data folder.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use mediaflow_endpoint::Credentials;
use mediaflow_stepfunctions::StepFunctionsEndpoint;
use mediaflow_stepfunctions::engine::{Engine, ExecutionStore, Registry, handler, lambda_failure};
use serde_json::{Value, json};

const WAIT_FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:wait";
const FLAKY_FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:flaky";

/// Tokens handed to the waiting function, and how often the flaky one ran.
#[derive(Clone, Default)]
struct Seen {
    tokens: Arc<Mutex<Vec<String>>>,
    flaky_calls: Arc<Mutex<u32>>,
}

fn registry(seen: &Seen) -> Registry {
    let mut registry = Registry::default();
    let tokens = seen.tokens.clone();
    registry.function(
        WAIT_FN,
        handler(move |payload: Value| {
            let tokens = tokens.clone();
            async move {
                tokens.lock().unwrap().push(payload["token"].as_str().unwrap().to_string());
                Ok(json!({}))
            }
        }),
    );
    let calls = seen.flaky_calls.clone();
    registry.function(
        FLAKY_FN,
        handler(move |_| {
            let calls = calls.clone();
            async move {
                let mut n = calls.lock().unwrap();
                *n += 1;
                if *n == 1 { Err(lambda_failure("MediaFlow.Transient", "first call fails")) } else { Ok(json!("fine")) }
            }
        }),
    );
    registry
}

const WAITING: &str = r#"{"StartAt": "Wait", "States": {
  "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
           "Parameters": {"FunctionName": "wait", "Payload": {"token.$": "$$.Task.Token"}},
           "HeartbeatSeconds": 600, "End": true}}}"#;

const FLAKY: &str = r#"{"StartAt": "Flaky", "States": {
  "Flaky": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky", "End": true}}}"#;

async fn token_number(seen: &Seen, n: usize) -> String {
    for _ in 0..500 {
        if let Some(t) = seen.tokens.lock().unwrap().get(n) {
            return t.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no task token {n} arrived");
}

async fn until_done(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    for _ in 0..500 {
        let described = sfn.describe_execution().execution_arn(arn).send().await.unwrap();
        if described.status() != &ExecutionStatus::Running {
            return described;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} is still running");
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_sdk_sfn_drives_the_local_engine() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Seen::default();
    let credentials = Credentials::random();
    let endpoint = StepFunctionsEndpoint::start(
        Engine::new(registry(&seen)),
        Some(ExecutionStore::new(dir.path().join("executions"))),
        "127.0.0.1:0".parse().unwrap(),
        credentials.clone(),
    )
    .await
    .unwrap();
    let sfn = endpoint.client();
    let mut status_changes = endpoint.service().events();
    let role = "arn:aws:iam::123456789012:role/test";

    // State machines.
    let created = sfn.create_state_machine().name("waiting").definition(WAITING).role_arn(role).send().await.unwrap();
    let waiting = created.state_machine_arn().to_string();
    assert_eq!(waiting, "arn:aws:states:us-east-1:123456789012:stateMachine:waiting");
    let described = sfn.describe_state_machine().state_machine_arn(&waiting).send().await.unwrap();
    assert_eq!(described.definition(), WAITING);
    let again = sfn.create_state_machine().name("waiting").definition(FLAKY).role_arn(role).send().await.unwrap_err();
    assert!(again.into_service_error().is_state_machine_already_exists());
    let bad = sfn
        .create_state_machine()
        .name("bad")
        .definition(r#"{"StartAt": "X", "States": {"X": {"Type": "Pass", "Assign": {}, "End": true}}}"#)
        .role_arn(role)
        .send()
        .await
        .unwrap_err();
    let bad = bad.into_service_error();
    assert!(bad.is_invalid_definition() && bad.to_string().contains("Assign"), "{bad}");
    let flaky = sfn.create_state_machine().name("flaky").definition(FLAKY).role_arn(role).send().await.unwrap();
    let flaky = flaky.state_machine_arn().to_string();
    assert_eq!(sfn.list_state_machines().send().await.unwrap().state_machines().len(), 2);

    // An execution waits on its task token; the same start again is the same execution.
    let start = || sfn.start_execution().state_machine_arn(&waiting).name("first").input(r#"{"n": 1}"#);
    let first = start().send().await.unwrap().execution_arn().to_string();
    assert_eq!(start().send().await.unwrap().execution_arn(), first);
    let other = sfn.start_execution().state_machine_arn(&waiting).name("first").input(r#"{"n": 2}"#).send().await;
    assert!(other.unwrap_err().into_service_error().is_execution_already_exists());

    let token = token_number(&seen, 0).await;
    let running = sfn.describe_execution().execution_arn(&first).send().await.unwrap();
    assert_eq!(running.status(), &ExecutionStatus::Running);
    sfn.send_task_heartbeat().task_token(&token).send().await.unwrap();
    sfn.send_task_success().task_token(&token).output(r#"{"done": true}"#).send().await.unwrap();
    let done = until_done(&sfn, &first).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(serde_json::from_str::<Value>(done.output().unwrap()).unwrap(), json!({"done": true}));
    let late = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert!(late.into_service_error().is_task_does_not_exist());

    let history = sfn.get_execution_history().execution_arn(&first).send().await.unwrap();
    let types: Vec<&HistoryEventType> = history.events().iter().map(|e| e.r#type()).collect();
    assert_eq!(types.first(), Some(&&HistoryEventType::ExecutionStarted));
    assert!(types.contains(&&HistoryEventType::TaskSucceeded), "{types:?}");
    assert_eq!(types.last(), Some(&&HistoryEventType::ExecutionSucceeded));
    let entered = history.events().iter().find_map(|e| e.state_entered_event_details()).unwrap();
    assert_eq!(entered.name(), "Wait");

    // Task failure, and a stop.
    let second = sfn.start_execution().state_machine_arn(&waiting).name("second").send().await.unwrap();
    let token = token_number(&seen, 1).await;
    sfn.send_task_failure().task_token(&token).error("MediaFlow.TranscodeFailed").cause("1010").send().await.unwrap();
    let failed = until_done(&sfn, second.execution_arn()).await;
    assert_eq!((failed.status(), failed.error()), (&ExecutionStatus::Failed, Some("MediaFlow.TranscodeFailed")));
    let third = sfn.start_execution().state_machine_arn(&waiting).name("third").send().await.unwrap();
    token_number(&seen, 2).await;
    sfn.stop_execution().execution_arn(third.execution_arn()).error("Operator").cause("stopped").send().await.unwrap();
    let stopped = sfn.describe_execution().execution_arn(third.execution_arn()).send().await.unwrap();
    assert_eq!(stopped.status(), &ExecutionStatus::Aborted);
    // A stopped execution is redriven at the state it was stopped in.
    assert_eq!(stopped.redrive_status(), Some(&aws_sdk_sfn::types::ExecutionRedriveStatus::Redrivable));
    sfn.redrive_execution().execution_arn(third.execution_arn()).send().await.unwrap();
    let token = token_number(&seen, 3).await;
    sfn.send_task_success().task_token(&token).output(r#"{"done": true}"#).send().await.unwrap();
    let resumed = until_done(&sfn, third.execution_arn()).await;
    assert_eq!((resumed.status(), resumed.redrive_count()), (&ExecutionStatus::Succeeded, Some(1)));

    // A failed execution, redriven to success.
    let run = sfn.start_execution().state_machine_arn(&flaky).name("redriven").send().await.unwrap();
    let failed = until_done(&sfn, run.execution_arn()).await;
    assert_eq!(failed.status(), &ExecutionStatus::Failed);
    sfn.redrive_execution().execution_arn(run.execution_arn()).send().await.unwrap();
    let redriven = until_done(&sfn, run.execution_arn()).await;
    assert_eq!((redriven.status(), redriven.redrive_count()), (&ExecutionStatus::Succeeded, Some(1)));
    let not_again = sfn.redrive_execution().execution_arn(run.execution_arn()).send().await.unwrap_err();
    assert!(not_again.into_service_error().is_execution_not_redrivable());

    // Each change of status was told to the subscribers (what EventBridge gets on AWS).
    let mut changes: HashMap<String, Vec<(String, Option<String>, u32)>> = HashMap::new();
    while let Ok(c) = status_changes.try_recv() {
        assert!(c.arn.ends_with(&format!(":{}", c.name)) && c.state_machine_arn.contains(":stateMachine:"), "{c:?}");
        changes.entry(c.name).or_default().push((c.status.to_string(), c.failure.map(|f| f.error), c.redrive_count));
    }
    let change =
        |status: &str, error: Option<&str>, redrives: u32| (status.to_string(), error.map(String::from), redrives);
    assert_eq!(changes["first"], [change("RUNNING", None, 0), change("SUCCEEDED", None, 0)]);
    assert_eq!(changes["second"], [change("RUNNING", None, 0), change("FAILED", Some("MediaFlow.TranscodeFailed"), 0)]);
    assert_eq!(
        changes["third"],
        [
            change("RUNNING", None, 0),
            change("ABORTED", Some("Operator"), 0),
            change("RUNNING", None, 1),
            change("SUCCEEDED", None, 1)
        ]
    );
    assert_eq!(changes["redriven"][2..], [change("RUNNING", None, 1), change("SUCCEEDED", None, 1)]);
    assert_eq!(changes["redriven"][1].0, "FAILED");

    let missing = sfn
        .describe_execution()
        .execution_arn(format!("{waiting}:nope").replace(":stateMachine:", ":execution:"))
        .send()
        .await;
    assert!(missing.unwrap_err().into_service_error().is_execution_does_not_exist());
    let listed = sfn.list_executions().state_machine_arn(&waiting).send().await.unwrap();
    assert_eq!(listed.executions().len(), 3);
    drop(endpoint);

    // A later process over the same data folder knows them.
    let later = StepFunctionsEndpoint::start(
        Engine::new(Registry::default()),
        Some(ExecutionStore::new(dir.path().join("executions"))),
        "127.0.0.1:0".parse().unwrap(),
        credentials,
    )
    .await
    .unwrap();
    let sfn = later.client();
    let kept = sfn.describe_execution().execution_arn(&first).send().await.unwrap();
    assert_eq!(kept.status(), &ExecutionStatus::Succeeded);
    sfn.create_state_machine().name("waiting").definition(WAITING).role_arn(role).send().await.unwrap();
    let statuses: HashMap<String, ExecutionStatus> = sfn
        .list_executions()
        .state_machine_arn(&waiting)
        .send()
        .await
        .unwrap()
        .executions()
        .iter()
        .map(|e| (e.name().to_string(), e.status().clone()))
        .collect();
    assert_eq!(statuses["first"], ExecutionStatus::Succeeded);
    assert_eq!(statuses["second"], ExecutionStatus::Failed);
    assert_eq!(statuses["third"], ExecutionStatus::Succeeded, "stopped, then redriven");
}

/// A request without a field the operation requires (which the SDK would not send, but any
/// HTTP client can) is answered as AWS answers it: 400, `ValidationException`, naming the field.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_missing_a_required_field_is_a_validation_error() {
    use mediaflow_testkit::http::{Request, Signer, exchange};
    let credentials = Credentials::random();
    let endpoint = StepFunctionsEndpoint::start(
        Engine::new(Registry::default()),
        None,
        "127.0.0.1:0".parse().unwrap(),
        credentials.clone(),
    )
    .await
    .unwrap();
    let address = endpoint.endpoint().trim_start_matches("http://").to_string();
    let headers =
        [("x-amz-target", "AWSStepFunctions.DescribeExecution"), ("content-type", "application/x-amz-json-1.0")];
    let request = Request { method: "POST", path: "/", headers: &headers, body: "{}" };
    let signer = Signer { credentials: &credentials, service: "states" };
    let (status, body) = exchange(&address, &request, Some(&signer)).await;
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["__type"], "ValidationException", "{error}");
    assert!(error["message"].as_str().unwrap().contains("executionArn"), "{error}");
}
