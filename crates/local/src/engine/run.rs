//! Running an execution: each state's data flow, Task invocations (Lambda by ARN,
//! `lambda:invoke`, `lambda:invoke.waitForTaskToken`, `sns:publish`), Retry and Catch,
//! time-outs and heartbeats, Parallel branches and Map items, and the history of it all.
//!
//! Time is tokio's: waits, backoffs and time-outs sleep on tokio's clock and timestamps are
//! read from it, so a test on a paused runtime runs a day-long wait at once and sees the
//! timestamps it would on AWS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::choice::{self, ChoiceError};
use super::dataflow::{DataError, apply_result_path, apply_template, select};
use super::definition::{Definition, LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT, SNS_PUBLISH};
use super::errors::{Decision, Failure, decide};
use super::history::History;
use super::registry::Registry;

/// Where executions run: the account and region ARNs are made in.
use crate::{ACCOUNT, REGION};

/// A loaded state machine.
#[derive(Clone, Debug)]
pub struct StateMachine {
    pub name: String,
    pub arn: String,
    pub definition: Definition,
}

impl StateMachine {
    pub fn new(name: &str, definition: Definition) -> Self {
        StateMachine {
            name: name.into(),
            arn: format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"),
            definition,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

/// An execution: what it was given, how it ended, where a redrive would start, its history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub input: Value,
    pub status: Status,
    pub start_date: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub redrive_count: u32,
    /// Where it stopped, for a redrive (failed and timed-out executions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
    pub history: History,
}

impl Execution {
    /// Whether RedriveExecution takes it: it failed, timed out or was stopped, at a known state.
    pub fn redrivable(&self) -> bool {
        matches!(self.status, Status::Failed | Status::TimedOut | Status::Aborted) && self.resume.is_some()
    }
}

/// Where a failed execution, branch or item stopped: the state that failed, the input it had,
/// and for a Parallel or Map what became of each branch or item. A redrive starts here, so
/// the states that succeeded do not run again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resume {
    pub state: String,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<Vec<Branch>>,
}

impl Resume {
    /// The state that failed: this one, or in a Parallel or Map, where its failed branch or
    /// item stopped.
    pub fn failed_state(&self) -> &str {
        let failed_branch = self.fan_out.iter().flatten().find_map(|b| match b {
            Branch::Unfinished(Some(r)) => Some(r.failed_state()),
            _ => None,
        });
        failed_branch.unwrap_or(&self.state)
    }
}

/// A branch of a Parallel or an item of a Map, as a failure left it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Branch {
    Succeeded(Value),
    /// Failed (redrive from where it stopped), or stopped or not started (run it from the start).
    Unfinished(Option<Resume>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedriveError {
    #[error("ExecutionNotRedrivable: {0} is {1:?}; only failed, timed-out and stopped executions are redriven")]
    NotRedrivable(String, Status),
}

/// A message for a waiting task token.
enum TokenMessage {
    Success(Value),
    Failure(Failure),
    Heartbeat,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No task waits on this token: never issued, or already answered.
    #[error("TaskDoesNotExist: no task waits on this token")]
    TaskDoesNotExist,
    /// The task timed out (TimeoutSeconds or HeartbeatSeconds) before the answer came.
    #[error("TaskTimedOut: the task of this token timed out")]
    TaskTimedOut,
    /// Not a token this engine issues.
    #[error("InvalidToken: not a task token")]
    InvalidToken,
}

/// Wall-clock time on tokio's clock: the engine's start, plus tokio's elapsed time.
#[derive(Clone, Copy)]
struct Clock {
    wall: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl Clock {
    fn now(&self) -> DateTime<Utc> {
        self.wall + chrono::TimeDelta::from_std(self.start.elapsed()).unwrap_or_default()
    }
}

pub struct Engine {
    registry: Registry,
    clock: Clock,
    tokens: Mutex<HashMap<String, mpsc::UnboundedSender<TokenMessage>>>,
    /// The running executions, by ARN.
    live: Mutex<HashMap<String, Arc<Live>>>,
    /// Tokens whose task timed out, so that a late answer hears so.
    timed_out: Mutex<std::collections::HashSet<String>>,
    check: Option<TaskCheck>,
}

/// Which side of a function call a contract check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// What the Task state gives the function.
    Input,
    /// What the function returns (or, for a task token, what the token is answered with).
    Output,
}

/// Checks what the function of a Task state (named by the first argument) is given or returns;
/// `Err` says what is wrong.
pub type TaskCheck = Arc<dyn Fn(&str, Side, &Value) -> Result<(), String> + Send + Sync>;

impl Engine {
    /// An engine calling the handlers of `registry`. Call inside a tokio runtime.
    pub fn new(registry: Registry) -> Arc<Self> {
        Self::build(registry, None)
    }

    /// An engine that also checks what every function is given and returns with `check`.
    pub fn checking(registry: Registry, check: TaskCheck) -> Arc<Self> {
        Self::build(registry, Some(check))
    }

    fn build(registry: Registry, check: Option<TaskCheck>) -> Arc<Self> {
        Arc::new(Engine {
            registry,
            clock: Clock { wall: Utc::now(), start: tokio::time::Instant::now() },
            tokens: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            timed_out: Mutex::default(),
            check,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs an execution of `machine` to its end.
    pub async fn execute(self: &Arc<Self>, machine: &StateMachine, name: &str, input: Value) -> Execution {
        self.run_prepared(machine, self.prepare(machine, name, input)).await
    }

    /// A new execution of `machine`, not started: what StartExecution answers with before the
    /// run ends. [`Engine::run_prepared`] runs it.
    pub fn prepare(&self, machine: &StateMachine, name: &str, input: Value) -> Execution {
        Execution {
            arn: format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{}:{name}", machine.name),
            name: name.to_string(),
            state_machine_arn: machine.arn.clone(),
            input,
            status: Status::Running,
            start_date: self.now(),
            stop_date: None,
            output: None,
            failure: None,
            redrive_count: 0,
            resume: None,
            history: History::default(),
        }
    }

    pub async fn run_prepared(self: &Arc<Self>, machine: &StateMachine, execution: Execution) -> Execution {
        let details = json!({"input": execution.input.to_string(), "roleArn": role_arn(machine)});
        self.run(machine, execution, |run| run.record("ExecutionStarted", "executionStartedEventDetails", details))
            .await
    }

    /// The history so far of a running execution.
    pub fn live_history(&self, arn: &str) -> Option<History> {
        self.live.lock().unwrap().get(arn).map(|l| l.history.lock().unwrap().clone())
    }

    /// `execution`, whose run was stopped from outside (StopExecution), as it ends: its history
    /// so far, then `ExecutionAborted`. A redrive starts again at the state it was stopped in.
    pub fn aborted(&self, mut execution: Execution, failure: Failure) -> Execution {
        let live = self.live.lock().unwrap().remove(&execution.arn);
        if let Some(live) = live {
            execution.history = live.history.lock().unwrap().clone();
            execution.resume = live.at.lock().unwrap().clone();
        }
        let details = json!({"error": failure.error, "cause": failure.cause});
        execution.history.record(self.now(), "ExecutionAborted", "executionAbortedEventDetails", details);
        execution.status = Status::Aborted;
        execution.failure = Some(failure);
        execution.stop_date = Some(self.now());
        execution
    }

    /// Runs a failed, timed-out or stopped execution again from where it stopped, as Step
    /// Functions' RedriveExecution does: states that succeeded are not run again, nor are the
    /// branches and items of a Parallel or Map that succeeded; retry counts start afresh.
    pub async fn redrive(
        self: &Arc<Self>,
        machine: &StateMachine,
        mut execution: Execution,
    ) -> Result<Execution, RedriveError> {
        if !execution.redrivable() {
            return Err(RedriveError::NotRedrivable(execution.arn, execution.status));
        }
        execution.redrive_count += 1;
        execution.status = Status::Running;
        (execution.stop_date, execution.output, execution.failure) = (None, None, None);
        let count = execution.redrive_count;
        Ok(self
            .run(machine, execution, |run| {
                run.record("ExecutionRedriven", "executionRedrivenEventDetails", json!({"redriveCount": count}))
            })
            .await)
    }

    /// Runs `execution` from its start or its resume point to an end; `first` records the
    /// event that opens this run.
    async fn run(
        self: &Arc<Self>,
        machine: &StateMachine,
        mut execution: Execution,
        first: impl FnOnce(&Run),
    ) -> Execution {
        let context = json!({
            "Execution": {
                "Id": execution.arn, "Name": execution.name, "Input": execution.input,
                "RedriveCount": execution.redrive_count,
                "StartTime": iso(execution.start_date),
                "RoleArn": role_arn(machine),
            },
            "StateMachine": {"Id": machine.arn, "Name": machine.name},
        });
        let live = Arc::new(Live { history: Mutex::new(std::mem::take(&mut execution.history)), at: Mutex::default() });
        self.live.lock().unwrap().insert(execution.arn.clone(), live.clone());
        let run = Run { engine: self.clone(), context, live };
        first(&run);
        let states = &machine.definition.json;
        let work = run.states(states, execution.input.clone(), execution.resume.take(), Level::Top);
        // `None`: the execution ran past its own TimeoutSeconds.
        let result = match states["TimeoutSeconds"].as_u64() {
            Some(limit) => tokio::time::timeout(Duration::from_secs(limit), work).await.ok(),
            None => Some(work.await),
        };
        match result {
            Some(Ok(output)) => {
                run.record(
                    "ExecutionSucceeded",
                    "executionSucceededEventDetails",
                    json!({"output": output.to_string()}),
                );
                execution.status = Status::Succeeded;
                execution.output = Some(output);
            }
            None => {
                let f = Failure {
                    error: "States.Timeout".into(),
                    cause: "the execution ran past its TimeoutSeconds".into(),
                };
                run.record(
                    "ExecutionTimedOut",
                    "executionTimedOutEventDetails",
                    json!({"error": f.error, "cause": f.cause}),
                );
                execution.status = Status::TimedOut;
                execution.failure = Some(f);
                execution.resume = run.live.at.lock().unwrap().clone();
            }
            Some(Err(halt)) => {
                let f = &halt.failure;
                run.record(
                    "ExecutionFailed",
                    "executionFailedEventDetails",
                    json!({"error": f.error, "cause": f.cause}),
                );
                execution.status = Status::Failed;
                execution.failure = Some(halt.failure);
                execution.resume = Some(halt.resume);
            }
        }
        execution.stop_date = Some(self.now());
        self.live.lock().unwrap().remove(&execution.arn);
        execution.history = run.live.history.lock().unwrap().clone();
        execution
    }

    pub fn send_task_success(&self, token: &str, output: Value) -> Result<(), TokenError> {
        self.answer(token, TokenMessage::Success(output), true)
    }

    pub fn send_task_failure(&self, token: &str, failure: Failure) -> Result<(), TokenError> {
        self.answer(token, TokenMessage::Failure(failure), true)
    }

    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), TokenError> {
        self.answer(token, TokenMessage::Heartbeat, false)
    }

    fn answer(&self, token: &str, message: TokenMessage, last: bool) -> Result<(), TokenError> {
        let mut tokens = self.tokens.lock().unwrap();
        let missing = || {
            if uuid::Uuid::parse_str(token).is_err() {
                TokenError::InvalidToken
            } else if self.timed_out.lock().unwrap().contains(token) {
                TokenError::TaskTimedOut
            } else {
                TokenError::TaskDoesNotExist
            }
        };
        let sender = tokens.get(token).ok_or_else(missing)?;
        sender.send(message).map_err(|_| TokenError::TaskDoesNotExist)?;
        if last {
            tokens.remove(token);
        }
        Ok(())
    }
}

fn role_arn(machine: &StateMachine) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{}-role", machine.name)
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn runtime(e: DataError) -> Failure {
    Failure { error: e.error_name().to_string(), cause: e.to_string() }
}

/// A number in [0, 1) for full jitter: the low 53 bits of a v4 UUID are all random (its
/// version and variant bits sit higher).
fn random() -> f64 {
    (uuid::Uuid::new_v4().as_u128() & ((1u128 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

/// One execution in progress.
struct Run {
    engine: Arc<Engine>,
    context: Value,
    live: Arc<Live>,
}

/// What the engine knows of a running execution from outside its run: the history as it grows,
/// and the top-level state it is in with that state's input, where a redrive starts when the
/// run is cut short (timed out or stopped).
struct Live {
    history: Mutex<History>,
    at: Mutex<Option<Resume>>,
}

/// Whether [`Run::states`] runs the state machine itself or a branch or item inside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Inner,
}

/// What a state hands on: its output, and the next state (`None` at an end).
type Step = Result<(Value, Option<String>), Stop>;

/// A state that failed, and for a Parallel or Map what became of its branches or items.
struct Stop {
    failure: Failure,
    fan_out: Option<Vec<Branch>>,
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Stop { failure, fan_out: None }
    }
}

/// A state machine or branch that failed, and where a redrive would start it again.
struct Halt {
    failure: Failure,
    resume: Resume,
}

impl Run {
    fn record(&self, kind: &str, field: &str, details: Value) {
        self.live.history.lock().unwrap().record(self.engine.now(), kind, field, details);
    }

    /// The context object for a state, `$$`.
    fn state_context(&self, name: &str, entered: DateTime<Utc>, retries: u32) -> Value {
        let mut context = self.context.clone();
        context["State"] = json!({"Name": name, "EnteredTime": iso(entered), "RetryCount": retries});
        context
    }

    /// Runs a state machine or a branch from `StartAt`, or from where `resume` says, to an end.
    fn states<'a>(
        &'a self,
        machine: &'a Value,
        input: Value,
        resume: Option<Resume>,
        level: Level,
    ) -> BoxFuture<'a, Result<Value, Halt>> {
        Box::pin(async move {
            let (mut current, mut input, mut fan_out) = match resume {
                Some(r) => (r.state, r.input, r.fan_out),
                None => (machine["StartAt"].as_str().unwrap_or_default().to_string(), input, None),
            };
            loop {
                let state = &machine["States"][&current];
                if level == Level::Top {
                    let at = Resume { state: current.clone(), input: input.clone(), fan_out: fan_out.clone() };
                    *self.live.at.lock().unwrap() = Some(at);
                }
                match self.state(&current, state, input.clone(), fan_out.take()).await {
                    Ok((output, Some(next))) => {
                        current = next;
                        input = output;
                    }
                    Ok((output, None)) => return Ok(output),
                    Err(stop) => {
                        let resume = Resume { state: current, input, fan_out: stop.fan_out };
                        return Err(Halt { failure: stop.failure, resume });
                    }
                }
            }
        })
    }

    /// Runs one state; `fan_out` is what a redrive knows of a Parallel's or Map's branches.
    async fn state(&self, name: &str, state: &Value, input: Value, fan_out: Option<Vec<Branch>>) -> Step {
        let kind = state["Type"].as_str().unwrap_or_default();
        let entered = self.engine.now();
        self.record(
            &format!("{kind}StateEntered"),
            "stateEnteredEventDetails",
            json!({"name": name, "input": input.to_string()}),
        );
        let next = state["Next"].as_str().map(str::to_string);
        let (output, next) = match kind {
            "Pass" => (self.pass(name, state, &input, entered).map_err(runtime)?, next),
            "Succeed" => {
                let context = self.state_context(name, entered, 0);
                let effective = input_path(state, &input, &context).map_err(runtime)?;
                (output_path(state, effective, &context).map_err(runtime)?, None)
            }
            "Choice" => {
                let context = self.state_context(name, entered, 0);
                let effective = input_path(state, &input, &context).map_err(runtime)?;
                let next = choice::next_state(state, &effective, &context).map_err(|e| match e {
                    ChoiceError::Data(d) => runtime(d),
                    ChoiceError::NoChoiceMatched => Failure {
                        error: "States.NoChoiceMatched".into(),
                        cause: format!("no choice rule of {name:?} matched and it has no Default"),
                    },
                })?;
                (output_path(state, effective, &context).map_err(runtime)?, Some(next))
            }
            "Wait" => {
                let context = self.state_context(name, entered, 0);
                let effective = input_path(state, &input, &context).map_err(runtime)?;
                let wait = self.wait_for(state, &effective, &context).map_err(runtime)?;
                tokio::time::sleep(wait).await;
                (output_path(state, effective, &context).map_err(runtime)?, next)
            }
            "Fail" => return Err(self.fail(name, state, &input, entered).into()),
            _ => self.with_retries(name, kind, state, input, entered, fan_out).await?,
        };
        self.record(
            &format!("{kind}StateExited"),
            "stateExitedEventDetails",
            json!({"name": name, "output": output.to_string()}),
        );
        Ok((output, next))
    }

    fn pass(&self, name: &str, state: &Value, input: &Value, entered: DateTime<Utc>) -> Result<Value, DataError> {
        let context = self.state_context(name, entered, 0);
        let effective = input_path(state, input, &context)?;
        let result = match (state.get("Result"), state.get("Parameters")) {
            (Some(result), _) => result.clone(),
            (None, Some(template)) => apply_template(template, &effective, &context)?,
            (None, None) => effective,
        };
        let output = apply_result_path(input, result, state.get("ResultPath"))?;
        output_path(state, output, &context)
    }

    fn fail(&self, name: &str, state: &Value, input: &Value, entered: DateTime<Utc>) -> Failure {
        let context = self.state_context(name, entered, 0);
        let field = |plain: &str, path: &str| -> Result<String, Failure> {
            match (state.get(plain), state.get(path)) {
                (Some(v), _) => Ok(v.as_str().unwrap_or_default().to_string()),
                (None, Some(p)) => {
                    let v = select(p.as_str().unwrap_or_default(), input, &context).map_err(runtime)?;
                    Ok(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                }
                (None, None) => Ok(String::new()),
            }
        };
        match (field("Error", "ErrorPath"), field("Cause", "CausePath")) {
            (Ok(error), Ok(cause)) => Failure { error, cause },
            (Err(f), _) | (_, Err(f)) => f,
        }
    }

    fn wait_for(&self, state: &Value, input: &Value, context: &Value) -> Result<Duration, DataError> {
        let seconds = |v: &Value| -> Result<Duration, DataError> {
            v.as_f64()
                .filter(|s| *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| DataError::Runtime(format!("Wait seconds {v} is not a non-negative number")))
        };
        let until = |v: &Value| -> Result<Duration, DataError> {
            let at = v
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| DataError::Runtime(format!("Wait timestamp {v} is not an ISO-8601 time")))?;
            Ok((at.with_timezone(&Utc) - self.engine.now()).to_std().unwrap_or_default())
        };
        if let Some(s) = state.get("Seconds") {
            seconds(s)
        } else if let Some(p) = state.get("SecondsPath").and_then(Value::as_str) {
            seconds(&select(p, input, context)?)
        } else if let Some(t) = state.get("Timestamp") {
            until(t)
        } else if let Some(p) = state.get("TimestampPath").and_then(Value::as_str) {
            until(&select(p, input, context)?)
        } else {
            Err(DataError::Runtime("a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath".into()))
        }
    }

    /// Task, Parallel and Map: attempts, with Retry and Catch around them. Only the first
    /// attempt of a redriven Parallel or Map skips the branches that had succeeded.
    async fn with_retries(
        &self,
        name: &str,
        kind: &str,
        state: &Value,
        input: Value,
        entered: DateTime<Utc>,
        mut fan_out: Option<Vec<Branch>>,
    ) -> Step {
        let retriers = state["Retry"].as_array().map_or(0, Vec::len);
        let mut retries = vec![0u32; retriers];
        loop {
            let count: u32 = retries.iter().sum();
            let context = self.state_context(name, entered, count);
            let attempt = match kind {
                "Task" => self.task(name, state, &input, context).await.map_err(Stop::from),
                "Parallel" => self.parallel(state, &input, context, fan_out.take()).await,
                "Map" => self.map(state, &input, context, fan_out.take()).await,
                other => {
                    Err(Failure { error: "States.Runtime".into(), cause: format!("unknown state type {other}") }.into())
                }
            };
            let stop = match attempt {
                Ok(output) => return Ok((output, state["Next"].as_str().map(str::to_string))),
                Err(stop) => stop,
            };
            match decide(state, &stop.failure, &retries, &mut random) {
                Decision::Retry { retrier, delay } => {
                    retries[retrier] += 1;
                    tokio::time::sleep(delay).await;
                }
                Decision::Catch { next, result_path } => {
                    let output =
                        apply_result_path(&input, stop.failure.to_json(), result_path.as_ref()).map_err(runtime)?;
                    return Ok((output, Some(next)));
                }
                Decision::Fail => return Err(stop),
            }
        }
    }

    /// After the work of a Task, Parallel or Map: ResultSelector, ResultPath, OutputPath.
    fn shape_result(&self, state: &Value, input: &Value, result: Value, context: &Value) -> Result<Value, Failure> {
        let selected = match state.get("ResultSelector") {
            Some(selector) => apply_template(selector, &result, context).map_err(runtime)?,
            None => result,
        };
        let output = apply_result_path(input, selected, state.get("ResultPath")).map_err(runtime)?;
        output_path(state, output, context).map_err(runtime)
    }

    async fn task(&self, name: &str, state: &Value, input: &Value, mut context: Value) -> Result<Value, Failure> {
        let resource = state["Resource"].as_str().unwrap_or_default();
        let effective = input_path(state, input, &context).map_err(runtime)?;
        let token = (resource == LAMBDA_INVOKE_WAIT).then(|| uuid::Uuid::new_v4().to_string());
        if let Some(token) = &token {
            context["Task"] = json!({"Token": token});
        }
        let parameters = match state.get("Parameters") {
            Some(template) => apply_template(template, &effective, &context).map_err(runtime)?,
            None => effective,
        };
        let timeout = seconds_field(state, "TimeoutSeconds", input, &context).map_err(runtime)?;
        let heartbeat = seconds_field(state, "HeartbeatSeconds", input, &context).map_err(runtime)?;

        // A plain function ARN is a Lambda task with its own event names; integrations are Task*.
        // A plain function ARN is a Lambda task with its own event names; integrations are Task*.
        let integration = resource.strip_prefix("arn:aws:states:::").and_then(|r| r.split_once(':'));
        let (prefix, field, mut scheduled) = match integration {
            Some((service, action)) => {
                ("Task", "task", json!({"resourceType": service, "resource": action, "region": REGION}))
            }
            None => ("LambdaFunction", "lambdaFunction", json!({"resource": resource})),
        };
        scheduled[if integration.is_some() { "parameters" } else { "input" }] = json!(parameters.to_string());
        if let Some(t) = timeout {
            scheduled["timeoutInSeconds"] = json!(t.as_secs());
        }
        if let Some(h) = heartbeat {
            scheduled["heartbeatInSeconds"] = json!(h.as_secs());
        }
        self.record(&format!("{prefix}Scheduled"), &format!("{field}ScheduledEventDetails"), scheduled);
        self.record(&format!("{prefix}Started"), &format!("{field}StartedEventDetails"), json!({}));

        let work = self.invoke(name, resource, parameters, token.as_deref(), heartbeat);
        let result = match timeout {
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(Failure {
                    error: "States.Timeout".into(),
                    cause: format!("{name} ran longer than {}s", limit.as_secs()),
                })
            }),
            None => work.await,
        };
        if let Some(token) = &token {
            self.engine.tokens.lock().unwrap().remove(token);
            if result.as_ref().is_err_and(|f| f.error == "States.Timeout" || f.error == "States.HeartbeatTimeout") {
                self.engine.timed_out.lock().unwrap().insert(token.clone());
            }
        }
        let ids = |f: &Failure| json!({"error": f.error, "cause": f.cause});
        match result {
            Ok(output) => {
                self.record(
                    &format!("{prefix}Succeeded"),
                    &format!("{field}SucceededEventDetails"),
                    json!({"output": output.to_string()}),
                );
                self.shape_result(state, input, output, &context)
            }
            Err(f) if f.error == "States.Timeout" || f.error == "States.HeartbeatTimeout" => {
                self.record(&format!("{prefix}TimedOut"), &format!("{field}TimedOutEventDetails"), ids(&f));
                Err(f)
            }
            Err(f) => {
                self.record(&format!("{prefix}Failed"), &format!("{field}FailedEventDetails"), ids(&f));
                Err(f)
            }
        }
    }

    async fn invoke(
        &self,
        state: &str,
        resource: &str,
        parameters: Value,
        token: Option<&str>,
        heartbeat: Option<Duration>,
    ) -> Result<Value, Failure> {
        let missing = |what: &str| Failure {
            error: "Lambda.ResourceNotFoundException".into(),
            cause: format!("Function not found: {what}"),
        };
        match resource {
            SNS_PUBLISH => {
                let publish = self.engine.registry.find_service(SNS_PUBLISH).ok_or_else(|| Failure {
                    error: "States.Runtime".into(),
                    cause: "no SNS sink is registered".into(),
                })?;
                publish(parameters).await
            }
            LAMBDA_INVOKE | LAMBDA_INVOKE_WAIT => {
                let name = parameters["FunctionName"].as_str().unwrap_or_default().to_string();
                let function = self.engine.registry.find_function(&name).ok_or_else(|| missing(&name))?.clone();
                let payload = parameters.get("Payload").cloned().unwrap_or_else(|| json!({}));
                self.check(state, Side::Input, &payload)?;
                let Some(token) = token else {
                    let result = function(payload).await?;
                    self.check(state, Side::Output, &result)?;
                    return Ok(json!({
                        "ExecutedVersion": "$LATEST",
                        "Payload": result,
                        "SdkHttpMetadata": {"HttpStatusCode": 200},
                        "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
                        "StatusCode": 200
                    }));
                };
                let (sender, receiver) = mpsc::unbounded_channel();
                self.engine.tokens.lock().unwrap().insert(token.to_string(), sender);
                function(payload).await?;
                let result = await_token(receiver, heartbeat).await?;
                self.check(state, Side::Output, &result)?;
                Ok(result)
            }
            arn => {
                let function = self.engine.registry.find_function(arn).ok_or_else(|| missing(arn))?.clone();
                self.check(state, Side::Input, &parameters)?;
                let result = function(parameters).await?;
                self.check(state, Side::Output, &result)?;
                Ok(result)
            }
        }
    }

    /// The engine's contract check of what a function is given or returns, if it has one. A
    /// breach is a defect of the definition or the code, so it is `States.Runtime`, which no
    /// `States.ALL` catches: the execution fails where the breach is.
    fn check(&self, state: &str, side: Side, value: &Value) -> Result<(), Failure> {
        match &self.engine.check {
            Some(check) => check(state, side, value).map_err(|cause| Failure { error: "States.Runtime".into(), cause }),
            None => Ok(()),
        }
    }

    async fn parallel(
        &self,
        state: &Value,
        input: &Value,
        context: Value,
        plan: Option<Vec<Branch>>,
    ) -> Result<Value, Stop> {
        let effective = input_path(state, input, &context).map_err(runtime)?;
        let branch_input = match state.get("Parameters") {
            Some(template) => apply_template(template, &effective, &context).map_err(runtime)?,
            None => effective,
        };
        let branches = state["Branches"].as_array().cloned().unwrap_or_default();
        self.record("ParallelStateStarted", "parallelStateStartedEventDetails", json!({}));
        let plan = plan.unwrap_or_else(|| vec![Branch::Unfinished(None); branches.len()]);
        let runs = branches.iter().zip(plan.clone()).map(|(branch, then)| {
            let input = branch_input.clone();
            async move {
                match then {
                    Branch::Succeeded(output) => Ok(output),
                    Branch::Unfinished(resume) => self.states(branch, input, resume, Level::Inner).await,
                }
            }
        });
        let outcome = self.fan_out(runs.collect(), plan, branches.len().max(1)).await;
        self.finish_fan_out("Parallel", state, input, outcome, &context)
    }

    async fn map(
        &self,
        state: &Value,
        input: &Value,
        context: Value,
        plan: Option<Vec<Branch>>,
    ) -> Result<Value, Stop> {
        let effective = input_path(state, input, &context).map_err(runtime)?;
        let items = select(state["ItemsPath"].as_str().unwrap_or("$"), &effective, &context).map_err(runtime)?;
        let Value::Array(items) = items else {
            return Err(runtime(DataError::Runtime(format!("the Map's items are not an array: {items}"))).into());
        };
        let processor = state.get("ItemProcessor").or_else(|| state.get("Iterator")).cloned().unwrap_or_default();
        let selector = state.get("ItemSelector").or_else(|| state.get("Parameters"));
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            inputs.push(match selector {
                Some(template) => {
                    let mut item_context = context.clone();
                    item_context["Map"] = json!({"Item": {"Index": index, "Value": item}});
                    apply_template(template, &effective, &item_context).map_err(runtime)?
                }
                None => item,
            });
        }
        self.record("MapStateStarted", "mapStateStartedEventDetails", json!({"length": inputs.len()}));
        let limit = match state["MaxConcurrency"].as_u64().unwrap_or(0) {
            0 => inputs.len().max(1),
            n => n as usize,
        };
        let plan = plan.unwrap_or_else(|| vec![Branch::Unfinished(None); inputs.len()]);
        let processor = &processor;
        let runs = inputs.into_iter().zip(plan.clone()).enumerate().map(|(index, (item, then))| async move {
            let resume = match then {
                Branch::Succeeded(output) => return Ok(output),
                Branch::Unfinished(resume) => resume,
            };
            self.record("MapIterationStarted", "mapIterationStartedEventDetails", json!({"index": index}));
            let result = self.states(processor, item, resume, Level::Inner).await;
            let kind = if result.is_ok() { "MapIterationSucceeded" } else { "MapIterationFailed" };
            self.record(kind, &format!("{}EventDetails", lower_first(kind)), json!({"index": index}));
            result
        });
        let outcome = self.fan_out(runs.collect(), plan, limit).await;
        self.finish_fan_out("Map", state, input, outcome, &context)
    }

    /// Runs branches or items, at most `limit` at once, until all succeed or one fails; the
    /// others are then stopped. Outputs are in branch or item order, whatever order they end in.
    /// On failure, the plan says for each what a redrive must do.
    async fn fan_out<F>(
        &self,
        runs: Vec<F>,
        mut plan: Vec<Branch>,
        limit: usize,
    ) -> Result<Vec<Value>, (Failure, Vec<Branch>)>
    where
        F: std::future::Future<Output = Result<Value, Halt>>,
    {
        let indexed = runs.into_iter().enumerate().map(|(i, run)| async move { (i, run.await) });
        let mut running = futures::stream::iter(indexed).buffer_unordered(limit);
        while let Some((i, result)) = running.next().await {
            match result {
                Ok(output) => plan[i] = Branch::Succeeded(output),
                Err(halt) => {
                    plan[i] = Branch::Unfinished(Some(halt.resume));
                    return Err((halt.failure, plan));
                }
            }
        }
        Ok(plan
            .into_iter()
            .map(|b| match b {
                Branch::Succeeded(output) => output,
                Branch::Unfinished(_) => unreachable!("every branch ran to success"),
            })
            .collect())
    }

    /// The end of a Parallel or Map (`kind`): its Succeeded or Failed event, then the array of
    /// outputs through ResultSelector, ResultPath and OutputPath.
    fn finish_fan_out(
        &self,
        kind: &str,
        state: &Value,
        input: &Value,
        outcome: Result<Vec<Value>, (Failure, Vec<Branch>)>,
        context: &Value,
    ) -> Result<Value, Stop> {
        let field = lower_first(kind);
        match outcome {
            Ok(outputs) => {
                self.record(&format!("{kind}StateSucceeded"), &format!("{field}StateSucceededEventDetails"), json!({}));
                Ok(self.shape_result(state, input, Value::Array(outputs), context)?)
            }
            Err((failure, plan)) => {
                let details = json!({"error": failure.error, "cause": failure.cause});
                self.record(&format!("{kind}StateFailed"), &format!("{field}StateFailedEventDetails"), details);
                Err(Stop { failure, fan_out: Some(plan) })
            }
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Waits for the answer to a task token; a heartbeat restarts the heartbeat time-out.
async fn await_token(
    mut receiver: mpsc::UnboundedReceiver<TokenMessage>,
    heartbeat: Option<Duration>,
) -> Result<Value, Failure> {
    loop {
        let message = match heartbeat {
            Some(limit) => match tokio::time::timeout(limit, receiver.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    return Err(Failure {
                        error: "States.HeartbeatTimeout".into(),
                        cause: format!("no heartbeat for {}s", limit.as_secs()),
                    });
                }
            },
            None => receiver.recv().await,
        };
        match message {
            Some(TokenMessage::Success(output)) => return Ok(output),
            Some(TokenMessage::Failure(f)) => return Err(f),
            Some(TokenMessage::Heartbeat) => continue,
            None => return Err(Failure { error: "States.Runtime".into(), cause: "the task token was dropped".into() }),
        }
    }
}

fn input_path(state: &Value, input: &Value, context: &Value) -> Result<Value, DataError> {
    match state.get("InputPath") {
        None => Ok(input.clone()),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => select(path, input, context),
        Some(other) => Err(DataError::Runtime(format!("InputPath {other} is not a path"))),
    }
}

fn output_path(state: &Value, output: Value, context: &Value) -> Result<Value, DataError> {
    match state.get("OutputPath") {
        None => Ok(output),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => select(path, &output, context),
        Some(other) => Err(DataError::Runtime(format!("OutputPath {other} is not a path"))),
    }
}

/// `TimeoutSeconds`/`HeartbeatSeconds`, or their `…Path` forms read from the input.
fn seconds_field(state: &Value, field: &str, input: &Value, context: &Value) -> Result<Option<Duration>, DataError> {
    let value = match (state.get(field), state.get(format!("{field}Path"))) {
        (Some(v), _) => v.clone(),
        (None, Some(p)) => select(p.as_str().unwrap_or_default(), input, context)?,
        (None, None) => return Ok(None),
    };
    value
        .as_u64()
        .filter(|s| *s > 0)
        .map(|s| Some(Duration::from_secs(s)))
        .ok_or_else(|| DataError::Runtime(format!("{field} {value} is not a positive integer")))
}
