//! The engine and its runs: starting, redriving, resuming and stopping executions, answering
//! task tokens, and a run's walk from state to state with the history and progress it keeps.
//! What each kind of state does is elsewhere: Pass, Succeed, Choice, Wait and Fail in
//! `flow.rs`, Task in `task.rs`, Parallel and Map in `fanout.rs`, Retry and Catch around the
//! last three in `recovery.rs`.
//!
//! Time is tokio's: waits, backoffs and time-outs sleep on tokio's clock and timestamps are
//! read from it, so a test on a paused runtime runs a day-long wait at once and sees the
//! timestamps it would on AWS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::dataflow::{DataError, apply_result_path, apply_template, filtered};
use super::errors::StatesError;
use super::event::Event;
use super::execution::{Branch, Execution, Failure, RedriveError, Resume, StateMachine, Status};
use super::history::{History, branch_last_event, branch_moved_on, in_branch};
use super::progress::{Path, Progress};
use super::registry::Registry;
use super::states::{Kind, Machine, Shape, State};
use super::store::{ExecutionStore, Journal};
use super::tokens::{TokenError, TokenMessage};

/// Where executions run: the account and region ARNs are made in.
use mediaflow_endpoint::ACCOUNT;

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
    pub(super) registry: Registry,
    clock: Clock,
    pub(super) tokens: Mutex<HashMap<String, mpsc::UnboundedSender<TokenMessage>>>,
    /// The running executions, by ARN.
    live: Mutex<HashMap<String, Arc<Live>>>,
    /// Tokens whose task timed out, so that a late answer hears so.
    pub(super) timed_out: Mutex<std::collections::HashSet<String>>,
    pub(super) check: Option<TaskCheck>,
    /// Where each run's journal goes, when executions are kept.
    store: Option<ExecutionStore>,
    /// Counts every change to what is known of the executions (an event recorded, a record
    /// kept): what a page showing executions waits on, instead of asking again and again.
    changes: tokio::sync::watch::Sender<u64>,
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
        Self::build(registry, None, None)
    }

    /// An engine that also checks what every function is given and returns with `check`.
    pub fn checking(registry: Registry, check: TaskCheck) -> Arc<Self> {
        Self::build(registry, Some(check), None)
    }

    /// An engine with an optional contract `check` that, with a `store`, journals every run
    /// there as it goes, so that [`Engine::resume`] can go on with it after a crash.
    pub fn build(registry: Registry, check: Option<TaskCheck>, store: Option<ExecutionStore>) -> Arc<Self> {
        Arc::new(Engine {
            registry,
            clock: Clock { wall: Utc::now(), start: tokio::time::Instant::now() },
            tokens: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            timed_out: Mutex::default(),
            check,
            store,
            changes: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Changes whenever an execution's history grows or its record changes.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Tells whoever waits on [`Engine::changes`] that something changed.
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
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
            arn: super::execution::execution_arn_of(machine, name),
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
        let started = Event::ExecutionStarted { input: execution.input.to_string(), role_arn: role_arn(machine) };
        self.run(machine, execution, |run| run.record(started)).await
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
            execution.resume = live.progress.lock().unwrap().resume();
        }
        execution.history.record(self.now(), Event::ExecutionAborted(failure.clone()), None);
        self.changed();
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
        execution.resume = execution.resume.map(Resume::without_tokens);
        let count = execution.redrive_count;
        Ok(self.run(machine, execution, |run| run.record(Event::ExecutionRedriven { redrive_count: count })).await)
    }

    /// Goes on with a running execution that a crash or a stop of the platform interrupted, from
    /// where its journal last put it: each state in flight runs again with the input it had
    /// (every step is safe to run twice), a waiting Task with the token it had. The history
    /// gains `ExecutionResumed` (the engine's own event: AWS never needs one).
    pub async fn resume(self: &Arc<Self>, machine: &StateMachine, execution: Execution) -> Execution {
        let resumed = Event::ExecutionResumed { state: execution.resume.as_ref().map(|r| r.state.clone()) };
        self.run(machine, execution, |run| run.record(resumed)).await
    }

    /// Runs `execution` from its start or its resume point to an end; `first` records the
    /// event that opens this run.
    async fn run(
        self: &Arc<Self>,
        machine: &StateMachine,
        mut execution: Execution,
        first: impl FnOnce(&Run) -> u64,
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
        let journal = self.store.as_ref().and_then(|store| match store.journal(&execution) {
            Ok(journal) => Some(journal),
            Err(e) => {
                eprintln!("mediaflow: execution {} runs without a journal: {e}", execution.arn);
                None
            }
        });
        let resume = execution.resume.take();
        let live = Arc::new(Live {
            history: Mutex::new(std::mem::take(&mut execution.history)),
            progress: Mutex::new(Progress::new(resume.clone())),
            journal,
        });
        self.live.lock().unwrap().insert(execution.arn.clone(), live.clone());
        let run = Run { engine: self.clone(), context, live };
        let opened = first(&run);
        let states = &machine.definition.machine;
        let work = in_branch(opened, run.states(states, execution.input.clone(), resume, Vec::new()));
        // `None`: the execution ran past its own TimeoutSeconds.
        let result = match states.timeout {
            Some(limit) => tokio::time::timeout(limit, work).await.ok(),
            None => Some(work.await),
        };
        match result {
            Some(Ok(output)) => {
                run.record(Event::ExecutionSucceeded { output: output.to_string() });
                execution.status = Status::Succeeded;
                execution.output = Some(output);
            }
            None => {
                let f = Failure::states(StatesError::Timeout, "the execution ran past its TimeoutSeconds");
                run.record(Event::ExecutionTimedOut(f.clone()));
                execution.status = Status::TimedOut;
                execution.failure = Some(f);
                execution.resume = run.live.progress.lock().unwrap().resume();
            }
            Some(Err(halt)) => {
                run.record(Event::ExecutionFailed(halt.failure.clone()));
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
    mediaflow_arn::iam_role(ACCOUNT, &format!("{}-role", machine.name))
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn runtime(e: DataError) -> Failure {
    Failure { error: e.error_name().to_string(), cause: e.to_string() }
}

/// One execution in progress.
pub(super) struct Run {
    pub(super) engine: Arc<Engine>,
    context: Value,
    live: Arc<Live>,
}

/// What the engine knows of a running execution from outside its run: the history as it grows,
/// and where every branch of it is, from where a redrive starts when the run is cut short
/// (timed out or stopped) and a restart resumes it; both journaled when executions are kept.
struct Live {
    history: Mutex<History>,
    progress: Mutex<Progress>,
    journal: Option<Journal>,
}

/// What a redrive or a resumption knows of the state it starts at: for a Parallel or Map, what
/// became of its branches or items; for a waiting Task, its token.
#[derive(Default)]
pub(super) struct Carried {
    pub(super) fan_out: Option<Vec<Branch>>,
    pub(super) token: Option<String>,
}

/// What a state hands on: its output, and the next state (`None` at an end).
pub(super) type Step = Result<(Value, Option<String>), Stop>;

/// A state that failed, and for a Parallel or Map what became of its branches or items.
pub(super) struct Stop {
    pub(super) failure: Failure,
    pub(super) fan_out: Option<Vec<Branch>>,
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Stop { failure, fan_out: None }
    }
}

/// A state machine or branch that failed, and where a redrive would start it again.
pub(super) struct Halt {
    pub(super) failure: Failure,
    pub(super) resume: Resume,
}

impl Run {
    /// Records an event after the last one of its branch; returns its id.
    pub(super) fn record(&self, event: Event) -> u64 {
        let mut history = self.live.history.lock().unwrap();
        let id = history.record(self.engine.now(), event, branch_last_event());
        branch_moved_on(id);
        if let Some(journal) = &self.live.journal {
            journal.event(history.events.last().expect("just recorded"));
        }
        drop(history);
        self.engine.changed();
        id
    }

    /// Moves the execution's progress on, and journals where it now is.
    pub(super) fn progress(&self, change: impl FnOnce(&mut Progress)) {
        let mut progress = self.live.progress.lock().unwrap();
        change(&mut progress);
        if let Some(journal) = &self.live.journal {
            journal.at(progress.snapshot());
        }
    }

    /// The context object for a state, `$$`.
    pub(super) fn state_context(&self, name: &str, entered: DateTime<Utc>, retries: u32) -> Value {
        let mut context = self.context.clone();
        context["State"] = json!({"Name": name, "EnteredTime": iso(entered), "RetryCount": retries});
        context
    }

    /// Runs a state machine or a branch from `StartAt`, or from where `resume` says, to an end.
    pub(super) fn states<'a>(
        &'a self,
        machine: &'a Machine,
        input: Value,
        resume: Option<Resume>,
        path: Path,
    ) -> BoxFuture<'a, Result<Value, Halt>> {
        Box::pin(async move {
            // A run that goes on from a resume point starts there as it was (branches and
            // token); every later state starts afresh.
            let (mut current, mut input, mut carried) = match resume {
                Some(r) => (r.state, r.input, Carried { fan_out: r.fan_out, token: r.token }),
                None => (machine.start_at.clone(), input, Carried::default()),
            };
            loop {
                // Only a resume point can name a state the definition lacks (one kept by an
                // earlier definition); the loader checked every transition.
                let Some(state) = machine.states.get(&current) else {
                    let cause = format!("the state machine has no state {current:?} to go on at");
                    let failure = Failure::states(StatesError::Runtime, cause);
                    return Err(Halt { failure, resume: Resume { state: current, input, fan_out: None, token: None } });
                };
                self.progress(|p| p.enter(&path, &current, &input));
                match self.state(&current, &path, state, input.clone(), std::mem::take(&mut carried)).await {
                    Ok((output, Some(next))) => {
                        current = next;
                        input = output;
                    }
                    Ok((output, None)) => return Ok(output),
                    Err(stop) => {
                        let resume = Resume { state: current, input, fan_out: stop.fan_out, token: None };
                        return Err(Halt { failure: stop.failure, resume });
                    }
                }
            }
        })
    }

    /// Runs one state, at `path`; `carried` is what a redrive or resumption knows of it.
    async fn state(&self, name: &str, path: &[usize], state: &State, input: Value, carried: Carried) -> Step {
        let kind = state.kind.state_type();
        let entered = self.engine.now();
        self.record(Event::StateEntered { state_type: kind, name: name.to_string(), input: input.to_string() });
        let (output, next) = match &state.kind {
            Kind::Task(_) | Kind::Parallel(_) | Kind::Map(_) => {
                self.with_retries(name, path, state, input, entered, carried).await?
            }
            _ => self.flow(name, state, input, &self.state_context(name, entered, 0)).await?,
        };
        self.record(Event::StateExited { state_type: kind, name: name.to_string(), output: output.to_string() });
        Ok((output, next))
    }

    /// After the work of a Task, Parallel or Map: ResultSelector, ResultPath, OutputPath.
    pub(super) fn shape_result(
        &self,
        state: &State,
        shape: &Shape,
        input: &Value,
        result: Value,
        context: &Value,
    ) -> Result<Value, Failure> {
        let selected = match &shape.result_selector {
            Some(selector) => apply_template(selector, &result, context).map_err(runtime)?,
            None => result,
        };
        let output = apply_result_path(input, selected, &shape.result_path).map_err(runtime)?;
        filtered(&state.output_path, output, context).map_err(runtime)
    }
}
