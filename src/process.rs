//! `mediaflow process FILE…`: the platform started in-process, the files uploaded into
//! `inputs/`, every execution run to its end, then each one's trace as the console shows it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use indicatif::ProgressDrawTarget;
use mediaflow_core::contract::{AssemblyResult, AssemblyStatus, ObjectCreatedEvent};
use mediaflow_stepfunctions::engine::{ExecutionStore, Status, StatusChange};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::plan::input_key;
use crate::platform::{Layout, Options, Platform, WATCH_BUCKET};
use crate::progress::Progress;
use crate::topic::Notification;
use crate::trace::{trace_json, trace_text};

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
    #[command(flatten)]
    pub pipeline: crate::platform::PipelineArgs,
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
    runtime.block_on(process(&args.data, &args.pipeline.options(), &uploads, args.json))
}

/// Uploads each file under its key, waits for every execution to end and prints their traces.
pub async fn process(data: &Path, options: &Options, uploads: &[(PathBuf, String)], as_json: bool) -> Result<bool> {
    let platform = Platform::start(data, options).await?;
    // Subscribed before the first upload, so no execution of ours goes unseen.
    let mut changes = platform.sfn.service().events();
    let mut awaited = Awaited::default();
    for (file, key) in uploads {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(file).await?;
        platform.s3.client().put_object().bucket(WATCH_BUCKET).key(key).body(body).send().await?;
        awaited.uploaded(key);
        if !as_json {
            eprintln!("uploaded {} → s3://{WATCH_BUCKET}/{key}", file.display());
        }
    }
    let finished = wait_for_all(&platform, &mut changes, awaited, !as_json).await;
    let store = ExecutionStore::new(Layout::of(&platform.data).executions);
    let mut ended = finished.iter().map(|arn| store.load_arn(arn)).collect::<Result<Vec<_>, _>>()?;
    ended.sort_by_key(|e| e.start_date);
    // The failure rule tells the topic through the platform's bus, just after the status change.
    for execution in ended.iter().filter(|e| e.status != Status::Succeeded) {
        platform.told(&execution.name, &execution.status.to_string()).await;
    }
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
        let costs: Vec<f64> = ended.iter().filter_map(crate::trace::cost_of).collect();
        if !costs.is_empty() {
            let total: f64 = costs.iter().sum();
            println!("MediaConvert on AWS: about ${total:.4} for {} job(s) (an estimate; see README)", costs.len());
        }
        let transcriptions: Vec<f64> = ended.iter().filter_map(crate::trace::transcription_cost_of).collect();
        if !transcriptions.is_empty() {
            let total: f64 = transcriptions.iter().sum();
            println!(
                "Transcribe on AWS: about ${total:.4} for {} transcription(s) (an estimate)",
                transcriptions.len()
            );
        }
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

/// Follows the executions that start from now on until each upload's has ended, and, for a
/// part that completed an assembly, the assembled upload's too; returns their ARNs. It waits
/// for exactly those, so it stops as soon as the last one ends. If nothing runs and an upload's
/// execution has not come for [`NO_EXECUTION`], it stops waiting and says for which.
async fn wait_for_all(
    platform: &Platform,
    changes: &mut UnboundedReceiver<StatusChange>,
    mut awaited: Awaited,
    show: bool,
) -> Vec<String> {
    let mut status: BTreeMap<String, Status> = BTreeMap::new();
    let target = if show { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let mut progress = show.then(|| Progress::new(target));
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut idle_since = tokio::time::Instant::now();
    loop {
        tokio::select! {
            Some(change) = changes.recv() => {
                if change.status != Status::Running {
                    awaited.ended(&change);
                }
                status.insert(change.arn, change.status);
            }
            _ = tick.tick() => {}
        }
        let running = status.values().filter(|s| **s == Status::Running).count();
        if let Some(progress) = &mut progress {
            progress.executions(status.len(), running);
            progress.jobs(&platform.mediaconvert.jobs());
        }
        if running > 0 {
            idle_since = tokio::time::Instant::now();
        }
        let missing = awaited.missing();
        if running == 0 && (missing.is_empty() || idle_since.elapsed() >= NO_EXECUTION) {
            if let Some(progress) = &progress {
                progress.finish();
            }
            if !missing.is_empty() {
                eprintln!("mediaflow: no execution started for {}", missing.join(", "));
            }
            return status.into_keys().collect();
        }
    }
}

/// How long `process` waits with nothing running for an upload's execution to start: far
/// longer than an event takes to arrive, however loaded the machine.
const NO_EXECUTION: Duration = Duration::from_secs(30);

/// The executions `process` waits for, as a count by upload key. A count can dip below zero:
/// the assembled upload's execution may end before the part's that assembled it.
#[derive(Default)]
struct Awaited {
    by_key: BTreeMap<String, i64>,
}

impl Awaited {
    fn uploaded(&mut self, key: &str) {
        *self.by_key.entry(key.to_string()).or_default() += 1;
    }

    /// An execution ended: its upload's count goes down and, if it assembled an upload from
    /// its parts, the assembled upload's goes up.
    fn ended(&mut self, change: &StatusChange) {
        if let Ok(event) = ObjectCreatedEvent::deserialize(&change.input) {
            *self.by_key.entry(event.detail.object.key).or_default() -= 1;
        }
        let assembly = change.output.as_ref().and_then(|o| AssemblyResult::deserialize(&o["assembly"]).ok());
        if let Some(assembly) = assembly.filter(|a| a.status == AssemblyStatus::Assembled) {
            self.uploaded(&assembly.target_key);
        }
    }

    /// The keys whose executions have not all ended.
    fn missing(&self) -> Vec<String> {
        self.by_key.iter().filter(|(_, n)| **n > 0).map(|(key, _)| key.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(key: &str, output: Option<Value>) -> StatusChange {
        let input = json!({"version": "0", "id": "e", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2026-12-02T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"version": "0", "bucket": {"name": "watch"}, "object": {"key": key, "size": 1, "etag": "x"},
                       "request-id": "r", "requester": "me", "reason": "PutObject"}});
        StatusChange {
            arn: format!("arn:aws:states:us-east-1:123456789012:execution:m:{key}"),
            name: key.into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            status: Status::Succeeded,
            start_date: chrono::Utc::now(),
            stop_date: Some(chrono::Utc::now()),
            input,
            output,
            failure: None,
            redrive_count: 0,
            at: chrono::Utc::now(),
        }
    }

    fn assembled(target: &str) -> Option<Value> {
        Some(json!({"assembly": {"status": "assembled", "targetKey": target, "partsPresent": 2, "partsExpected": 2}}))
    }

    #[test]
    fn each_upload_is_awaited_once() {
        let mut awaited = Awaited::default();
        awaited.uploaded("inputs/a.mp4");
        awaited.uploaded("inputs/b.mp4");
        awaited.ended(&ended("inputs/a.mp4", None));
        assert_eq!(awaited.missing(), ["inputs/b.mp4"]);
        awaited.ended(&ended("inputs/b.mp4", Some(json!({}))));
        assert!(awaited.missing().is_empty());
    }

    #[test]
    fn an_assembly_adds_the_assembled_upload_whenever_it_ends() {
        for assembled_first in [false, true] {
            let mut awaited = Awaited::default();
            awaited.uploaded("inputs/m.mp4.CHUNK0");
            awaited.uploaded("inputs/m.mp4.CHUNK1");
            let waiting = json!({"assembly": {"status": "waiting", "targetKey": "inputs/m.mp4", "partsPresent": 1}});
            awaited.ended(&ended("inputs/m.mp4.CHUNK0", Some(waiting)));
            if assembled_first {
                awaited.ended(&ended("inputs/m.mp4", None));
                assert_eq!(awaited.missing(), ["inputs/m.mp4.CHUNK1"]);
                awaited.ended(&ended("inputs/m.mp4.CHUNK1", assembled("inputs/m.mp4")));
            } else {
                awaited.ended(&ended("inputs/m.mp4.CHUNK1", assembled("inputs/m.mp4")));
                assert_eq!(awaited.missing(), ["inputs/m.mp4"]);
                awaited.ended(&ended("inputs/m.mp4", None));
            }
            assert!(awaited.missing().is_empty(), "assembled first: {assembled_first}");
        }
    }
}
