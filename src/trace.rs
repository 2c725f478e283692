//! An execution's trace as `process` and `executions show` print it: the states it went
//! through (per run, with durations), the keys it made public, where and why it failed.

use std::collections::BTreeSet;

use chrono::Utc;
use mediaflow_core::contract::PublishResult;
use mediaflow_stepfunctions::engine::{Execution, StateRun, state_runs};
use serde_json::{Value, json};

/// The states an execution went through, by run, in the order they ended; a run's states cut
/// short (where it failed, or was stopped) last in it.
fn states(execution: &Execution) -> Vec<StateRun> {
    let mut runs = state_runs(&execution.history);
    runs.sort_by_key(|r| (r.run, !r.finished(), r.stopped));
    runs
}

/// How long a state ran: until it ended, or until the execution did (or now, while it runs).
fn seconds(execution: &Execution, run: &StateRun) -> f64 {
    let end = run.stopped.or(execution.stop_date).unwrap_or_else(Utc::now);
    (end - run.started).num_milliseconds() as f64 / 1000.0
}

/// The public keys the execution made public, as its Publish step answered (HLS segments are
/// only counted there), sorted; none for an execution that did not publish.
fn published(execution: &Execution) -> BTreeSet<String> {
    let publish = execution.output.as_ref().map(|o| o["publish"].clone());
    publish
        .and_then(|p| serde_json::from_value::<PublishResult>(p).ok())
        .map(|p| p.published.into_iter().collect())
        .unwrap_or_default()
}

/// The estimated MediaConvert cost on AWS of a succeeded execution's job, when it made one.
pub fn cost_of(execution: &Execution) -> Option<f64> {
    execution.output.as_ref()?["plan"]["cost"]["total"].as_f64()
}

/// The estimated Transcribe cost on AWS of a succeeded execution's machine caption, when it made one.
pub fn transcription_cost_of(execution: &Execution) -> Option<f64> {
    execution.output.as_ref()?["autoCaption"]["cost"]["cost"].as_f64()
}

pub fn upload_key(execution: &Execution) -> String {
    execution.input["detail"]["object"]["key"].as_str().unwrap_or_default().to_string()
}

pub fn trace_text(execution: &Execution) -> String {
    let took = execution.stop_date.map(|s| (s - execution.start_date).num_milliseconds() as f64 / 1000.0);
    let mut text = format!(
        "\n{}  {:?}  {:.2} s  ({})\n",
        upload_key(execution),
        execution.status,
        took.unwrap_or_default(),
        execution.name
    );
    let mut run = 0;
    for v in states(execution) {
        if v.run != run {
            run = v.run;
            text.push_str(&format!("  ── redrive {run}\n"));
        }
        let unfinished = if v.finished() { "" } else { "  unfinished" };
        let took = seconds(execution, &v);
        text.push_str(&format!("  {:<18} {:<9} {took:>7.2} s{unfinished}\n", v.name, v.state_type));
    }
    for key in published(execution) {
        text.push_str(&format!("  → {key}\n"));
    }
    if let Some(cost) = cost_of(execution) {
        text.push_str(&format!("  MediaConvert on AWS: about ${cost:.4} (estimate)\n"));
    }
    if let Some(cost) = transcription_cost_of(execution) {
        text.push_str(&format!("  Transcribe on AWS: about ${cost:.4} (estimate)\n"));
    }
    if let Some(f) = &execution.failure {
        let at = failed_state(execution).map(|s| format!(" at {s}")).unwrap_or_default();
        // A Lambda's failure comes as its error payload: the message is what a reader wants.
        let payload: Option<Value> = serde_json::from_str(&f.cause).ok();
        let cause = payload.as_ref().and_then(|p| p["errorMessage"].as_str()).unwrap_or(&f.cause);
        text.push_str(&format!("  failed{at}: {}: {cause}\n", f.error));
    }
    text
}

/// The state an execution failed, timed out or was stopped in: where a redrive starts again.
pub fn failed_state(execution: &Execution) -> Option<&str> {
    execution.redrivable().then_some(execution.resume.as_ref()?.failed_state())
}

pub fn trace_json(execution: &Execution) -> Value {
    let found = published(execution);
    json!({
        "execution": execution.arn,
        "name": execution.name,
        "key": upload_key(execution),
        "status": execution.status,
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "redriveCount": execution.redrive_count,
        "states": states(execution)
            .into_iter()
            .map(|v| {
                let took = seconds(execution, &v);
                json!({"run": v.run, "name": v.name, "type": v.state_type, "seconds": took, "finished": v.finished()})
            })
            .collect::<Vec<_>>(),
        "outputs": found,
        "cost": cost_of(execution),
        "transcriptionCost": transcription_cost_of(execution),
        "failedState": failed_state(execution),
        "error": execution.failure.as_ref().map(|f| &f.error),
        "cause": execution.failure.as_ref().map(|f| &f.cause),
        "output": execution.output,
    })
}
