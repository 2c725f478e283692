//! The executions: a list with what the console's list shows, one execution with its history,
//! the state machine's definition for the graph, and Redrive and Stop, all through the Step
//! Functions operations an HTTP client would call.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mediaflow_stepfunctions::engine::state_runs;
use mediaflow_stepfunctions::{ApiError, history_events};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, AppState, Refused};
use crate::trace::{failed_state, upload_key};

fn refused(e: ApiError) -> Refused {
    let status = match e.kind {
        "ExecutionDoesNotExist" | "StateMachineDoesNotExist" => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    Refused::new(status, e.kind, e.message)
}

#[derive(Deserialize)]
pub struct Filter {
    status: Option<String>,
}

/// Every execution, newest first: upload key, status, start, duration, the state it failed in.
pub async fn list(State(shared): AppState, Query(filter): Query<Filter>) -> Response {
    let backend = &shared.backend;
    let executions = backend.sfn.executions(&backend.machine_arn);
    let rows: Vec<Value> = executions
        .iter()
        .filter(|e| filter.status.as_deref().is_none_or(|s| s.is_empty() || json!(e.status) == s))
        .map(|e| {
            json!({
                "executionArn": e.arn,
                "name": e.name,
                "key": upload_key(e),
                "status": e.status,
                "startDate": e.start_date,
                "stopDate": e.stop_date,
                "redriveCount": e.redrive_count,
                "failedState": failed_state(e),
                "error": e.failure.as_ref().map(|f| &f.error),
            })
        })
        .collect();
    Json(json!({"executions": rows})).into_response()
}

#[derive(Deserialize)]
pub struct Execution {
    arn: String,
}

/// One execution as DescribeExecution and GetExecutionHistory give it, with what each state did
/// (the same reading of the history as the trace's).
pub async fn describe(State(shared): AppState, Query(query): Query<Execution>) -> Answer {
    let sfn = &shared.backend.sfn;
    let arn = json!({"executionArn": query.arn});
    let execution = sfn.call("DescribeExecution", &arn).await.map_err(refused)?;
    // One read of the history gives both its events and each state's runs.
    let history = sfn.history(&query.arn).map_err(refused)?;
    let (events, runs) = (history_events(&history), state_runs(&history));
    let name = execution["name"].as_str().unwrap_or_default();
    let logs = crate::logs::read(&shared.backend.logs, name);
    Ok(Json(json!({"execution": execution, "events": events, "runs": runs, "logs": logs})).into_response())
}

/// The state machine, with its definition as a JSON object.
pub async fn state_machine(State(shared): AppState) -> Answer {
    let backend = &shared.backend;
    let input = json!({"stateMachineArn": backend.machine_arn});
    let mut machine = backend.sfn.call("DescribeStateMachine", &input).await.map_err(refused)?;
    let definition: Value = serde_json::from_str(machine["definition"].as_str().unwrap_or("{}")).unwrap_or_default();
    machine["definition"] = definition;
    Ok(Json(machine).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    execution_arn: String,
}

pub async fn redrive(State(shared): AppState, Json(target): Json<Target>) -> Answer {
    let input = json!({"executionArn": target.execution_arn});
    let answer = shared.backend.sfn.call("RedriveExecution", &input).await.map_err(refused)?;
    Ok(Json(answer).into_response())
}

pub async fn stop(State(shared): AppState, Json(target): Json<Target>) -> Answer {
    let input =
        json!({"executionArn": target.execution_arn, "error": "Console.Stopped", "cause": "stopped from the console"});
    let answer = shared.backend.sfn.call("StopExecution", &input).await.map_err(refused)?;
    Ok(Json(answer).into_response())
}

/// How long a burst of changes (every transition of every running execution) is gathered into
/// one message: a page redraws at most about four times a second.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(250);

/// `text/event-stream`: a `changed` message whenever an execution's history grows or its
/// status changes. The pages fetch what they show when told, instead of polling.
pub async fn changes(
    State(shared): AppState,
) -> axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>
{
    use axum::response::sse::{Event, KeepAlive, Sse};
    let changes = shared.backend.sfn.changes();
    let stream = futures::stream::unfold(changes, |mut changes| async move {
        changes.changed().await.ok()?;
        tokio::time::sleep(COALESCE).await;
        // The count of changes as the data: a browser drops an event whose data is empty.
        let count = *changes.borrow_and_update();
        Some((Ok(Event::default().event("changed").data(count.to_string())), changes))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
