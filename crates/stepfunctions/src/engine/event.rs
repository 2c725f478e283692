//! What the engine records, typed where it is made. Each event becomes one entry of the
//! history in AWS's shape: [`Event::kind`] is `GetExecutionHistory`'s `type`, and
//! [`Event::details`] its details field (`stateEnteredEventDetails`, …) with AWS's members.

use serde_json::{Value, json};

use super::execution::Failure;

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
    fn name(self) -> &'static str {
        match self {
            FanOut::Parallel => "Parallel",
            FanOut::Map => "Map",
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
        state_type: &'static str,
        name: String,
        input: String,
    },
    StateExited {
        state_type: &'static str,
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
    MapIterationEnded {
        index: usize,
        outcome: Outcome,
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
    pub fn kind(&self) -> String {
        let task = |resource: &TaskResource, what: &str| match resource {
            TaskResource::Lambda => format!("LambdaFunction{what}"),
            TaskResource::Integration => format!("Task{what}"),
        };
        let ended = |outcome: &Outcome| match outcome {
            Outcome::Succeeded => "Succeeded",
            Outcome::Failed(_) => "Failed",
        };
        match self {
            Event::ExecutionStarted { .. } => "ExecutionStarted".into(),
            Event::ExecutionSucceeded { .. } => "ExecutionSucceeded".into(),
            Event::ExecutionFailed(_) => "ExecutionFailed".into(),
            Event::ExecutionTimedOut(_) => "ExecutionTimedOut".into(),
            Event::ExecutionAborted(_) => "ExecutionAborted".into(),
            Event::ExecutionRedriven { .. } => "ExecutionRedriven".into(),
            Event::ExecutionResumed { .. } => "ExecutionResumed".into(),
            Event::StateEntered { state_type, .. } => format!("{state_type}StateEntered"),
            Event::StateExited { state_type, .. } => format!("{state_type}StateExited"),
            Event::TaskScheduled { resource, .. } => task(resource, "Scheduled"),
            Event::TaskStarted { resource } => task(resource, "Started"),
            Event::TaskSucceeded { resource, .. } => task(resource, "Succeeded"),
            Event::TaskTimedOut { resource, .. } => task(resource, "TimedOut"),
            Event::TaskFailed { resource, .. } => task(resource, "Failed"),
            Event::ParallelStarted => "ParallelStateStarted".into(),
            Event::MapStarted { .. } => "MapStateStarted".into(),
            Event::MapIterationStarted { .. } => "MapIterationStarted".into(),
            Event::MapIterationEnded { outcome, .. } => format!("MapIteration{}", ended(outcome)),
            Event::FanOutEnded { fan_out, outcome } => format!("{}State{}", fan_out.name(), ended(outcome)),
        }
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
            _ => format!("{}EventDetails", lower_first(&self.kind())),
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
                Event::StateEntered { state_type: "Choice", name: "C".into(), input: "{}".into() },
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
                Event::MapIterationEnded { index: 2, outcome: Outcome::Succeeded },
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
}
