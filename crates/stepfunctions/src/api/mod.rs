//! The Step Functions API over HTTP, in the AWS JSON 1.0 protocol that `aws-sdk-sfn` and the
//! aws CLI speak (`POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`): a thin adapter in
//! front of the execution service (`service.rs`). Each operation's input is typed
//! (`operations.rs`); each answer is the service's typed result in AWS's JSON, dated in epoch
//! seconds. Every request must be signed (SigV4) with the endpoint's credentials.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::engine::runs::epoch_seconds as epoch;
use crate::engine::{Engine, Execution, ExecutionStore, Failure, History};
use crate::service::{MachineRecord, Service, ServiceError};
use mediaflow_endpoint::Credentials;

mod operations;
use operations::Operation;

/// A running endpoint. Dropping it stops the server.
pub struct StepFunctionsEndpoint {
    addr: SocketAddr,
    credentials: Credentials,
    service: Arc<Service>,
    _stop: oneshot::Sender<()>,
}

/// An error as the protocol carries it: its `__type` is the SDK's error name.
#[derive(Debug)]
pub struct ApiError {
    pub kind: &'static str,
    pub message: String,
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        ApiError { kind: e.name(), message: e.to_string() }
    }
}

/// A Step Functions client for the endpoint at `addr`, signing with `credentials`.
pub fn client_of(addr: SocketAddr, credentials: &Credentials) -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&mediaflow_endpoint::sdk_config(format!("http://{addr}"), credentials))
}

fn error(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { kind, message: message.into() }
}

impl StepFunctionsEndpoint {
    /// Serves the API for `engine` on `addr` (port 0 picks a free one), with the executions
    /// kept in `store` when there is one, to requests signed with `credentials`.
    pub async fn start(
        engine: Arc<Engine>,
        store: Option<ExecutionStore>,
        addr: SocketAddr,
        credentials: Credentials,
    ) -> std::io::Result<StepFunctionsEndpoint> {
        StepFunctionsEndpoint::serve(TcpListener::bind(addr).await?, engine, store, credentials)
    }

