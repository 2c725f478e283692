//! The execution model: a loaded state machine, an execution's record (what it was given, how it
//! ended, its history) and where a redrive or a resumption starts it again.

use chrono::{DateTime, Utc};
use mediaflow_endpoint::{ACCOUNT, REGION};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::definition::Definition;
use super::history::History;

/// A failed state: the error name (a Lambda `errorType` or `States.*`) and its cause.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    /// A failure the engine itself raises.
    pub fn states(error: super::StatesError, cause: impl Into<String>) -> Failure {
        Failure { error: error.as_str().to_string(), cause: cause.into() }
    }

    /// Whether the state ran out of time (its `TimeoutSeconds` or its heartbeat's).
    pub fn is_timeout(&self) -> bool {
        super::StatesError::Timeout.is(&self.error) || super::StatesError::HeartbeatTimeout.is(&self.error)
    }

    /// The error object a `Catch` puts at its `ResultPath`.
    pub fn to_json(&self) -> Value {
        json!({"Error": self.error, "Cause": self.cause})
    }
}

/// A loaded state machine.
#[derive(Clone, Debug)]
pub struct StateMachine {
    pub name: String,
    pub arn: String,
    pub definition: Definition,
}

/// The ARN of execution `name` of `machine`.
pub fn execution_arn_of(machine: &StateMachine, name: &str) -> String {
    mediaflow_arn::execution(REGION, ACCOUNT, &machine.name, name)
}

impl StateMachine {
    pub fn new(name: &str, definition: Definition) -> Self {
        StateMachine { name: name.into(), arn: mediaflow_arn::state_machine(REGION, ACCOUNT, name), definition }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

/// An execution: what it was given, how it ended, where a redrive would start, its history.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub input: Value,
    pub status: Status,
    pub start_date: DateTime<Utc>,
    pub stop_date: Option<DateTime<Utc>>,
    pub output: Option<Value>,
    pub failure: Option<Failure>,
    pub redrive_count: u32,
    /// Where it stopped, for a redrive (failed and timed-out executions).
    pub resume: Option<Resume>,
    pub history: History,
}

impl Execution {
    /// Whether RedriveExecution takes it: it failed, timed out or was stopped, at a known state.
    pub fn redrivable(&self) -> bool {
        matches!(self.status, Status::Failed | Status::TimedOut | Status::Aborted) && self.resume.is_some()
    }
}

/// An execution as its status changed, without its history: what the API tells its
/// subscribers, and what a Standard workflow's `Execution Status Change` event says (the
/// platform's EventBridge makes AWS's event of it).
#[derive(Clone, Debug, PartialEq)]
pub struct StatusChange {
    pub arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub status: Status,
    pub start_date: DateTime<Utc>,
    pub stop_date: Option<DateTime<Utc>>,
    pub input: Value,
    pub output: Option<Value>,
    pub failure: Option<Failure>,
    pub redrive_count: u32,
    /// When the status changed (the event's `time`).
    pub at: DateTime<Utc>,
}

impl StatusChange {
    /// `execution` as it is now, changed now.
    pub fn of(execution: &Execution) -> StatusChange {
        StatusChange {
            arn: execution.arn.clone(),
            name: execution.name.clone(),
            state_machine_arn: execution.state_machine_arn.clone(),
            status: execution.status,
            start_date: execution.start_date,
            stop_date: execution.stop_date,
            input: execution.input.clone(),
            output: execution.output.clone(),
            failure: execution.failure.clone(),
            redrive_count: execution.redrive_count,
            at: Utc::now(),
        }
    }
}

/// Where a failed execution, branch or item stopped: the state that failed, the input it had,
/// and for a Parallel or Map what became of each branch or item. A redrive starts here, so
/// the states that succeeded do not run again.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resume {
    pub state: String,
    pub input: Value,
    pub fan_out: Option<Vec<Branch>>,
    /// The task token of a `waitForTaskToken` Task in flight, so that a run resumed after a
    /// restart waits on the same token (a redrive gets a new one, as on AWS).
    pub token: Option<String>,
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

    /// The same point with no task token in it: what a redrive starts from.
    pub fn without_tokens(mut self) -> Resume {
        self.token = None;
        self.fan_out = self.fan_out.map(|branches| {
            branches
                .into_iter()
                .map(|b| match b {
                    Branch::Unfinished(Some(r)) => Branch::Unfinished(Some(r.without_tokens())),
                    other => other,
                })
                .collect()
        });
        self
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
