//! The execution service: the state machines and their executions, typed. It owns what is
//! known of each execution (the record as last known, kept in the store when there is one, and
//! the run under way) and is the one way in, for the HTTP endpoint (`api/`, a thin adapter
//! that turns AWS's JSON into these calls and back) and for a client in the same process (the
//! console). The engine runs what it is given and keeps each run's history and task tokens.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::{
    Definition, Engine, Execution, ExecutionStore, Failure, History, StateMachine, Status, StatusChange, TokenError,
};
use mediaflow_endpoint::Feed;

/// A state machine the service knows, with what CreateStateMachine was given.
pub struct MachineRecord {
    pub machine: StateMachine,
    /// The definition as given (Amazon States Language JSON).
    pub definition: String,
    pub role_arn: String,
    pub created: DateTime<Utc>,
}

/// Why a call was refused; [`ServiceError::name`] is the error AWS names.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("a state machine needs a name")]
    InvalidName,
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0} exists with another definition")]
    StateMachineAlreadyExists(String),
    #[error("no state machine {0}")]
    StateMachineDoesNotExist(String),
    #[error("no execution {0}")]
    ExecutionDoesNotExist(String),
    #[error("no running execution {0}")]
    NotRunning(String),
    #[error("{0} already ran with another input")]
    ExecutionAlreadyExists(String),
    #[error("{0} is {1:?}")]
    ExecutionNotRedrivable(String, Status),
    #[error(transparent)]
    Task(#[from] TokenError),
}

impl ServiceError {
    /// The error's name in AWS's API model: what the protocol's `__type` carries.
    pub fn name(&self) -> &'static str {
        match self {
            ServiceError::InvalidName => "InvalidName",
            ServiceError::InvalidDefinition(_) => "InvalidDefinition",
            ServiceError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            ServiceError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            // StopExecution of an ended execution: AWS answers that none is running.
            ServiceError::ExecutionDoesNotExist(_) | ServiceError::NotRunning(_) => "ExecutionDoesNotExist",
            ServiceError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            ServiceError::ExecutionNotRedrivable(..) => "ExecutionNotRedrivable",
            ServiceError::Task(TokenError::TaskDoesNotExist) => "TaskDoesNotExist",
            ServiceError::Task(TokenError::TaskTimedOut) => "TaskTimedOut",
            ServiceError::Task(TokenError::InvalidToken) => "InvalidToken",
        }
    }
}

type Result<T> = std::result::Result<T, ServiceError>;

/// How [`Service::launch`] runs an execution.
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

pub struct Service {
    engine: Arc<Engine>,
    machines: Mutex<BTreeMap<String, Arc<MachineRecord>>>,
    executions: Mutex<BTreeMap<String, Tracked>>,
    store: Option<ExecutionStore>,
    events: Feed<StatusChange>,
}

