//! An execution's trace as `process` and `executions show` print it: the states it went
//! through (per run, with durations), the keys it made public, where and why it failed.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use mediaflow_core::contract::PublishResult;
use mediaflow_local::engine::Execution;
use serde_json::{Value, json};

/// A state an execution went through: in which run (0, then 1 for the first redrive…), its
/// type, and how long it took.
struct Visit {
    run: u32,
    name: String,
    kind: String,
    seconds: f64,
    /// Exited; otherwise the run ended (failed, timed out, stopped) while it was entered.
    finished: bool,
}

/// The states an execution went through, in the order they ended. A state still entered when a
/// run ended is where it failed (or was stopped), and ends the list of that run.
fn states(execution: &Execution) -> Vec<Visit> {
    fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        (to - from).num_milliseconds() as f64 / 1000.0
    }
    /// The states of run `run` still entered at `end`.
    fn unfinished(
        entered: &mut Vec<(String, DateTime<Utc>, String)>,
        out: &mut Vec<Visit>,
        run: u32,
        end: DateTime<Utc>,
    ) {
        for (name, at, kind) in entered.drain(..) {
            out.push(Visit { run, name, kind, seconds: seconds(at, end), finished: false });
        }
    }
    let mut entered = Vec::new();
    let mut out = Vec::new();
    let mut run = 0;
    for event in &execution.history.events {
        match event.kind.as_str() {
            // A resumption follows a crash: what was in flight then ran again.
            "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted" | "ExecutionResumed" => {
                unfinished(&mut entered, &mut out, run, event.timestamp)
            }
            "ExecutionRedriven" => run += 1,
            _ => {}
        }
        if let Some(d) = event.details.get("stateEnteredEventDetails") {
            let kind = event.kind.trim_end_matches("StateEntered").to_string();
            entered.push((d["name"].as_str().unwrap_or_default().to_string(), event.timestamp, kind));
        }
        if let Some(d) = event.details.get("stateExitedEventDetails")
            && let Some(i) = entered.iter().rposition(|(name, _, _)| d["name"] == name.as_str())
        {
            let (name, at, kind) = entered.remove(i);
            out.push(Visit { run, name, kind, seconds: seconds(at, event.timestamp), finished: true });
        }
    }
    unfinished(&mut entered, &mut out, run, execution.stop_date.unwrap_or_else(Utc::now));
    out
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
        let unfinished = if v.finished { "" } else { "  unfinished" };
        text.push_str(&format!("  {:<18} {:<9} {:>7.2} s{unfinished}\n", v.name, v.kind, v.seconds));
    }
    for key in published(execution) {
        text.push_str(&format!("  → {key}\n"));
    }
    if let Some(cost) = cost_of(execution) {
        text.push_str(&format!("  MediaConvert on AWS: about ${cost:.4} (estimate)\n"));
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
            .map(|v| json!({"run": v.run, "name": v.name, "type": v.kind, "seconds": v.seconds, "finished": v.finished}))
            .collect::<Vec<_>>(),
        "outputs": found,
        "cost": cost_of(execution),
        "failedState": failed_state(execution),
        "error": execution.failure.as_ref().map(|f| &f.error),
        "cause": execution.failure.as_ref().map(|f| &f.cause),
        "output": execution.output,
    })
}
