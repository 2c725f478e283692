//! The whole pipeline on one machine: the embedded S3 endpoint, the MediaConvert stand-in, the
//! Step Functions engine with its API running `statemachine/pipeline.asl.json` filled as infra
//! fills it, every function of `functions/` as an in-process Lambda, the three EventBridge rules
//! of `infra/template.yaml` as event routing (`routing.rs`), and an SNS sink (`topic.rs`).
//! The functions are wired in `functions.rs`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use mediaflow_core::contract::{ContractCheck, Direction};
use mediaflow_core::cors;
use mediaflow_core::statemachine::{self, DEFINITION};
use mediaflow_core::transcription::CaptionSettings;
use mediaflow_endpoint::{ACCOUNT, Credentials, REGION};
use mediaflow_s3::EmbeddedS3;
use mediaflow_standins::mediaconvert::{MediaConvertEndpoint, Settings};
use mediaflow_standins::transcribe::{self, Recognizer, TranscribeEndpoint};
use mediaflow_stepfunctions::StepFunctionsEndpoint;
use mediaflow_stepfunctions::engine::{Definition, Engine, ExecutionStore, Side, StateMachine, TaskCheck};

mod functions;
mod routing;

use functions::functions;

use crate::topic::{Notification, Topic};

pub const APPLICATION: &str = "mediaflow";
/// The state machine's name: `<application>-pipeline`, as infra names it.
pub const PIPELINE: &str = "mediaflow-pipeline";
pub const WATCH_BUCKET: &str = "watch";
pub const PUBLIC_BUCKET: &str = "public";

pub struct Platform {
    pub s3: EmbeddedS3,
    pub sfn: StepFunctionsEndpoint,
    pub mediaconvert: MediaConvertEndpoint,
    pub transcribe: TranscribeEndpoint,
    pub machine_arn: String,
    pub data: PathBuf,
    /// What every request to the endpoints must be signed with.
    pub credentials: Credentials,
    topic: Topic,
}

/// Where things live under the data folder.
pub struct Layout {
    pub buckets: PathBuf,
    pub executions: PathBuf,
    pub jobs: PathBuf,
    pub work: PathBuf,
    /// The Transcribe stand-in's jobs (`jobs/`) and scratch space (`work/`).
    pub transcribe: PathBuf,
    pub notifications: PathBuf,
    /// Each execution's log (`logs.rs`).
    pub logs: PathBuf,
}

impl Layout {
    pub fn of(data: &Path) -> Layout {
        Layout {
            buckets: data.join("s3"),
            executions: data.join("executions"),
            jobs: data.join("mediaconvert"),
            work: data.join("work"),
            transcribe: data.join("transcribe"),
            notifications: data.join("notifications.jsonl"),
            logs: data.join("logs"),
        }
    }
}

/// The recognizer `scripts/ensure-tools` installs in this repository, or the model and Python
/// given by `MEDIAFLOW_RECOGNIZER_MODEL` and `MEDIAFLOW_RECOGNIZER_PYTHON` (a larger Whisper in
/// CTranslate2 form, say: scripts/recognizer/README.md).
fn recognizer() -> Recognizer {
    let mut recognizer = Recognizer::in_repository(Path::new(env!("CARGO_MANIFEST_DIR")));
    if let Some(model) = std::env::var_os("MEDIAFLOW_RECOGNIZER_MODEL") {
        recognizer.model = model.into();
    }
    if let Some(python) = std::env::var_os("MEDIAFLOW_RECOGNIZER_PYTHON") {
        recognizer.python = python.into();
    }
    recognizer
}

/// The pipeline's contracts as the engine's check of every Task's payload and result.
fn contract_check() -> TaskCheck {
    let contracts = ContractCheck::new();
    Arc::new(move |state: &str, side: Side, value: &serde_json::Value| {
        let direction = match side {
            Side::Input => Direction::Payload,
            Side::Output => Direction::Result,
        };
        contracts.check(state, direction, value)
    })
}

/// How to start the platform.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the S3 endpoint listens (port 0: any free port).
    pub s3_addr: SocketAddr,
    /// Where the Step Functions endpoint listens.
    pub sfn_addr: SocketAddr,
    /// An edited video job template: put at [`JOB_TEMPLATE_KEY`] in the watch bucket and used
    /// by build-job, as `JOB_TEMPLATE_KEY` makes it on AWS.
    pub job_template: Option<PathBuf>,
    /// How many MediaConvert jobs transcode at once, and how many invocations of each function
    /// that runs ffmpeg or ffprobe (Probe, SaveFrame, MeasureLoudness) run at once: Lambda's reserved
    /// concurrency on AWS.
    pub transcode_jobs: usize,
    /// Machine captions: the `AutoCaptions` and `CaptionLanguage` parameters of infra.
    pub captions: Captions,
    /// The credentials requests must be signed with, when the user gave them; else the data
    /// folder's (`src/access.rs`).
    pub credentials: Option<Credentials>,
}

