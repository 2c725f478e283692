//! The Step Functions API over HTTP, in the AWS JSON 1.0 protocol that `aws-sdk-sfn` and the
//! aws CLI speak (`POST /`, `X-Amz-Target: AWSStepFunctions.<Operation>`), in front of the
//! engine. Requests are not authenticated: the endpoint listens on 127.0.0.1 only. Every change
//! of an execution's status is told to the subscribers of [`StepFunctionsEndpoint::events`]
//! (a Standard workflow tells EventBridge; the platform makes AWS's event of it).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::engine::runs::epoch_seconds as epoch;
use crate::engine::{
    Definition, Engine, Execution, ExecutionStore, Failure, History, StateMachine, Status, StatusChange,
};
use mediaflow_endpoint::Feed;

mod operations;
use operations::Operation;

/// A running endpoint. Dropping it stops the server.
pub struct StepFunctionsEndpoint {
    addr: SocketAddr,
    api: Arc<Api>,
    _stop: oneshot::Sender<()>,
}

struct Machine {
    machine: StateMachine,
    definition: String,
    role_arn: String,
    created: DateTime<Utc>,
}

/// How [`Api::launch`] runs an execution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Launch {
    Start,
    Redrive,
    /// After a restart, from where its journal left it.
    Resume,
}

struct Tracked {
    /// The record as last known: as started, or as it ended.
    execution: Execution,
    run: Option<JoinHandle<()>>,
}

struct Api {
    engine: Arc<Engine>,
    machines: Mutex<BTreeMap<String, Arc<Machine>>>,
    executions: Mutex<BTreeMap<String, Tracked>>,
    store: Option<ExecutionStore>,
    events: Feed<StatusChange>,
}

/// An error as the protocol carries it: its `__type` is the SDK's error name.
#[derive(Debug)]
pub struct ApiError {
    pub kind: &'static str,
    pub message: String,
}

/// The API's operations in-process, for a client in the same process (the console): the same
/// calls, answers and errors an HTTP client gets.
#[derive(Clone)]
pub struct Operations(Arc<Api>);

impl Operations {
    /// Calls `operation` (`DescribeExecution`, `RedriveExecution`, …) with its JSON input.
    pub async fn call(&self, operation: &str, input: &Value) -> Result<Value, ApiError> {
        self.0.call(operation, input).await
    }

    /// Changes whenever an execution's history grows or its status changes: what the console's
    /// pages wait on (server-sent events) instead of polling.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.engine.changes()
    }

    /// Execution `arn`'s history so far, typed (a running one's as it runs): what
    /// `GetExecutionHistory` answers ([`history_events`]) and each state's runs are read from.
    pub fn history(&self, arn: &str) -> Result<History, ApiError> {
        self.0.history(arn)
    }

    /// Every execution of `machine_arn`, newest first, as last known; a kept one without its
    /// history and output, as a listing needs it (`GetExecutionHistory` and
    /// `DescribeExecution` give those).
    pub fn executions(&self, machine_arn: &str) -> Vec<Execution> {
        let mut all = self.0.all_executions();
        all.retain(|e| e.state_machine_arn == machine_arn);
        all
    }
}

/// A Step Functions client for the endpoint at `addr`, with the platform's credentials.
pub fn client_of(addr: SocketAddr) -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&mediaflow_endpoint::sdk_config(format!("http://{addr}")))
}

fn error(kind: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { kind, message: message.into() }
}

impl StepFunctionsEndpoint {
    /// Serves the API for `engine` on `addr` (port 0 picks a free one). With a `store`, every
    /// execution is kept there when it starts and when it ends, and executions kept by an
    /// earlier process can be described and redriven.
    pub async fn start(
        engine: Arc<Engine>,
        store: Option<ExecutionStore>,
        addr: SocketAddr,
    ) -> std::io::Result<StepFunctionsEndpoint> {
        StepFunctionsEndpoint::serve(TcpListener::bind(addr).await?, engine, store)
    }

