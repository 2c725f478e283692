//! The `mediaflow` command line.

mod access;
mod captions;
mod console;
mod demo;
mod executions;
mod logs;
mod mediaconvert;
mod plan;
mod platform;
mod process;
mod progress;
mod schemas;
mod serve;
mod topic;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "mediaflow", version, about = "Media ingest pipeline: uploads in, delivery-ready assets out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the pipeline would do with a local file: kind, probe, renditions, every output
    /// key and the MediaConvert job. Runs ffprobe; uploads nothing.
    Plan(plan::Args),
    /// Make a small sample set with ffmpeg (landscape and portrait clips, an MP3, captions), run
    /// it through the whole pipeline on this machine and list the outputs.
    Demo(demo::Args),
    /// Keep the S3 and Step Functions endpoints up: any S3 client's upload into inputs/ starts
    /// an execution, any Step Functions client can follow it.
    Serve(serve::Args),
    /// Serve the MediaConvert stand-in on its own (CreateJob, GetJob, ListJobs) against the S3
    /// endpoint of the SDK's environment, delivering each job state change to the targets of
    /// the EventBridge rules that match it.
    ///
    /// Reads the AWS SDK's environment: AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE> (S3,
    /// EVENTBRIDGE, LAMBDA, SFN, SNS), AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY;
    /// S3_FORCE_PATH_STYLE (default: true when an endpoint URL is set). The rules of the bus
    /// are read for every event (ListRules, ListTargetsByRule); a Lambda target is invoked
    /// asynchronously (InvocationType Event), a state machine started, a topic published to;
    /// Input and InputPath are honoured, InputTransformer refused. Every request must be
    /// signed (SigV4) with --access-key-id and --secret-access-key, or with the credentials
    /// made for the data folder; an address other than loopback needs the former.
    Mediaconvert(mediaconvert::Args),
    /// The executions kept under the data folder: list, show one, redrive a failed one.
    Executions(executions::Args),
    /// Run files through the whole pipeline on this machine (embedded S3, the Step Functions
    /// engine, an ffmpeg stand-in for MediaConvert) and show each execution's trace.
    Process(process::Args),
    /// Convert a caption file (SubRip, SBV, TTML/DFXP, WebVTT) to WebVTT, as the pipeline does.
    Captions(captions::Args),
    /// Write the JSON Schemas of every contract type (or check that they are current).
    Schemas {
        /// Folder to write into.
        #[arg(long, default_value = "schemas")]
        out: PathBuf,
        /// Write nothing; fail when a file differs from the generated schema.
        #[arg(long)]
        check: bool,
    },
}

/// Exit codes: 0 done, 1 an execution did not succeed, 2 the command itself failed.
fn main() -> ExitCode {
    let cli = Cli::parse();
    // `Ok(false)`: the command ran, and an execution it ran did not succeed.
    let result = match cli.command {
        Command::Process(args) => process::run(&args),
        Command::Executions(args) => executions::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Mediaconvert(args) => mediaconvert::run(&args),
        Command::Plan(args) => plan::run(&args).map(|()| true),
        Command::Captions(args) => captions::run(&args).map(|()| true),
        Command::Schemas { out, check } => schemas::run(&out, check).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