/// What `process` and `serve` both take to run the pipeline, as their flags.
#[derive(clap::Args, Clone, Debug)]
pub struct PipelineArgs {
    /// An edited MediaConvert job template (job.json) to use for video, as on AWS.
    #[arg(long)]
    pub job_template: Option<PathBuf>,
    /// How many transcodes (and ffmpeg/ffprobe functions) run at once; default: the cores.
    #[arg(long)]
    pub transcode_jobs: Option<usize>,
    #[command(flatten)]
    pub captions: Captions,
}

impl PipelineArgs {
    /// The platform's options these flags give, the endpoints where [`Options::default`] has them.
    pub fn options(&self) -> Options {
        let defaults = Options::default();
        Options {
            job_template: self.job_template.clone(),
            transcode_jobs: self.transcode_jobs.unwrap_or(defaults.transcode_jobs),
            captions: self.captions.clone(),
            ..defaults
        }
    }
}

/// `--auto-captions` and `--caption-language`, for every command that runs the pipeline.
#[derive(clap::Args, Clone, Debug)]
pub struct Captions {
    /// Machine captions for every upload with sound, by a local recognizer standing in for
    /// Amazon Transcribe (closed-caption/<path>/<stem>.<language>.auto.vtt).
    #[arg(long = "auto-captions")]
    pub enabled: bool,
    /// The captions' language (a Transcribe code: en-US), or `auto` to identify it; the local
    /// recognizer's model (Whisper tiny.en) knows English only.
    #[arg(long = "caption-language", default_value = mediaflow_core::transcription::DEFAULT_LANGUAGE)]
    pub language: String,
}

impl Captions {
    /// The settings the auto-captions function runs with, as infra's parameters make them.
    pub fn settings(&self) -> Result<CaptionSettings, mediaflow_core::Error> {
        Ok(CaptionSettings { enabled: self.enabled, language: self.language.parse()?, application: APPLICATION.into() })
    }
}

impl Default for Captions {
    fn default() -> Self {
        Captions { enabled: false, language: mediaflow_core::transcription::DEFAULT_LANGUAGE.into() }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            s3_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            sfn_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            job_template: None,
            transcode_jobs: mediaflow_standins::mediaconvert::default_jobs(),
            captions: Captions::default(),
            credentials: None,
        }
    }
}

/// Where an edited job template goes in the watch bucket.
pub const JOB_TEMPLATE_KEY: &str = ".mediaflow/job.json";

impl Platform {
    /// What the console reads and drives: this platform's APIs.
    pub fn console_backend(&self) -> crate::console::Backend {
        crate::console::Backend {
            sfn: self.sfn.service().clone(),
            machine_arn: self.machine_arn.clone(),
            s3: self.s3.client(),
            s3_endpoint: self.s3.endpoint(),
            logs: Layout::of(&self.data).logs,
            watch_bucket: WATCH_BUCKET.into(),
            public_bucket: PUBLIC_BUCKET.into(),
        }
    }

