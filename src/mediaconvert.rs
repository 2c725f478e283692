//! `mediaflow mediaconvert`: the MediaConvert stand-in as an endpoint of its own. Jobs read and
//! write through whatever S3 endpoint the SDK's environment names, and each `MediaConvert Job
//! State Change` goes to the targets of the EventBridge rules that match it, as EventBridge
//! would deliver it (an emulator's PutEvents may refuse `aws.*` sources, so the stand-in does
//! not put events: it delivers them).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use mediaflow_endpoint::Credentials;
use mediaflow_standins::eventbridge::{Clients, Delivery, as_json, stream};
use mediaflow_standins::mediaconvert::{MediaConvertEndpoint, Settings, default_jobs};

#[derive(clap::Args)]
pub struct Args {
    /// Where the MediaConvert API listens (port 0: any free port). An address other than
    /// loopback needs --access-key-id and --secret-access-key: whoever can sign requests runs
    /// jobs that read and write buckets with this process's credentials.
    #[arg(long, default_value = "127.0.0.1:4580")]
    pub listen: SocketAddr,
    /// What requests must be signed with (SigV4): the functions' credentials.
    #[command(flatten)]
    pub credentials: crate::access::CredentialArgs,
    /// Where jobs are kept (a restart resumes the unfinished) and ffmpeg writes its outputs
    /// before they are uploaded.
    #[arg(long, default_value = "mediaflow-mediaconvert")]
    pub data: PathBuf,
    /// How many jobs transcode at once (the rest wait as SUBMITTED); default: the cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The EventBridge bus whose rules receive the job state changes.
    #[arg(long, default_value = "default")]
    pub event_bus: String,
    /// The ffmpeg every job runs.
    #[arg(long, env = "FFMPEG_PATH", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,
    /// The ffprobe that measures outputs other than MP4.
    #[arg(long, env = "FFPROBE_PATH", default_value = "ffprobe")]
    pub ffprobe: PathBuf,
}

pub fn run(args: &Args) -> Result<bool> {
    let credentials = crate::access::credentials(args.credentials.given(), &args.data, &[args.listen])?;
    init_logs();
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(serve(args, credentials));
    // Dropping the runtime kills every job's ffmpeg with its task; the jobs stay kept as they
    // were, to run again at the next start.
    drop(runtime);
    let _ = std::fs::remove_dir_all(args.data.join("work"));
    served
}

/// Structured lines on stderr: what was delivered where, and what failed.
fn init_logs() {
    use tracing_subscriber::prelude::*;
    let ours = tracing_subscriber::filter::filter_fn(crate::logs::ours);
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(ours);
    let _ = tracing_subscriber::registry().with(stderr).try_init();
}

/// Path-style requests (`http://host/bucket/key`) when `S3_FORCE_PATH_STYLE` says so, as the
/// functions decide, and by default whenever an endpoint URL is set: S3-compatible endpoints on
/// a host and port have no per-bucket host names.
fn path_style() -> bool {
    match std::env::var("S3_FORCE_PATH_STYLE") {
        Ok(value) => value == "true",
        Err(_) => ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|v| std::env::var_os(v).is_some()),
    }
}

async fn serve(args: &Args, credentials: Credentials) -> Result<bool> {
    let config = aws_config::load_from_env().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style()).build(),
    );
    // The delivery tries each call a few times itself: the SDK's own retries would multiply them.
    let once = config.to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
    let clients = Clients {
        lambda: aws_sdk_lambda::Client::new(&once),
        sfn: aws_sdk_sfn::Client::new(&once),
        sns: aws_sdk_sns::Client::new(&once),
    };
    let delivery = Delivery::eventbridge(aws_sdk_eventbridge::Client::new(&once), &args.event_bus, clients);

    let access_key = credentials.access_key_id.clone();
    let settings = Settings {
        ffmpeg: args.ffmpeg.clone(),
        ffprobe: args.ffprobe.clone(),
        jobs_dir: Some(args.data.join("jobs")),
        max_jobs: args.jobs.unwrap_or_else(default_jobs),
        credentials,
        ..Settings::new(s3, args.data.join("work"))
    };
    let endpoint = MediaConvertEndpoint::start(settings, args.listen).await.with_context(|| {
        format!("starting the MediaConvert endpoint on {} over {}", args.listen, args.data.display())
    })?;
    // Subscribed before any job resumes, so that no state change goes undelivered.
    let delivering = tokio::spawn(delivery.run(as_json(stream(endpoint.events()))));
    let resumed = endpoint.resume();
    println!("MediaConvert endpoint: {}", endpoint.endpoint());
    println!("requests signed with:  access key {access_key} ({})", args.credentials.whose(&args.data));
    println!("job state changes:     to the targets of the matching rules of event bus {}", args.event_bus);
    if !resumed.is_empty() {
        println!("resumed:               {} job(s) left unfinished by an earlier process", resumed.len());
    }

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    drop(endpoint);
    // A state change already announced (a job that just ended is kept as COMPLETE and will not
    // run again) gets a moment to reach its targets before the process ends.
    let mut delivering = delivering;
    if tokio::time::timeout(std::time::Duration::from_secs(3), &mut delivering).await.is_err() {
        delivering.abort();
    }
    Ok(true)
}
