//! `mediaflow process FILE…`: the platform started in-process, the files uploaded into
//! `inputs/`, every execution run to its end, then each one's trace as the console shows it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_sfn::types::ExecutionStatus;
use mediaflow_local::engine::{Execution, ExecutionStore, Status};
use serde_json::{Value, json};

use crate::platform::{Layout, Notification, Options, Platform, WATCH_BUCKET};

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
}

/// Runs the files through the pipeline; `Ok(false)` when an execution did not succeed.
pub fn run(args: &Args) -> Result<bool> {
    let mut uploads = Vec::new();
    for file in &args.files {
        if !file.is_file() {
            bail!("{} is not a file", file.display());
        }
        uploads.push((file.clone(), input_key(file)?));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let options = Options { job_template: args.job_template.clone(), ..Options::default() };
    runtime.block_on(process(&args.data, &options, &uploads, args.json))
}

/// The key an upload of `file` gets under `inputs/`.
pub fn input_key(file: &Path) -> Result<String> {
    let relative = if file.is_absolute() {
        PathBuf::from(file.file_name().with_context(|| format!("{} names no file", file.display()))?)
    } else {
        file.components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect()
    };
    let path = relative.to_str().with_context(|| format!("{} is not UTF-8", file.display()))?;
    Ok(format!("inputs/{}", path.replace('\\', "/")))
}

/// Uploads each file under its key, waits for every execution to end and prints their traces.
pub async fn process(data: &Path, options: &Options, uploads: &[(PathBuf, String)], as_json: bool) -> Result<bool> {
    let platform = Platform::start(data, options).await?;
    let before: BTreeSet<String> = executions(&platform).await?.into_iter().map(|(arn, _)| arn).collect();
    for (file, key) in uploads {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await?;
        platform.s3.client().put_object().bucket(WATCH_BUCKET).key(key).body(body).send().await?;
        if !as_json {
            eprintln!("uploaded {} → s3://{WATCH_BUCKET}/{key}", file.display());
        }
    }
    let finished = wait_for_all(&platform, &before, uploads.len(), !as_json).await?;
    let store = ExecutionStore::new(Layout::of(&platform.data).executions);
    let mut ended = Vec::new();
    for arn in &finished {
        let mut parts = arn.rsplit(':');
        let (name, machine) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        ended.push(store.load(machine, name)?);
    }
    ended.sort_by_key(|e| e.start_date);
    let notifications = platform.notifications();
    if as_json {
        let all: Vec<Value> = ended
            .iter()
            .map(|e| {
                let mut trace = trace_json(e);
                let mine: Vec<&Notification> = notifications.iter().filter(|n| n.subject.ends_with(&e.name)).collect();
                trace["notifications"] = json!(mine);
                trace
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        for execution in &ended {
            print!("{}", trace_text(execution));
        }
        for n in &notifications {
            println!("notification [{}] {}", n.status, n.subject);
        }
        println!("outputs: {}", platform.s3.data().join("public").display());
    }
    Ok(ended.iter().all(|e| e.status == Status::Succeeded))
}

async fn executions(platform: &Platform) -> Result<Vec<(String, ExecutionStatus)>> {
    let listed = platform.sfn.client().list_executions().state_machine_arn(&platform.machine_arn).send().await?;
    Ok(listed.executions().iter().map(|e| (e.execution_arn().to_string(), e.status().clone())).collect())
}

/// Waits until at least `uploads` executions besides the `known` ones exist and none has run
/// for a second (an assembled upload starts one more); returns the new ones.
async fn wait_for_all(
    platform: &Platform,
    known: &BTreeSet<String>,
    uploads: usize,
    show: bool,
) -> Result<Vec<String>> {
    let expected = known.len() + uploads;
    let mut quiet = 0;
    let mut last_report = String::new();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = executions(platform).await?;
        let running = now.iter().filter(|(_, s)| *s == ExecutionStatus::Running).count();
        if show {
            let report = format!("{} executions, {running} running", now.len());
            if report != last_report {
                eprintln!("{report}");
                last_report = report;
            }
        }
        quiet = if now.len() >= expected && running == 0 { quiet + 1 } else { 0 };
        if quiet >= 4 {
            return Ok(now.into_iter().map(|(arn, _)| arn).filter(|arn| !known.contains(arn)).collect());
        }
    }
}

/// The states an execution went through, with how long each took, in order.
fn states(execution: &Execution) -> Vec<(String, String, f64)> {
    let mut entered = std::collections::HashMap::new();
    let mut out = Vec::new();
    for event in &execution.history.events {
        if let Some(d) = event.details.get("stateEnteredEventDetails") {
            entered.insert(d["name"].as_str().unwrap_or_default().to_string(), (event.timestamp, event.kind.clone()));
        }
        if let Some(d) = event.details.get("stateExitedEventDetails") {
            let name = d["name"].as_str().unwrap_or_default().to_string();
            if let Some((at, kind)) = entered.remove(&name) {
                let seconds = (event.timestamp - at).num_milliseconds() as f64 / 1000.0;
                out.push((name, kind.trim_end_matches("StateEntered").to_string(), seconds));
            }
        }
    }
    // A state still entered when the execution ended is where it failed.
    for (name, (at, kind)) in entered {
        let end = execution.stop_date.unwrap_or(at);
        out.push((
            name,
            kind.trim_end_matches("StateEntered").to_string(),
            (end - at).num_milliseconds() as f64 / 1000.0,
        ));
    }
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
    for (name, kind, seconds) in states(execution) {
        text.push_str(&format!("  {name:<18} {kind:<9} {seconds:>7.2} s\n"));
    }
    let mut found = BTreeSet::new();
    if let Some(output) = &execution.output {
        outputs(output, &mut found);
    }
    for key in found {
        text.push_str(&format!("  → {key}\n"));
    }
    if let Some(f) = &execution.failure {
        text.push_str(&format!("  error: {}: {}\n", f.error, f.cause));
    }
    text
}

fn trace_json(execution: &Execution) -> Value {
    let mut found = BTreeSet::new();
    if let Some(output) = &execution.output {
        outputs(output, &mut found);
    }
    json!({
        "execution": execution.arn,
        "key": upload_key(execution),
        "status": execution.status,
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "states": states(execution).into_iter().map(|(name, kind, seconds)| json!({"name": name, "type": kind, "seconds": seconds})).collect::<Vec<_>>(),
        "outputs": found,
        "error": execution.failure.as_ref().map(|f| &f.error),
        "cause": execution.failure.as_ref().map(|f| &f.cause),
        "output": execution.output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_keep_their_folders() {
        assert_eq!(input_key(Path::new("course/talk.mp4")).unwrap(), "inputs/course/talk.mp4");
        assert_eq!(input_key(Path::new("./talk.mp4")).unwrap(), "inputs/talk.mp4");
        assert_eq!(input_key(Path::new("/tmp/x/talk.mp4")).unwrap(), "inputs/talk.mp4");
        assert_eq!(input_key(Path::new("../up/talk.mp4")).unwrap(), "inputs/up/talk.mp4");
    }
}