impl Service {
    /// The service of `engine`. With a `store`, every execution is kept there when it starts and
    /// when it ends, and executions kept by an earlier process can be described and redriven.
    pub fn new(engine: Arc<Engine>, store: Option<ExecutionStore>) -> Arc<Service> {
        Arc::new(Service {
            engine,
            machines: Mutex::default(),
            executions: Mutex::default(),
            store,
            events: Feed::default(),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.engine.now()
    }

    /// Every execution status change from now on (a Standard workflow tells EventBridge).
    pub fn events(&self) -> mpsc::UnboundedReceiver<StatusChange> {
        self.events.subscribe()
    }

    /// Changes whenever an execution's history grows or its status changes: what the console's
    /// pages wait on (server-sent events) instead of polling.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.engine.changes()
    }

    /// Makes `machine` known, as CreateStateMachine would (the CLI registers the pipeline).
    pub fn register(&self, machine: StateMachine, definition: &str) {
        self.add_machine(machine, definition.to_string(), String::new());
    }

    fn add_machine(&self, machine: StateMachine, definition: String, role_arn: String) -> Arc<MachineRecord> {
        let entry = Arc::new(MachineRecord { machine, definition, role_arn, created: self.engine.now() });
        self.machines.lock().unwrap().insert(entry.machine.arn.clone(), entry.clone());
        entry
    }

    /// CreateStateMachine: idempotent for the same name, definition and role.
    pub fn create_state_machine(&self, name: &str, definition: &str, role_arn: &str) -> Result<Arc<MachineRecord>> {
        if name.is_empty() {
            return Err(ServiceError::InvalidName);
        }
        let loaded = Definition::parse(definition).map_err(|e| ServiceError::InvalidDefinition(e.to_string()))?;
        let machine = StateMachine::new(name, loaded);
        let existing = self.machines.lock().unwrap().get(&machine.arn).cloned();
        match existing {
            Some(m) if m.definition == definition && m.role_arn == role_arn => Ok(m),
            Some(_) => Err(ServiceError::StateMachineAlreadyExists(machine.arn)),
            None => Ok(self.add_machine(machine, definition.to_string(), role_arn.to_string())),
        }
    }

    pub fn state_machine(&self, arn: &str) -> Result<Arc<MachineRecord>> {
        let machines = self.machines.lock().unwrap();
        machines.get(arn).cloned().ok_or_else(|| ServiceError::StateMachineDoesNotExist(arn.to_string()))
    }

    pub fn state_machines(&self) -> Vec<Arc<MachineRecord>> {
        self.machines.lock().unwrap().values().cloned().collect()
    }

    /// StartExecution: runs a new execution of `machine_arn` in the background and answers with
    /// its record as it starts. Idempotent for the same name and input; a new UUID names it
    /// when `name` is none.
    pub fn start(self: &Arc<Self>, machine_arn: &str, name: Option<String>, input: Value) -> Result<Execution> {
        let machine = self.state_machine(machine_arn)?;
        let name = name.filter(|n| !n.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let arn = crate::engine::execution_arn_of(&machine.machine, &name);
        if let Ok(existing) = self.describe(&arn) {
            if existing.input == input {
                return Ok(existing);
            }
            return Err(ServiceError::ExecutionAlreadyExists(arn));
        }
        let execution = self.engine.prepare(&machine.machine, &name, input);
        self.launch(machine, execution.clone(), Launch::Start);
        Ok(execution)
    }

    /// DescribeExecution: an execution of this process, or one an earlier process kept.
    pub fn describe(&self, arn: &str) -> Result<Execution> {
        if let Some(t) = self.executions.lock().unwrap().get(arn) {
            return Ok(t.execution.clone());
        }
        let missing = || ServiceError::ExecutionDoesNotExist(arn.to_string());
        self.store.as_ref().ok_or_else(missing)?.load_arn(arn).map_err(|_| missing())
    }

    /// GetExecutionHistory: an execution's history so far, a running one's as it runs.
    pub fn history(&self, arn: &str) -> Result<History> {
        let e = self.describe(arn)?;
        Ok(if e.status == Status::Running { self.engine.live_history(arn).unwrap_or(e.history) } else { e.history })
    }

    /// ListExecutions: every execution of `machine_arn`, newest first, as last known; a kept
    /// one without its history and output, as a listing needs it.
    pub fn list(&self, machine_arn: &str) -> Result<Vec<Execution>> {
        self.state_machine(machine_arn)?;
        let mut all: BTreeMap<String, Execution> = match &self.store {
            Some(store) => store.summaries().unwrap_or_default().into_iter().map(|e| (e.arn.clone(), e)).collect(),
            None => BTreeMap::new(),
        };
        for (arn, t) in self.executions.lock().unwrap().iter() {
            all.insert(arn.clone(), t.execution.clone());
        }
        let mut list: Vec<Execution> = all.into_values().filter(|e| e.state_machine_arn == machine_arn).collect();
        list.sort_by_key(|e| std::cmp::Reverse(e.start_date));
        Ok(list)
    }

    /// RedriveExecution: runs a failed, timed-out or stopped execution again from where it
    /// stopped; answers when the redrive started.
    pub fn redrive(self: &Arc<Self>, arn: &str) -> Result<DateTime<Utc>> {
        let execution = self.describe(arn)?;
        let machine = self.state_machine(&execution.state_machine_arn)?;
        if !execution.redrivable() {
            return Err(ServiceError::ExecutionNotRedrivable(arn.to_string(), execution.status));
        }
        self.launch(machine, execution, Launch::Redrive);
        Ok(self.engine.now())
    }

    /// StopExecution: aborts a running execution; answers with its record as it stopped.
    pub fn stop(&self, arn: &str, failure: Failure) -> Result<Execution> {
        let mut executions = self.executions.lock().unwrap();
        let tracked = executions
            .get_mut(arn)
            .filter(|t| t.execution.status == Status::Running)
            .ok_or_else(|| ServiceError::NotRunning(arn.to_string()))?;
        if let Some(run) = tracked.run.take() {
            run.abort();
        }
        let stopped = self.engine.aborted(tracked.execution.clone(), failure);
        // Aborted in memory at once: a reader while `ended` writes the record sees it stopped.
        tracked.execution = stopped.clone();
        drop(executions);
        self.ended(stopped.clone());
        Ok(stopped)
    }

    pub fn send_task_success(&self, token: &str, output: Value) -> Result<()> {
        Ok(self.engine.send_task_success(token, output)?)
    }

    pub fn send_task_failure(&self, token: &str, failure: Failure) -> Result<()> {
        Ok(self.engine.send_task_failure(token, failure)?)
    }

    pub fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        Ok(self.engine.send_task_heartbeat(token)?)
    }

    /// Goes on with every kept execution of a registered state machine that was running when
    /// an earlier process ended (a crash, a kill, a stop): its history and where it was are
    /// read back from its journal. Returns the ARNs of those resumed.
    pub fn resume_kept(self: &Arc<Self>) -> Vec<String> {
        let Some(store) = &self.store else { return Vec::new() };
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
            let Ok(machine) = self.state_machine(&execution.state_machine_arn) else { continue };
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
            self.launch(machine, execution, Launch::Resume);
        }
        resumed
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

    /// Runs the execution in the background, keeping its record current: saved as it starts
    /// (with all that is known of it, so its journal starts afresh) and as it ends.
    fn launch(self: &Arc<Self>, machine: Arc<MachineRecord>, execution: Execution, how: Launch) {
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
        let service = self.clone();
        let arn = execution.arn.clone();
        // Registered before the run starts, so that the run's end always finds it.
        let mut executions = self.executions.lock().unwrap();
        let run = tokio::spawn(async move {
            let engine = &service.engine;
            let ended = match how {
                Launch::Redrive => engine.redrive(&machine.machine, execution).await.expect("checked redrivable"),
                Launch::Start => engine.run_prepared(&machine.machine, execution).await,
                Launch::Resume => engine.resume(&machine.machine, execution).await,
            };
            service.ended(ended);
        });
        executions.insert(arn, Tracked { execution: running, run: Some(run) });
    }
}
