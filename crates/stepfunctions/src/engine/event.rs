//! What the engine records, typed where it is made. Each event becomes one entry of the
//! history in AWS's shape: [`Event::kind`] is `GetExecutionHistory`'s `type`, and
//! [`Event::details`] its details field (`stateEnteredEventDetails`, …) with AWS's members.

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::execution::Failure;

/// A state's `Type`, as its entry and exit events are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

impl StateType {
    const ALL: [StateType; 8] = [
        StateType::Pass,
        StateType::Task,
        StateType::Choice,
        StateType::Wait,
        StateType::Succeed,
        StateType::Fail,
        StateType::Parallel,
        StateType::Map,
    ];

    pub fn name(self) -> &'static str {
        self.names().0
    }

    /// The type, and its `…StateEntered` and `…StateExited` events.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            StateType::Pass => ("Pass", "PassStateEntered", "PassStateExited"),
            StateType::Task => ("Task", "TaskStateEntered", "TaskStateExited"),
            StateType::Choice => ("Choice", "ChoiceStateEntered", "ChoiceStateExited"),
            StateType::Wait => ("Wait", "WaitStateEntered", "WaitStateExited"),
            StateType::Succeed => ("Succeed", "SucceedStateEntered", "SucceedStateExited"),
            StateType::Fail => ("Fail", "FailStateEntered", "FailStateExited"),
            StateType::Parallel => ("Parallel", "ParallelStateEntered", "ParallelStateExited"),
            StateType::Map => ("Map", "MapStateEntered", "MapStateExited"),
        }
    }
}

impl std::fmt::Display for StateType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl Serialize for StateType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A Task's resource, as its events are named: a plain function ARN is a Lambda task
/// (`LambdaFunction*`), a service integration a `Task*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskResource {
    Lambda,
    Integration,
}

/// A state that runs branches: a Parallel's or a Map's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanOut {
    Parallel,
    Map,
}

impl FanOut {
    /// Its `…StateSucceeded` and `…StateFailed` events.
    fn ended(self) -> (&'static str, &'static str) {
        match self {
            FanOut::Parallel => ("ParallelStateSucceeded", "ParallelStateFailed"),
            FanOut::Map => ("MapStateSucceeded", "MapStateFailed"),
        }
    }
}

impl TaskResource {
    /// Its Scheduled, Started, Succeeded, TimedOut and Failed events.
    fn events(self) -> [&'static str; 5] {
        match self {
            TaskResource::Lambda => [
                "LambdaFunctionScheduled",
                "LambdaFunctionStarted",
                "LambdaFunctionSucceeded",
                "LambdaFunctionTimedOut",
                "LambdaFunctionFailed",
            ],
            TaskResource::Integration => {
                ["TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskTimedOut", "TaskFailed"]
            }
        }
    }
}

/// How one step of a Task, a Map's item or a fan-out went.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded,
    Failed(Failure),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    ExecutionStarted {
        input: String,
        role_arn: String,
    },
    ExecutionSucceeded {
        output: String,
    },
    ExecutionFailed(Failure),
    ExecutionTimedOut(Failure),
    ExecutionAborted(Failure),
    ExecutionRedriven {
        redrive_count: u32,
    },
    /// The engine's own event: a crash or a stop of the platform interrupted the execution, and
    /// it goes on at `state` (AWS never needs one).
    ExecutionResumed {
        state: Option<String>,
    },
    /// `state_type` is the state's `Type` (`Task`, `Choice`, …).
    StateEntered {
        state_type: StateType,
        name: String,
        input: String,
    },
    StateExited {
        state_type: StateType,
        name: String,
        output: String,
    },
    /// `details` as AWS gives them: the resource, its input or parameters, the time limits.
    TaskScheduled {
        resource: TaskResource,
        details: Value,
    },
    TaskStarted {
        resource: TaskResource,
    },
    TaskSucceeded {
        resource: TaskResource,
        output: String,
    },
    TaskTimedOut {
        resource: TaskResource,
        failure: Failure,
    },
    TaskFailed {
        resource: TaskResource,
        failure: Failure,
    },
    ParallelStarted,
    MapStarted {
        length: usize,
    },
    MapIterationStarted {
        index: usize,
    },
    /// AWS names the item's failure only in the Map's own event.
    MapIterationEnded {
        index: usize,
        failed: bool,
    },
    FanOutEnded {
        fan_out: FanOut,
        outcome: Outcome,
    },
}

fn error_and_cause(f: &Failure) -> Value {
    json!({"error": f.error, "cause": f.cause})
}

