//! `mediaflow executions list|show|redrive`: the executions kept under the data folder.

use std::path::PathBuf;

use anyhow::{Context, Result};
use mediaflow_stepfunctions::engine::{Execution, ExecutionStore, Status};

use crate::platform::{Layout, Options, PIPELINE, Platform};
use crate::process::print_notifications;
use crate::topic::Topic;
use crate::trace::{trace_text, upload_key};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    /// The data folder.
    #[arg(long, default_value = "mediaflow-data", global = true)]
    pub data: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every execution kept, newest first.
    List,
    /// One execution's trace: states, durations, outputs, error, and what the topic was told.
    Show { name: String },
    /// Run a failed, timed-out or stopped execution again from where it stopped (after fixing its cause).
    Redrive {
        name: String,
        /// An edited MediaConvert job template to use from now on (a fix for a job that failed).
        #[arg(long)]
        job_template: Option<PathBuf>,
    },
}

/// The execution named `name` (or of that ARN).
fn find(store: &ExecutionStore, name: &str) -> Result<Execution> {
    let found = if name.starts_with("arn:") { store.load_arn(name) } else { store.load(PIPELINE, name) };
    found.with_context(|| format!("no execution {name} (mediaflow executions list shows them)"))
}

/// `Ok(false)` when a redriven execution did not succeed.
pub fn run(args: &Args) -> Result<bool> {
    let store = ExecutionStore::new(Layout::of(&args.data).executions);
    match &args.command {
        Command::List => {
            for e in store.list()? {
                let took =
                    e.stop_date.map(|s| format!("{:.2} s", (s - e.start_date).num_milliseconds() as f64 / 1000.0));
                println!(
                    "{}  {:<10} {:>9}  {}  {}",
                    e.start_date.format("%Y-%m-%d %H:%M:%S"),
                    format!("{:?}", e.status),
                    took.unwrap_or_default(),
                    e.name,
                    upload_key(&e)
                );
            }
            Ok(true)
        }
        Command::Show { name } => {
            let execution = find(&store, name)?;
            print!("{}", trace_text(&execution));
            let kept = Topic::kept(&Layout::of(&args.data).notifications)?;
            print_notifications(&kept.into_iter().filter(|n| n.execution == execution.name).collect::<Vec<_>>());
            let logged = crate::logs::read(&Layout::of(&args.data).logs, &execution.name);
            if !logged.is_empty() {
                println!("  log:");
                for line in &logged {
                    println!("    {}", crate::logs::describe(line));
                }
            }
            Ok(true)
        }
        Command::Redrive { name, job_template } => {
            let execution = find(&store, name)?;
            if !execution.redrivable() {
                anyhow::bail!(
                    "{name} is {:?}: only a failed, timed-out or stopped execution is redriven (upload the file again to run it anew)",
                    execution.status
                );
            }
            let options = Options { job_template: job_template.clone(), ..Options::default() };
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let platform = Platform::start(&args.data, &options).await?;
                let mut changes = platform.sfn.service().events();
                platform.sfn.client().redrive_execution().execution_arn(&execution.arn).send().await?;
                while let Some(change) = changes.recv().await {
                    if change.arn == execution.arn && change.status != Status::Running {
                        break;
                    }
                }
                let ended = find(&store, name)?;
                print!("{}", trace_text(&ended));
                if ended.status != Status::Succeeded {
                    platform.told(&ended.name, &ended.status.to_string()).await;
                }
                print_notifications(&platform.notifications());
                Ok(ended.status == Status::Succeeded)
            })
        }
    }
}