    /// Serves the API for `engine` on a listener bound beforehand: its address is known, and
    /// clients of it can be made ([`client_of`]), before the engine that needs them is built.
    pub fn serve(
        listener: TcpListener,
        engine: Arc<Engine>,
        store: Option<ExecutionStore>,
    ) -> std::io::Result<StepFunctionsEndpoint> {
        let api = Arc::new(Api {
            engine,
            machines: Mutex::default(),
            executions: Mutex::default(),
            store,
            events: Feed::default(),
        });
        let addr = listener.local_addr()?;
        // One route: the JSON 1.0 protocol names the operation in a header, not the path.
        let router = axum::Router::new().fallback(answer).with_state(api.clone());
        let stop = mediaflow_endpoint::listener::serve_router(listener, router, |_| {});
        Ok(StepFunctionsEndpoint { addr, api, _stop: stop })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SFN` and any Step Functions client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A Step Functions client for this endpoint, with the platform's credentials.
    pub fn client(&self) -> aws_sdk_sfn::Client {
        client_of(self.addr)
    }

    /// The operations, for a client in this process.
    pub fn operations(&self) -> Operations {
        Operations(self.api.clone())
    }

    /// Every execution status change from now on.
    pub fn events(&self) -> mpsc::UnboundedReceiver<StatusChange> {
        self.api.events.subscribe()
    }

    /// Makes `machine` known, as CreateStateMachine would (the CLI registers the pipeline).
    pub fn register(&self, machine: StateMachine, definition: &str) {
        self.api.add_machine(machine, definition.to_string(), String::new());
    }

    /// Goes on with every kept execution of a registered state machine that was running when
    /// an earlier process ended (a crash, a kill, a stop): its history and where it was are
    /// read back from its journal. Returns the ARNs of those resumed.
    pub fn resume_kept(&self) -> Vec<String> {
        let Some(store) = &self.api.store else { return Vec::new() };
        let kept = match store.list() {
            Ok(kept) => kept,
            Err(e) => {
                eprintln!("mediaflow: could not read the kept executions: {e}");
                return Vec::new();
            }
        };
        let mut resumed = Vec::new();
        for mut execution in kept {
            if execution.status != Status::Running {
                store.remove_journal(&execution);
                continue;
            }
            let Ok(machine) = self.api.machine(&execution.state_machine_arn) else { continue };
            match store.read_journal(&execution) {
                Ok((events, at)) => {
                    // The record may already hold what an earlier resumption read back.
                    let known = execution.history.events.len() as u64;
                    execution.history.events.extend(events.into_iter().filter(|e| e.id > known));
                    execution.resume = at.or(execution.resume.take());
                }
                Err(e) => eprintln!("mediaflow: the journal of {} could not be read: {e}", execution.arn),
            }
            resumed.push(execution.arn.clone());
            self.api.launch(machine, execution, Launch::Resume);
        }
        resumed
    }
}

/// Every request: the operation `X-Amz-Target` names, its body the input, in AWS's JSON 1.0
/// protocol (errors as `{"__type", "message"}` with status 400).
async fn answer(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix("AWSStepFunctions."))
        .map(str::to_string);
    let result = match (target, serde_json::from_slice::<Value>(if body.is_empty() { b"{}" } else { &body })) {
        (None, _) => Err(error("UnknownOperationException", "X-Amz-Target names no Step Functions operation")),
        (_, Err(e)) => Err(error("SerializationException", e.to_string())),
        (Some(operation), Ok(input)) => api.call(&operation, &input).await,
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

impl Api {
    async fn call(self: &Arc<Self>, operation: &str, input: &Value) -> Result<Value, ApiError> {
        match Operation::parse(operation, input)? {
            Operation::CreateStateMachine(i) => self.create_state_machine(&i.name, &i.definition, &i.role_arn),
            Operation::DescribeStateMachine(i) => {
                let m = self.machine(&i.state_machine_arn)?;
                Ok(json!({
                    "stateMachineArn": m.machine.arn, "name": m.machine.name, "status": "ACTIVE",
                    "definition": m.definition, "roleArn": m.role_arn, "type": "STANDARD",
                    "creationDate": epoch(m.created)
                }))
            }
            Operation::ListStateMachines(_) => {
                let machines = self.machines.lock().unwrap();
                let list: Vec<Value> = machines
                    .values()
                    .map(|m| json!({"stateMachineArn": m.machine.arn, "name": m.machine.name, "type": "STANDARD", "creationDate": epoch(m.created)}))
                    .collect();
                Ok(json!({"stateMachines": list}))
            }
            Operation::StartExecution(i) => {
                let name = i.name.filter(|n| !n.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let given = i.input.as_deref().unwrap_or("{}");
                let value: Value =
                    serde_json::from_str(given).map_err(|e| error("InvalidExecutionInput", e.to_string()))?;
                self.start_execution(&i.state_machine_arn, &name, value)
            }
            Operation::DescribeExecution(i) => {
                let e = self.execution(&i.execution_arn)?;
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
                Ok(out)
            }
            Operation::GetExecutionHistory(i) => {
                let mut events = history_events(&self.history(&i.execution_arn)?);
                if i.reverse_order {
                    events.reverse();
                }
                Ok(json!({"events": events}))
            }
            Operation::ListExecutions(i) => {
                let machine = &i.state_machine_arn;
                self.machine(machine)?;
                let executions = self.all_executions();
                let list: Vec<Value> = executions
                    .iter()
                    .filter(|e| &e.state_machine_arn == machine)
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
                Ok(json!({"executions": list}))
            }
            Operation::SendTaskSuccess(i) => {
                let output: Value =
                    serde_json::from_str(&i.output).map_err(|e| error("InvalidOutput", e.to_string()))?;
                self.engine.send_task_success(&i.task_token, output).map_err(task_error)?;
                Ok(json!({}))
            }
            Operation::SendTaskFailure(i) => {
                let failure = Failure { error: i.error, cause: i.cause };
                self.engine.send_task_failure(&i.task_token, failure).map_err(task_error)?;
                Ok(json!({}))
            }
            Operation::SendTaskHeartbeat(i) => {
                self.engine.send_task_heartbeat(&i.task_token).map_err(task_error)?;
                Ok(json!({}))
            }
            Operation::RedriveExecution(i) => self.redrive(&i.execution_arn),
            Operation::StopExecution(i) => self.stop(&i.execution_arn, Failure { error: i.error, cause: i.cause }),
        }
    }

    fn add_machine(&self, machine: StateMachine, definition: String, role_arn: String) -> Arc<Machine> {
        let entry = Arc::new(Machine { machine, definition, role_arn, created: self.engine.now() });
        self.machines.lock().unwrap().insert(entry.machine.arn.clone(), entry.clone());
        entry
    }

    fn create_state_machine(&self, name: &str, definition: &str, role_arn: &str) -> Result<Value, ApiError> {
        if name.is_empty() {
            return Err(error("InvalidName", "a state machine needs a name"));
        }
        let loaded = Definition::parse(definition).map_err(|e| error("InvalidDefinition", e.to_string()))?;
        let machine = StateMachine::new(name, loaded);
        let existing = self.machines.lock().unwrap().get(&machine.arn).cloned();
        let entry = match existing {
            Some(m) if m.definition == definition && m.role_arn == role_arn => m,
            Some(_) => {
                return Err(error(
                    "StateMachineAlreadyExists",
                    format!("{} exists with another definition", machine.arn),
                ));
            }
            None => self.add_machine(machine, definition.to_string(), role_arn.to_string()),
        };
        Ok(json!({"stateMachineArn": entry.machine.arn, "creationDate": epoch(entry.created)}))
    }

    fn machine(&self, arn: &str) -> Result<Arc<Machine>, ApiError> {
        self.machines
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .ok_or_else(|| error("StateMachineDoesNotExist", format!("no state machine {arn}")))
    }

    /// An execution's history so far: a running one's as it runs.
    fn history(&self, arn: &str) -> Result<History, ApiError> {
        let e = self.execution(arn)?;
        Ok(if e.status == Status::Running { self.engine.live_history(arn).unwrap_or(e.history) } else { e.history })
    }

    /// An execution of this process, or one an earlier process kept in the store.
    fn execution(&self, arn: &str) -> Result<Execution, ApiError> {
        if let Some(t) = self.executions.lock().unwrap().get(arn) {
            return Ok(t.execution.clone());
        }
        let missing = || error("ExecutionDoesNotExist", format!("no execution {arn}"));
        self.store.as_ref().ok_or_else(missing)?.load_arn(arn).map_err(|_| missing())
    }

    fn all_executions(&self) -> Vec<Execution> {
        let mut all: BTreeMap<String, Execution> = match &self.store {
            Some(store) => store.summaries().unwrap_or_default().into_iter().map(|e| (e.arn.clone(), e)).collect(),
            None => BTreeMap::new(),
        };
        for (arn, t) in self.executions.lock().unwrap().iter() {
            all.insert(arn.clone(), t.execution.clone());
        }
        let mut list: Vec<Execution> = all.into_values().collect();
        list.sort_by_key(|e| std::cmp::Reverse(e.start_date));
        list
    }

    /// An execution's status changed: keep its record and tell the subscribers. The record of
    /// an ended execution is whole, so its journal goes. Whether the record is on disk.
    fn keep(&self, execution: &Execution) -> bool {
        let kept = match &self.store {
            Some(store) => match store.save(execution) {
                Ok(()) if execution.status != Status::Running => {
                    store.remove_journal(execution);
                    true
                }
                Ok(()) => true,
                Err(e) => {
                    eprintln!("mediaflow: could not keep execution {}: {e}", execution.arn);
                    false
                }
            },
            None => false,
        };
        self.events.send(&StatusChange::of(execution));
        self.engine.changed();
        kept
    }

    /// An execution ended as `ended`. Once its record is on disk it is read from there, so a
    /// long-running platform does not hold every history it ever ran in memory.
    fn ended(&self, ended: Execution) {
        let on_disk = self.keep(&ended);
        let mut executions = self.executions.lock().unwrap();
        if on_disk {
            executions.remove(&ended.arn);
        } else if let Some(t) = executions.get_mut(&ended.arn) {
            t.execution = ended;
            t.run = None;
        }
    }

    fn start_execution(self: &Arc<Self>, machine_arn: &str, name: &str, input: Value) -> Result<Value, ApiError> {
        let machine = self.machine(machine_arn)?;
        let arn = crate::engine::execution_arn_of(&machine.machine, name);
        if let Ok(existing) = self.execution(&arn) {
            // StartExecution is idempotent for the same name and input.
            if existing.input == input {
                return Ok(json!({"executionArn": existing.arn, "startDate": epoch(existing.start_date)}));
            }
            return Err(error("ExecutionAlreadyExists", format!("{arn} already ran with another input")));
        }
        let execution = self.engine.prepare(&machine.machine, name, input);
        let started = json!({"executionArn": execution.arn, "startDate": epoch(execution.start_date)});
        self.launch(machine, execution, Launch::Start);
        Ok(started)
    }

    fn redrive(self: &Arc<Self>, arn: &str) -> Result<Value, ApiError> {
        let execution = self.execution(arn)?;
        let machine = self.machine(&execution.state_machine_arn)?;
        if !execution.redrivable() {
            return Err(error("ExecutionNotRedrivable", format!("{arn} is {:?}", execution.status)));
        }
        self.launch(machine, execution, Launch::Redrive);
        Ok(json!({"redriveDate": epoch(self.engine.now())}))
    }

    /// Runs the execution in the background, keeping its record current: saved as it starts
    /// (with all that is known of it, so its journal starts afresh) and as it ends.
    fn launch(self: &Arc<Self>, machine: Arc<Machine>, execution: Execution, how: Launch) {
        let mut running = execution.clone();
        running.status = Status::Running;
        running.stop_date = None;
        running.failure = None;
        running.redrive_count += u32::from(how == Launch::Redrive);
        if how != Launch::Resume {
            self.keep(&running);
        } else if let Some(store) = &self.store {
            // The record takes in what the journal held; the resumed run journals anew.
            if store.save(&running).is_ok() {
                store.remove_journal(&running);
            }
        }
        let api = self.clone();
        let arn = execution.arn.clone();
        // Registered before the run starts, so that the run's end always finds it.
        let mut executions = self.executions.lock().unwrap();
        let run = tokio::spawn(async move {
            let engine = &api.engine;
            let ended = match how {
                Launch::Redrive => engine.redrive(&machine.machine, execution).await.expect("checked redrivable"),
                Launch::Start => engine.run_prepared(&machine.machine, execution).await,
                Launch::Resume => engine.resume(&machine.machine, execution).await,
            };
            api.ended(ended);
        });
        executions.insert(arn, Tracked { execution: running, run: Some(run) });
    }

    fn stop(&self, arn: &str, failure: Failure) -> Result<Value, ApiError> {
        let mut executions = self.executions.lock().unwrap();
        let tracked = executions
            .get_mut(arn)
            .filter(|t| t.execution.status == Status::Running)
            .ok_or_else(|| error("ExecutionDoesNotExist", format!("no running execution {arn}")))?;
        if let Some(run) = tracked.run.take() {
            run.abort();
        }
        let stopped = self.engine.aborted(tracked.execution.clone(), failure);
        // Aborted in memory at once: a reader while `ended` writes the record sees it stopped.
        tracked.execution = stopped.clone();
        drop(executions);
        let stop_date = stopped.stop_date.unwrap_or_else(|| self.engine.now());
        self.ended(stopped);
        Ok(json!({"stopDate": epoch(stop_date)}))
    }
}

fn task_error(e: crate::engine::TokenError) -> ApiError {
    use crate::engine::TokenError::*;
    let kind = match e {
        TaskDoesNotExist => "TaskDoesNotExist",
        TaskTimedOut => "TaskTimedOut",
        InvalidToken => "InvalidToken",
    };
    error(kind, e.to_string())
}