impl Event {
    /// The event's `type`, as `GetExecutionHistory` names it.
    pub fn kind(&self) -> &'static str {
        let task = |resource: &TaskResource, what: usize| resource.events()[what];
        match self {
            Event::ExecutionStarted { .. } => "ExecutionStarted",
            Event::ExecutionSucceeded { .. } => "ExecutionSucceeded",
            Event::ExecutionFailed(_) => "ExecutionFailed",
            Event::ExecutionTimedOut(_) => "ExecutionTimedOut",
            Event::ExecutionAborted(_) => "ExecutionAborted",
            Event::ExecutionRedriven { .. } => "ExecutionRedriven",
            Event::ExecutionResumed { .. } => "ExecutionResumed",
            Event::StateEntered { state_type, .. } => state_type.names().1,
            Event::StateExited { state_type, .. } => state_type.names().2,
            Event::TaskScheduled { resource, .. } => task(resource, 0),
            Event::TaskStarted { resource } => task(resource, 1),
            Event::TaskSucceeded { resource, .. } => task(resource, 2),
            Event::TaskTimedOut { resource, .. } => task(resource, 3),
            Event::TaskFailed { resource, .. } => task(resource, 4),
            Event::ParallelStarted => "ParallelStateStarted",
            Event::MapStarted { .. } => "MapStateStarted",
            Event::MapIterationStarted { .. } => "MapIterationStarted",
            Event::MapIterationEnded { failed: false, .. } => "MapIterationSucceeded",
            Event::MapIterationEnded { failed: true, .. } => "MapIterationFailed",
            Event::FanOutEnded { fan_out, outcome: Outcome::Succeeded } => fan_out.ended().0,
            Event::FanOutEnded { fan_out, outcome: Outcome::Failed(_) } => fan_out.ended().1,
        }
    }

    /// The event of type `kind` with `details`, as [`Event::kind`] and [`Event::details`] wrote
    /// it: how a journal is read back. `None` for a type this engine never records.
    pub fn from_aws(kind: &str, details: &Value) -> Option<Event> {
        let text = |field: &str| details[field].as_str().unwrap_or_default().to_string();
        let failure = || Failure { error: text("error"), cause: text("cause") };
        let number = |field: &str| details[field].as_u64().unwrap_or_default();
        let index = || number("index") as usize;
        for state_type in StateType::ALL {
            let (_, entered, exited) = state_type.names();
            if kind == entered {
                return Some(Event::StateEntered { state_type, name: text("name"), input: text("input") });
            }
            if kind == exited {
                return Some(Event::StateExited { state_type, name: text("name"), output: text("output") });
            }
        }
        for resource in [TaskResource::Lambda, TaskResource::Integration] {
            if let Some(what) = resource.events().iter().position(|e| *e == kind) {
                return Some(match what {
                    0 => Event::TaskScheduled { resource, details: details.clone() },
                    1 => Event::TaskStarted { resource },
                    2 => Event::TaskSucceeded { resource, output: text("output") },
                    3 => Event::TaskTimedOut { resource, failure: failure() },
                    _ => Event::TaskFailed { resource, failure: failure() },
                });
            }
        }
        for fan_out in [FanOut::Parallel, FanOut::Map] {
            let (succeeded, failed) = fan_out.ended();
            if kind == succeeded {
                return Some(Event::FanOutEnded { fan_out, outcome: Outcome::Succeeded });
            }
            if kind == failed {
                return Some(Event::FanOutEnded { fan_out, outcome: Outcome::Failed(failure()) });
            }
        }
        Some(match kind {
            "ExecutionStarted" => Event::ExecutionStarted { input: text("input"), role_arn: text("roleArn") },
            "ExecutionSucceeded" => Event::ExecutionSucceeded { output: text("output") },
            "ExecutionFailed" => Event::ExecutionFailed(failure()),
            "ExecutionTimedOut" => Event::ExecutionTimedOut(failure()),
            "ExecutionAborted" => Event::ExecutionAborted(failure()),
            "ExecutionRedriven" => Event::ExecutionRedriven { redrive_count: number("redriveCount") as u32 },
            "ExecutionResumed" => Event::ExecutionResumed { state: details["state"].as_str().map(str::to_string) },
            "ParallelStateStarted" => Event::ParallelStarted,
            "MapStateStarted" => Event::MapStarted { length: number("length") as usize },
            "MapIterationStarted" => Event::MapIterationStarted { index: index() },
            "MapIterationSucceeded" => Event::MapIterationEnded { index: index(), failed: false },
            "MapIterationFailed" => Event::MapIterationEnded { index: index(), failed: true },
            _ => return None,
        })
    }

    /// The details field's name and value.
    pub fn details(&self) -> (String, Value) {
        let value = match self {
            Event::ExecutionStarted { input, role_arn } => json!({"input": input, "roleArn": role_arn}),
            Event::ExecutionSucceeded { output } => json!({"output": output}),
            Event::ExecutionFailed(f) | Event::ExecutionTimedOut(f) | Event::ExecutionAborted(f) => error_and_cause(f),
            Event::ExecutionRedriven { redrive_count } => json!({"redriveCount": redrive_count}),
            Event::ExecutionResumed { state } => json!({"reason": "the platform restarted", "state": state}),
            Event::StateEntered { name, input, .. } => json!({"name": name, "input": input}),
            Event::StateExited { name, output, .. } => json!({"name": name, "output": output}),
            Event::TaskScheduled { details, .. } => details.clone(),
            Event::TaskStarted { .. } | Event::ParallelStarted => json!({}),
            Event::TaskSucceeded { output, .. } => json!({"output": output}),
            Event::TaskTimedOut { failure, .. } | Event::TaskFailed { failure, .. } => error_and_cause(failure),
            Event::MapStarted { length } => json!({"length": length}),
            Event::MapIterationStarted { index } | Event::MapIterationEnded { index, .. } => json!({"index": index}),
            Event::FanOutEnded { outcome: Outcome::Succeeded, .. } => json!({}),
            Event::FanOutEnded { outcome: Outcome::Failed(f), .. } => error_and_cause(f),
        };
        let field = match self {
            // Every state's entry and exit share one details field, whatever its type.
            Event::StateEntered { .. } => "stateEnteredEventDetails".to_string(),
            Event::StateExited { .. } => "stateExitedEventDetails".to_string(),
            _ => format!("{}EventDetails", lower_first(self.kind())),
        };
        (field, value)
    }
}