    /// Serves the API for `engine` on a listener bound beforehand: its address is known, and
    /// clients of it can be made ([`client_of`]), before the engine that needs them is built.
    pub fn serve(
        listener: TcpListener,
        engine: Arc<Engine>,
        store: Option<ExecutionStore>,
        credentials: Credentials,
    ) -> std::io::Result<StepFunctionsEndpoint> {
        let service = Service::new(engine, store);
        let addr = listener.local_addr()?;
        // One route: the JSON 1.0 protocol names the operation in a header, not the path.
        let router = axum::Router::new().fallback(answer).with_state(service.clone());
        let router = mediaflow_endpoint::sigv4::require(router, credentials.clone(), "states");
        let stop = mediaflow_endpoint::listener::serve_router(listener, router, |_| {});
        Ok(StepFunctionsEndpoint { addr, credentials, service, _stop: stop })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SFN` and any Step Functions client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A Step Functions client for this endpoint, signing with its credentials.
    pub fn client(&self) -> aws_sdk_sfn::Client {
        client_of(self.addr, &self.credentials)
    }

    /// The execution service behind the endpoint, for a client in this process.
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }
}

/// Every request: the operation `X-Amz-Target` names, its body the input, in AWS's JSON 1.0
/// protocol (errors as `{"__type", "message"}` with status 400).
async fn answer(State(service): State<Arc<Service>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("AWSStepFunctions."))
        .map(str::to_string);
    let result = match (target, serde_json::from_slice::<Value>(if body.is_empty() { b"{}" } else { &body })) {
        (None, _) => Err(error("UnknownOperationException", "X-Amz-Target names no Step Functions operation")),
        (_, Err(e)) => Err(error("SerializationException", e.to_string())),
        (Some(operation), Ok(input)) => call(&service, &operation, &input),
    };
    let (status, body) = match result {
        Ok(output) => (StatusCode::OK, output),
        Err(e) => (StatusCode::BAD_REQUEST, json!({"__type": e.kind, "message": e.message})),
    };
    (status, [(header::CONTENT_TYPE, "application/x-amz-json-1.0")], body.to_string()).into_response()
}

/// `history`'s events as `GetExecutionHistory` gives them: AWS's shape, dated in epoch seconds.
pub fn history_events(history: &History) -> Vec<Value> {
    let event = |e: &crate::engine::HistoryEvent| {
        let mut v = serde_json::to_value(e).expect("events serialise");
        v["timestamp"] = json!(epoch(e.timestamp));
        v
    };
    history.events.iter().map(event).collect()
}

/// What DescribeExecution answers for `e`.
pub fn described(e: &Execution) -> Value {
    let mut out = json!({
        "executionArn": e.arn, "stateMachineArn": e.state_machine_arn, "name": e.name,
        "status": e.status, "startDate": epoch(e.start_date), "input": e.input.to_string(),
        "redriveCount": e.redrive_count,
        "redriveStatus": if e.redrivable() { "REDRIVABLE" } else { "NOT_REDRIVABLE" },
    });
    if let Some(stop) = e.stop_date {
        out["stopDate"] = json!(epoch(stop));
    }
    if let Some(output) = &e.output {
        out["output"] = json!(output.to_string());
    }
    if let Some(f) = &e.failure {
        out["error"] = json!(f.error);
        out["cause"] = json!(f.cause);
    }
    out
}

/// What DescribeStateMachine answers for `m`.
pub fn described_machine(m: &MachineRecord) -> Value {
    json!({
        "stateMachineArn": m.machine.arn, "name": m.machine.name, "status": "ACTIVE",
        "definition": m.definition, "roleArn": m.role_arn, "type": "STANDARD",
        "creationDate": epoch(m.created)
    })
}

/// `operation` with its JSON `input`, answered by `service` in AWS's JSON.
fn call(service: &Arc<Service>, operation: &str, input: &Value) -> Result<Value, ApiError> {
    Ok(match Operation::parse(operation, input)? {
        Operation::CreateStateMachine(i) => {
            let m = service.create_state_machine(&i.name, &i.definition, &i.role_arn)?;
            json!({"stateMachineArn": m.machine.arn, "creationDate": epoch(m.created)})
        }
        Operation::DescribeStateMachine(i) => {
            let machine = service.state_machine(&i.state_machine_arn)?;
            described_machine(&machine)
        }
        Operation::ListStateMachines(_) => {
            let list: Vec<Value> = service
                .state_machines()
                .iter()
                .map(|m| json!({"stateMachineArn": m.machine.arn, "name": m.machine.name, "type": "STANDARD", "creationDate": epoch(m.created)}))
                .collect();
            json!({"stateMachines": list})
        }
        Operation::StartExecution(i) => {
            let given = i.input.as_deref().unwrap_or("{}");
            let value: Value =
                serde_json::from_str(given).map_err(|e| error("InvalidExecutionInput", e.to_string()))?;
            let e = service.start(&i.state_machine_arn, i.name, value)?;
            json!({"executionArn": e.arn, "startDate": epoch(e.start_date)})
        }
        Operation::DescribeExecution(i) => described(&service.describe(&i.execution_arn)?),
        Operation::GetExecutionHistory(i) => {
            let mut events = history_events(&service.history(&i.execution_arn)?);
            if i.reverse_order {
                events.reverse();
            }
            json!({"events": events})
        }
        Operation::ListExecutions(i) => {
            let list: Vec<Value> = service
                .list(&i.state_machine_arn)?
                .iter()
                .filter(|e| i.status_filter.is_none_or(|f| f.matches(e.status)))
                .map(|e| {
                    let mut item = json!({"executionArn": e.arn, "stateMachineArn": e.state_machine_arn,
                        "name": e.name, "status": e.status, "startDate": epoch(e.start_date), "redriveCount": e.redrive_count});
                    if let Some(stop) = e.stop_date {
                        item["stopDate"] = json!(epoch(stop));
                    }
                    item
                })
                .collect();
            json!({"executions": list})
        }
        Operation::SendTaskSuccess(i) => {
            let output: Value = serde_json::from_str(&i.output).map_err(|e| error("InvalidOutput", e.to_string()))?;
            service.send_task_success(&i.task_token, output)?;
            json!({})
        }
        Operation::SendTaskFailure(i) => {
            service.send_task_failure(&i.task_token, Failure { error: i.error, cause: i.cause })?;
            json!({})
        }
        Operation::SendTaskHeartbeat(i) => {
            service.send_task_heartbeat(&i.task_token)?;
            json!({})
        }
        Operation::RedriveExecution(i) => json!({"redriveDate": epoch(service.redrive(&i.execution_arn)?)}),
        Operation::StopExecution(i) => {
            let stopped = service.stop(&i.execution_arn, Failure { error: i.error, cause: i.cause })?;
            json!({"stopDate": epoch(stopped.stop_date.unwrap_or_else(|| service.now()))})
        }
    })
}
