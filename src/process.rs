//! `mediaflow process FILE…`: the platform started in-process, the files uploaded into
//! `inputs/`, every execution run to its end, then each one's trace as the console shows it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use indicatif::ProgressDrawTarget;
use mediaflow_core::contract::ExecutionStatusChangeEvent;
use mediaflow_local::engine::{ExecutionStore, Status};
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
        let costs: Vec<f64> = ended.iter().filter_map(crate::trace::cost_of).collect();
        if !costs.is_empty() {
            let total: f64 = costs.iter().sum();
            println!("MediaConvert on AWS: about ${total:.4} for {} job(s) (an estimate; see README)", costs.len());
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
