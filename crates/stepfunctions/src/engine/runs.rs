//! What each state did in an execution, read from its history: the one reading that the
//! trace (`process`, `executions show`) and the console's graph and table share.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::event::{Event, Outcome, StateType};
use super::history::History;

/// How a visit of a state went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Succeeded,
    /// Exited after a failure that a Catch took.
    Caught,
    /// Where the execution failed.
    Failed,
    /// Cut short: the execution failed elsewhere, or a crash interrupted it (it ran again).
    Cancelled,
    /// Stopped by StopExecution.
    Stopped,
}

/// One visit of a state: a redrive's or a Map item's visits are visits of their own.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRun {
    /// 0, then 1 after the first redrive, …
    pub run: u32,
    pub name: String,
    #[serde(rename = "type")]
    pub state_type: StateType,
    pub status: RunStatus,
    #[serde(serialize_with = "epoch")]
    pub started: DateTime<Utc>,
    #[serde(serialize_with = "epoch_or_null")]
    pub stopped: Option<DateTime<Utc>>,
    pub input: Option<String>,
    pub output: Option<String>,
    /// How often a Task was scheduled (1 + its retries).
    pub attempts: u32,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl StateRun {
    /// Whether the state exited (succeeded, or caught).
    pub fn finished(&self) -> bool {
        matches!(self.status, RunStatus::Succeeded | RunStatus::Caught)
    }
}

/// Seconds since the epoch, as the Step Functions API dates executions and events.
pub fn epoch_seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

fn epoch<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(epoch_seconds(*at))
}

fn epoch_or_null<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => epoch(at, s),
        None => s.serialize_none(),
    }
}

/// Every visit of a state in `history`, in the order entered. An event belongs to the visit
/// its chain of `previousEventId` leads back to, so interleaved Parallel branches are told
/// apart.
pub fn state_runs(history: &History) -> Vec<StateRun> {
    let mut visits: Vec<StateRun> = Vec::new();
    let mut owner: HashMap<u64, usize> = HashMap::new();
    let mut run = 0;
    for entry in &history.events {
        let event = &entry.event;
        if let Event::StateEntered { state_type, name, input } = event {
            owner.insert(entry.id, visits.len());
            visits.push(StateRun {
                run,
                name: name.clone(),
                state_type: *state_type,
                status: RunStatus::Running,
                started: entry.timestamp,
                stopped: None,
                input: Some(input.clone()),
                output: None,
                attempts: 0,
                error: None,
                cause: None,
            });
            continue;
        }
        let own = match event {
            // The visit its chain of events leads back to (a Map's items are told apart so), or
            // else the latest of the name still running, or the latest of the name (one a
            // resumption went on with without entering it again).
            Event::StateExited { name, .. } => {
                let named = |v: &StateRun| v.name == *name;
                let chained = owner.get(&entry.previous_event_id).copied().filter(|&i| named(&visits[i]));
                let running = || visits.iter().rposition(|v| v.status == RunStatus::Running && named(v));
                chained.or_else(running).or_else(|| visits.iter().rposition(named))
            }
            _ => owner.get(&entry.previous_event_id).copied(),
        };
        if let Some(i) = own {
            owner.insert(entry.id, i);
        }
        let mut ended = |status: fn(&StateRun) -> RunStatus| {
            for visit in visits.iter_mut().filter(|v| v.status == RunStatus::Running) {
                visit.status = status(visit);
                visit.stopped = Some(entry.timestamp);
            }
        };
        match event {
            Event::ExecutionFailed(_) | Event::ExecutionTimedOut(_) => ended(|v| {
                let failed_here =
                    v.error.is_some() || matches!(v.state_type, StateType::Fail | StateType::Parallel | StateType::Map);
                if failed_here { RunStatus::Failed } else { RunStatus::Cancelled }
            }),
            Event::ExecutionAborted(_) => ended(|_| RunStatus::Stopped),
            // What was in flight at a crash runs again, as a visit of its own.
            Event::ExecutionResumed { .. } => ended(|_| RunStatus::Cancelled),
            Event::ExecutionRedriven { .. } => run += 1,
            _ => {}
        }
        let Some(visit) = own.map(|i| &mut visits[i]) else { continue };
        match event {
            Event::StateExited { output, .. } => {
                visit.status = if visit.error.is_some() { RunStatus::Caught } else { RunStatus::Succeeded };
                visit.stopped = Some(entry.timestamp);
                visit.output = Some(output.clone());
            }
            Event::TaskScheduled { .. } => visit.attempts += 1,
            Event::TaskFailed { failure, .. }
            | Event::TaskTimedOut { failure, .. }
            | Event::FanOutEnded { outcome: Outcome::Failed(failure), .. } => {
                let error = if failure.error.is_empty() { event.kind().to_string() } else { failure.error.clone() };
                visit.error = Some(error);
                visit.cause = Some(failure.cause.clone());
            }
            // A retry that succeeded clears the failure before it.
            Event::TaskSucceeded { .. } => (visit.error, visit.cause) = (None, None),
            _ => {}
        }
    }
    visits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::TaskResource;
    use crate::engine::execution::Failure;

    #[test]
    fn visits_by_run_with_their_attempts_errors_and_ends() {
        let mut history = History::default();
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut at = 0;
        let mut record = |event: Event| {
            at += 1;
            history.record(t0 + chrono::Duration::seconds(at), event, None);
        };
        let lambda = TaskResource::Lambda;
        let failure = Failure { error: "MediaFlow.Transient".into(), cause: "slow".into() };
        let entered =
            |name: &str| Event::StateEntered { state_type: StateType::Task, name: name.into(), input: "{}".into() };
        let exited =
            |name: &str| Event::StateExited { state_type: StateType::Task, name: name.into(), output: "{}".into() };
        record(Event::ExecutionStarted { input: "{}".into(), role_arn: String::new() });
        record(entered("A"));
        record(Event::TaskScheduled { resource: lambda, details: serde_json::json!({}) });
        record(Event::TaskFailed { resource: lambda, failure: failure.clone() });
        record(Event::TaskScheduled { resource: lambda, details: serde_json::json!({}) });
        record(Event::TaskSucceeded { resource: lambda, output: "{}".into() });
        record(exited("A"));
        record(entered("B"));
        record(Event::TaskScheduled { resource: lambda, details: serde_json::json!({}) });
        record(Event::TaskFailed { resource: lambda, failure: failure.clone() });
        record(Event::ExecutionFailed(failure));
        record(Event::ExecutionRedriven { redrive_count: 1 });
        record(entered("B"));
        record(exited("B"));
        let runs = state_runs(&history);
        let brief: Vec<(u32, &str, RunStatus, u32, Option<&str>)> =
            runs.iter().map(|r| (r.run, r.name.as_str(), r.status, r.attempts, r.error.as_deref())).collect();
        assert_eq!(
            brief,
            [
                (0, "A", RunStatus::Succeeded, 2, None),
                (0, "B", RunStatus::Failed, 1, Some("MediaFlow.Transient")),
                (1, "B", RunStatus::Succeeded, 0, None),
            ]
        );
        assert_eq!(runs[1].stopped, Some(t0 + chrono::Duration::seconds(11)), "ends when the execution failed");
        assert_eq!(serde_json::to_value(&runs[0]).unwrap()["started"], 1_700_000_002.0);
    }
}
