//! `mediaflow process FILE…`: the platform started in-process, the files uploaded into
//! `inputs/`, every execution run to its end, then each one's trace as the console shows it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use indicatif::ProgressDrawTarget;
use mediaflow_core::contract::ExecutionStatusChangeEvent;
use mediaflow_local::engine::{Execution, ExecutionStore, Status};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::plan::input_key;
use crate::platform::{Layout, Options, Platform, WATCH_BUCKET};
use crate::progress::Progress;
use crate::topic::Notification;

#[derive(clap::Args)]
pub struct Args {
    /// Files to upload; a relative path keeps its folders under inputs/.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The data folder: buckets, executions, scratch space.
    #[arg(long, default_value = "mediaflow-data")]
    pub data: PathBuf,
    /// Print the executions as JSON.
    #[arg(long)]
    pub json: bool,
    /// An edited MediaConvert job template (job.json) to use for video, as on AWS.
    #[arg(long)]
    pub job_template: Option<PathBuf>,
    /// How many transcodes (and ffmpeg/ffprobe functions) run at once; default: the cores.
    #[arg(long)]
    pub transcode_jobs: Option<usize>,
}

/// Runs the files through the pipeline; `Ok(false)` when an execution did not succeed.
pub fn run(args: &Args) -> Result<bool> {
    let mut uploads = Vec::new();
    for file in &args.files {
        if !file.is_file() {
            bail!("{} is not a file", file.display());
        }
        uploads.push((file.clone(), input_key(file)));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let mut options = Options { job_template: args.job_template.clone(), ..Options::default() };
    options.transcode_jobs = args.transcode_jobs.unwrap_or(options.transcode_jobs);
    runtime.block_on(process(&args.data, &options, &uploads, args.json))
}

/// Uploads each file under its key, waits for every execution to end and prints their traces.
pub async fn process(data: &Path, options: &Options, uploads: &[(PathBuf, String)], as_json: bool) -> Result<bool> {
    let platform = Platform::start(data, options).await?;
    // Subscribed before the first upload, so no execution of ours goes unseen.
    let mut changes = platform.sfn.events();
    for (file, key) in uploads {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await?;
        platform.s3.client().put_object().bucket(WATCH_BUCKET).key(key).body(body).send().await?;
        if !as_json {
            eprintln!("uploaded {} → s3://{WATCH_BUCKET}/{key}", file.display());
        }
    }
    let finished = wait_for_all(&platform, &mut changes, uploads.len(), !as_json).await;
    let store = ExecutionStore::new(Layout::of(&platform.data).executions);
    let mut ended = finished.iter().map(|arn| store.load_arn(arn)).collect::<Result<Vec<_>, _>>()?;
    ended.sort_by_key(|e| e.start_date);
    let notifications = platform.notifications();
    if as_json {
        let all: Vec<Value> = ended
            .iter()
            .map(|e| {
                let mut trace = trace_json(e);
                let mine: Vec<&Notification> = notifications.iter().filter(|n| n.execution == e.name).collect();
                trace["notifications"] = json!(mine);
                trace
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        for execution in &ended {
            print!("{}", trace_text(execution));
        }
        print_notifications(&notifications);
        println!("outputs: {}", platform.s3.data().join("public").display());
    }
    Ok(ended.iter().all(|e| e.status == Status::Succeeded))
}

/// One line for each message the topic received.
pub fn print_notifications(notifications: &[Notification]) {
    for n in notifications {
        println!("notification [{}] {}", n.status, n.subject.as_deref().unwrap_or(&n.execution));
    }
}

/// Follows the executions that start from now on until at least `uploads` of them have ended
/// and none has run for a second (an assembled upload starts one more); returns their ARNs.
async fn wait_for_all(
    platform: &Platform,
    changes: &mut UnboundedReceiver<ExecutionStatusChangeEvent>,
    uploads: usize,
    show: bool,
) -> Vec<String> {
    let mut status: BTreeMap<String, String> = BTreeMap::new();
    let target = if show { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let mut progress = show.then(|| Progress::new(target));
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut quiet = 0;
    loop {
        tokio::select! {
            Some(change) = changes.recv() => {
                status.insert(change.detail.execution_arn, change.detail.status);
                continue;
            }
            _ = tick.tick() => {}
        }
        let running = status.values().filter(|s| *s == "RUNNING").count();
        if let Some(progress) = &mut progress {
            progress.executions(status.len(), running);
            progress.jobs(&platform.mediaconvert.jobs());
        }
        quiet = if status.len() >= uploads && running == 0 { quiet + 1 } else { 0 };
        if quiet >= 4 {
            if let Some(progress) = &progress {
                progress.finish();
            }
            return status.into_keys().collect();
        }
    }
}

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

/// Output keys an execution's result names.
fn outputs(value: &Value, found: &mut BTreeSet<String>) {
    const FOLDERS: [&str; 5] = ["audiovideo/", "thumbnail/", "json/", "original/", "closed-caption/"];
    match value {
        Value::String(s) if FOLDERS.iter().any(|f| s.starts_with(f)) => {
            found.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| outputs(v, found)),
        Value::Object(map) => map.values().for_each(|v| outputs(v, found)),
        _ => {}
    }
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
    let mut found = BTreeSet::new();
    if let Some(output) = &execution.output {
        outputs(output, &mut found);
    }
    for key in found {
        text.push_str(&format!("  → {key}\n"));
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
fn failed_state(execution: &Execution) -> Option<&str> {
    execution.redrivable().then_some(execution.resume.as_ref()?.failed_state())
}

fn trace_json(execution: &Execution) -> Value {
    let mut found = BTreeSet::new();
    if let Some(output) = &execution.output {
        outputs(output, &mut found);
    }
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
        "failedState": failed_state(execution),
        "error": execution.failure.as_ref().map(|f| &f.error),
        "cause": execution.failure.as_ref().map(|f| &f.cause),
        "output": execution.output,
    })
}
