//! `mediaflow serve`: the platform as long-running endpoints. Any S3 client can upload into
//! the watch bucket and any Step Functions client can follow the executions.

use std::path::PathBuf;

use anyhow::Result;

use crate::platform::{Layout, Options, Platform, WATCH_BUCKET};
use crate::process::print_notifications;

#[derive(clap::Args)]
pub struct Args {
    /// The data folder.
    #[arg(long, default_value = "mediaflow-data")]
    pub data: PathBuf,
    /// Where the S3 endpoint listens.
    #[arg(long, default_value = "127.0.0.1:4566")]
    pub s3: std::net::SocketAddr,
    /// Where the Step Functions endpoint listens.
    #[arg(long, default_value = "127.0.0.1:8083")]
    pub sfn: std::net::SocketAddr,
    /// Where the console (upload page, executions, outputs) listens: a loopback address.
    #[arg(long, default_value = "127.0.0.1:8084")]
    pub console: String,
    #[command(flatten)]
    pub pipeline: crate::platform::PipelineArgs,
    #[command(flatten)]
    pub credentials: crate::access::CredentialArgs,
}

pub fn run(args: &Args) -> Result<bool> {
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(serve(args));
    // Dropping the runtime drops every task: each ffmpeg child is killed with its task, and
    // what was running stays RUNNING in its journal, to resume at the next start.
    drop(runtime);
    let _ = std::fs::remove_dir_all(Layout::of(&args.data).work);
    served
}

async fn serve(args: &Args) -> Result<bool> {
    let options = Options {
        s3_addr: args.s3,
        sfn_addr: args.sfn,
        credentials: args.credentials.given(),
        ..args.pipeline.options()
    };
    let platform = Platform::start(&args.data, &options).await?;
    let (s3, sfn) = (platform.s3.endpoint(), platform.sfn.endpoint());
    let console = crate::console::start(&args.console, platform.console_backend()).await?;
    println!("console:                 {} (open it in a browser: upload, watch, redrive, play)", console.url);
    println!("S3 endpoint:             {s3} (path-style; buckets {WATCH_BUCKET} and public)");
    println!("Step Functions endpoint: {sfn}");
    println!("state machine:           {}", platform.machine_arn);
    // Printed for the user at the terminal, as `aws configure` shows a key: the endpoints
    // refuse any request not signed with them.
    println!(
        "credentials:             AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_REGION={}",
        platform.credentials.access_key_id,
        platform.credentials.secret_access_key,
        mediaflow_endpoint::REGION
    );
    println!("                         ({})", args.credentials.whose(&platform.data));
    println!("data:                    {}", platform.data.display());
    println!();
    println!("  aws --endpoint-url {s3} s3 cp talk.mp4 s3://{WATCH_BUCKET}/inputs/");
    println!("  aws --endpoint-url {sfn} stepfunctions list-executions --state-machine-arn {}", platform.machine_arn);
    println!();
    println!("every upload under inputs/ starts an execution; Ctrl-C stops (what runs resumes at the next start)");

    // Each execution's changes of status and what the topic receives, as they happen.
    let mut changes = platform.sfn.service().events();
    let mut heard = platform.heard();
    // What resumed executions told the topic before this loop subscribed is printed at once.
    heard.mark_changed();
    let mut told = 0;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(true),
            _ = terminate.recv() => return Ok(true),
            Some(change) = changes.recv() => {
                let error = change.failure.map(|f| format!(" {}", f.error)).unwrap_or_default();
                println!("{} {}{error}", change.status, change.arn);
            }
            Ok(()) = heard.changed() => {}
        }
        let notifications = platform.notifications();
        print_notifications(&notifications[told..]);
        told = notifications.len();
    }
}
