//! The executions: a list with what the console's list shows, one execution with its history,
//! the state machine's definition for the graph, and Redrive and Stop, all through the Step
//! Functions execution service, typed, answered in the JSON its HTTP API gives.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use mediaflow_stepfunctions::api::{described, described_machine};
use mediaflow_stepfunctions::engine::Failure;
use mediaflow_stepfunctions::engine::runs::epoch_seconds;
use mediaflow_stepfunctions::engine::state_runs;
use mediaflow_stepfunctions::{ServiceError, history_events};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, AppState, Refused};
use crate::trace::{failed_state, upload_key};

fn refused(e: ServiceError) -> Refused {
    let status = match e {
        ServiceError::ExecutionDoesNotExist(_)
        | ServiceError::NotRunning(_)
        | ServiceError::StateMachineDoesNotExist(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    Refused::new(status, e.name(), e.to_string())
}

#[derive(Deserialize)]
pub struct Filter {
    status: Option<String>,
}

/// Every execution, newest first: upload key, status, start, duration, the state it failed in.
pub async fn list(State(shared): AppState, Query(filter): Query<Filter>) -> Answer {
    let backend = &shared.backend;
    let executions = backend.sfn.list(&backend.machine_arn).map_err(refused)?;
    let rows: Vec<Value> = executions
        .iter()
        .filter(|e| filter.status.as_deref().is_none_or(|s| s.is_empty() || json!(e.status) == s))
        .map(|e| {
            json!({
                "executionArn": e.arn,
                "name": e.name,
                "key": upload_key(e),
                "status": e.status,
                "startDate": epoch_seconds(e.start_date),
                "stopDate": e.stop_date.map(epoch_seconds),
                "redriveCount": e.redrive_count,
                "failedState": failed_state(e),
                "error": e.failure.as_ref().map(|f| &f.error),
            })
        })
        .collect();
    Ok(Json(json!({"executions": rows})).into_response())
}

#[derive(Deserialize)]
pub struct Execution {
    arn: String,
}

/// One execution as DescribeExecution and GetExecutionHistory give it, with what each state did
/// (the same reading of the history as the trace's).
pub async fn describe(State(shared): AppState, Query(query): Query<Execution>) -> Answer {
    let sfn = &shared.backend.sfn;
    let execution = sfn.describe(&query.arn).map_err(refused)?;
    // One read of the history gives both its events and each state's runs.
    let history = sfn.history(&query.arn).map_err(refused)?;
    let (events, runs) = (history_events(&history), state_runs(&history));
    let logs = crate::logs::read(&shared.backend.logs, &execution.name);
    let execution = described(&execution);
    Ok(Json(json!({"execution": execution, "events": events, "runs": runs, "logs": logs})).into_response())
}

/// The state machine, with its definition as a JSON object.
pub async fn state_machine(State(shared): AppState) -> Answer {
    let backend = &shared.backend;
    let machine = backend.sfn.state_machine(&backend.machine_arn).map_err(refused)?;
    let mut machine = described_machine(&machine);
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
    let redriven = shared.backend.sfn.redrive(&target.execution_arn).map_err(refused)?;
    Ok(Json(json!({"redriveDate": epoch_seconds(redriven)})).into_response())
}

pub async fn stop(State(shared): AppState, Json(target): Json<Target>) -> Answer {
    let failure = Failure { error: "Console.Stopped".into(), cause: "stopped from the console".into() };
    let stopped = shared.backend.sfn.stop(&target.execution_arn, failure).map_err(refused)?;
    Ok(Json(json!({"stopDate": stopped.stop_date.map(epoch_seconds)})).into_response())
}

/// How long a burst of changes (every transition of every running execution) is gathered into
/// one message: a page redraws at most about four times a second.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(250);

/// `text/event-stream`: a `changed` message whenever an execution's history grows or its
/// status changes, and a `status` message too when a status changed (what publishes: a page
/// of outputs waits for that only). The pages fetch what they show when told, instead of
/// polling.
pub async fn changes(
    State(shared): AppState,
) -> axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>
{
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    // Subscribed together: a status change is told before the count of changes moves on.
    let told = (shared.backend.sfn.changes(), shared.backend.sfn.events());
    let stream = futures::stream::unfold(told, |(mut changes, mut statuses)| async move {
        changes.changed().await.ok()?;
        tokio::time::sleep(COALESCE).await;
        // The count of changes as the data: a browser drops an event whose data is empty.
        let count = *changes.borrow_and_update();
        let mut status = false;
        while statuses.try_recv().is_ok() {
            status = true;
        }
        let mut said = vec![Ok(Event::default().event("changed").data(count.to_string()))];
        if status {
            said.push(Ok(Event::default().event("status").data(count.to_string())));
        }
        Some((futures::stream::iter(said), (changes, statuses)))
    });
    Sse::new(stream.flatten()).keep_alive(KeepAlive::default())
}