/// `LambdaFunctionScheduled` → `lambdaFunctionScheduled`.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_named_and_detailed_as_aws_names_them() {
        let failure = Failure { error: "E".into(), cause: "C".into() };
        let cases = [
            (
                Event::TaskScheduled { resource: TaskResource::Lambda, details: json!({"resource": "r"}) },
                "LambdaFunctionScheduled",
                "lambdaFunctionScheduledEventDetails",
            ),
            (
                Event::TaskTimedOut { resource: TaskResource::Integration, failure: failure.clone() },
                "TaskTimedOut",
                "taskTimedOutEventDetails",
            ),
            (
                Event::StateEntered { state_type: StateType::Choice, name: "C".into(), input: "{}".into() },
                "ChoiceStateEntered",
                "stateEnteredEventDetails",
            ),
            (
                Event::FanOutEnded { fan_out: FanOut::Map, outcome: Outcome::Failed(failure.clone()) },
                "MapStateFailed",
                "mapStateFailedEventDetails",
            ),
            (
                Event::FanOutEnded { fan_out: FanOut::Parallel, outcome: Outcome::Succeeded },
                "ParallelStateSucceeded",
                "parallelStateSucceededEventDetails",
            ),
            (
                Event::MapIterationEnded { index: 2, failed: false },
                "MapIterationSucceeded",
                "mapIterationSucceededEventDetails",
            ),
            (Event::ExecutionRedriven { redrive_count: 1 }, "ExecutionRedriven", "executionRedrivenEventDetails"),
        ];
        for (event, kind, field) in cases {
            assert_eq!(event.kind(), kind);
            assert_eq!(event.details().0, field);
        }
        assert_eq!(Event::ExecutionFailed(failure).details().1, json!({"error": "E", "cause": "C"}));
    }

    #[test]
    fn every_event_reads_back_from_its_type_and_details() {
        let failure = Failure { error: "E".into(), cause: "C".into() };
        let mut events = vec![
            Event::ExecutionStarted { input: "{}".into(), role_arn: "arn:role".into() },
            Event::ExecutionSucceeded { output: "{}".into() },
            Event::ExecutionFailed(failure.clone()),
            Event::ExecutionTimedOut(failure.clone()),
            Event::ExecutionAborted(failure.clone()),
            Event::ExecutionRedriven { redrive_count: 2 },
            Event::ExecutionResumed { state: Some("Probe".into()) },
            Event::ExecutionResumed { state: None },
            Event::ParallelStarted,
            Event::MapStarted { length: 3 },
            Event::MapIterationStarted { index: 1 },
            Event::MapIterationEnded { index: 1, failed: true },
            Event::MapIterationEnded { index: 2, failed: false },
        ];
        for state_type in StateType::ALL {
            events.push(Event::StateEntered { state_type, name: "S".into(), input: "{\"a\":1}".into() });
            events.push(Event::StateExited { state_type, name: "S".into(), output: "{}".into() });
        }
        for resource in [TaskResource::Lambda, TaskResource::Integration] {
            events.extend([
                Event::TaskScheduled { resource, details: json!({"resource": "r", "region": "us-east-1"}) },
                Event::TaskStarted { resource },
                Event::TaskSucceeded { resource, output: "{}".into() },
                Event::TaskTimedOut { resource, failure: failure.clone() },
                Event::TaskFailed { resource, failure: failure.clone() },
            ]);
        }
        for fan_out in [FanOut::Parallel, FanOut::Map] {
            events.push(Event::FanOutEnded { fan_out, outcome: Outcome::Succeeded });
            events.push(Event::FanOutEnded { fan_out, outcome: Outcome::Failed(failure.clone()) });
        }
        let kinds: std::collections::HashSet<&str> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds.len(), events.len() - 1, "a type of its own for each but the second ExecutionResumed");
        for event in events {
            let (_, details) = event.details();
            assert_eq!(Event::from_aws(event.kind(), &details), Some(event));
        }
        assert_eq!(Event::from_aws("ActivityScheduled", &json!({})), None);
    }
}