    /// Starts everything over `data`.
    pub async fn start(data: &Path, options: &Options) -> Result<Platform> {
        let (s3_addr, sfn_addr) = (options.s3_addr, options.sfn_addr);
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let data = data.canonicalize()?;
        let layout = Layout::of(&data);
        crate::logs::keep_in(layout.logs.clone());
        let credentials = crate::access::credentials(options.credentials.clone(), &data, &[s3_addr, sfn_addr])?;
        let s3 = EmbeddedS3::start_with(&layout.buckets, &[WATCH_BUCKET, PUBLIC_BUCKET], s3_addr, credentials.clone())
            .await
            .context("starting the S3 endpoint (is another mediaflow serve running? pick another --s3)")?;
        // The template's CORS rules, for pages served on this machine (the console).
        s3.set_cors(WATCH_BUCKET, cors::watch_rules(cors::local_origins()))?;
        s3.set_cors(PUBLIC_BUCKET, cors::public_rules(cors::local_origins()))?;
        let settings = Settings {
            jobs_dir: Some(layout.jobs.clone()),
            max_jobs: options.transcode_jobs,
            credentials: credentials.clone(),
            ..Settings::new(s3.client(), layout.work.clone())
        };
        let mediaconvert = MediaConvertEndpoint::start(settings, "127.0.0.1:0".parse()?)
            .await
            .with_context(|| format!("reading the MediaConvert jobs kept in {}", layout.jobs.display()))?;
        let captions = options.captions.settings().context("--caption-language")?;
        let recognizer = recognizer();
        if captions.enabled
            && let Some(missing) = recognizer.missing().first()
        {
            anyhow::bail!(
                "--auto-captions runs a local recognizer, and {} is missing: run scripts/ensure-tools",
                missing.display()
            );
        }
        let transcribe_settings = transcribe::Settings {
            jobs_dir: Some(layout.transcribe.join("jobs")),
            credentials: credentials.clone(),
            ..transcribe::Settings::new(s3.client(), layout.transcribe.join("work"), Some(recognizer))
        };
        let transcribe = TranscribeEndpoint::start(transcribe_settings, "127.0.0.1:0".parse()?)
            .await
            .with_context(|| format!("reading the Transcribe jobs kept in {}", layout.transcribe.display()))?;
        if let Some(template) = &options.job_template {
            let body = aws_sdk_s3::primitives::ByteStream::from_path(template)
                .await
                .with_context(|| format!("reading the job template {}", template.display()))?;
            s3.client().put_object().bucket(WATCH_BUCKET).key(JOB_TEMPLATE_KEY).body(body).send().await?;
        }

        let arns = statemachine::arns(REGION, ACCOUNT, APPLICATION);
        let filled = statemachine::fill(DEFINITION, &arns)?;
        let machine = StateMachine::new(PIPELINE, Definition::parse(&filled)?);
        let topic = Topic::new(layout.notifications.clone());

        // The API's listener is bound first: await-mediaconvert answers task tokens through the
        // API, as it does on AWS, so its client is made before the engine that runs it.
        let sfn_listener = tokio::net::TcpListener::bind(sfn_addr)
            .await
            .with_context(|| format!("binding the Step Functions endpoint to {sfn_addr}"))?;
        let sfn_client = mediaflow_stepfunctions::client_of(sfn_listener.local_addr()?, &credentials);
        let template_key = options.job_template.as_ref().map(|_| JOB_TEMPLATE_KEY.to_string());
        let limit = options.transcode_jobs.max(1);
        let stand_ins = functions::StandIns { mediaconvert: &mediaconvert, transcribe: &transcribe };
        let registry = functions(&arns, &s3, &sfn_client, stand_ins, template_key, topic.clone(), limit, captions);
        let store = ExecutionStore::new(&layout.executions);
        let engine = Engine::build(registry, Some(contract_check()), Some(store.clone()));
        let sfn = StepFunctionsEndpoint::serve(sfn_listener, engine, Some(store), credentials.clone())?;
        let machine_arn = machine.arn.clone();
        sfn.service().register(machine, &filled);

        let platform = Platform { s3, sfn, mediaconvert, transcribe, machine_arn, data, credentials, topic };
        platform.route();
        // What an earlier process left running goes on, now that every event has its route.
        let executions = platform.sfn.service().resume_kept();
        let jobs = platform.mediaconvert.resume();
        let transcriptions = platform.transcribe.resume();
        if !executions.is_empty() || !jobs.is_empty() || !transcriptions.is_empty() {
            eprintln!(
                "mediaflow: resumed {} execution(s), {} MediaConvert job(s) and {} Transcribe job(s) left running by an earlier process",
                executions.len(),
                jobs.len(),
                transcriptions.len()
            );
        }
        Ok(platform)
    }

    /// What the topic has received from this process so far.
    pub fn notifications(&self) -> Vec<Notification> {
        self.topic.received()
    }

    /// Changes each time the topic receives a notification.
    pub fn heard(&self) -> tokio::sync::watch::Receiver<usize> {
        self.topic.heard()
    }

    /// Waits, ten seconds at most, for the topic to hear that `execution` ended in `status`: the
    /// failure rule's notice follows the status change through the platform's bus, after what
    /// the bus was delivering (each delivery takes milliseconds).
    pub async fn told(&self, execution: &str, status: &str) {
        let mut heard = self.topic.heard();
        let said = |_: &usize| self.notifications().iter().any(|n| n.execution == execution && n.status == status);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), heard.wait_for(said)).await;
    }
}
