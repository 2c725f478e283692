//! The whole pipeline on one machine: the embedded S3 endpoint, the MediaConvert stand-in, the
//! Step Functions engine with its API running `statemachine/pipeline.asl.json` filled as infra
//! fills it, every function of `functions/` as an in-process Lambda, the three EventBridge rules
//! of `infra/template.yaml` as event routing, and an SNS sink (`topic.rs`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use lambda_runtime::Diagnostic;
use mediaflow_core::cors;
use mediaflow_core::routing::{execution_failed_pattern, job_state_pattern, matches, upload_pattern};
use mediaflow_core::statemachine::{self, DEFINITION};
use mediaflow_local::engine::{
    Definition, Engine, ExecutionStore, Handler, Registry, StateMachine, contracts, handler, lambda_failure,
};
use mediaflow_local::mediaconvert::{MediaConvertEndpoint, Settings};
use mediaflow_local::{ACCOUNT, REGION};
use mediaflow_local::{EmbeddedS3, StepFunctionsEndpoint};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::topic::{Notification, Topic};
use serde_json::Value;

pub const APPLICATION: &str = "mediaflow";
/// The state machine's name: `<application>-pipeline`, as infra names it.
pub const PIPELINE: &str = "mediaflow-pipeline";
pub const WATCH_BUCKET: &str = "watch";
pub const PUBLIC_BUCKET: &str = "public";

pub struct Platform {
    pub s3: EmbeddedS3,
    pub sfn: StepFunctionsEndpoint,
    pub mediaconvert: MediaConvertEndpoint,
    pub machine_arn: String,
    pub data: PathBuf,
    topic: Topic,
}

/// Where things live under the data folder.
pub struct Layout {
    pub buckets: PathBuf,
    pub executions: PathBuf,
    pub jobs: PathBuf,
    pub work: PathBuf,
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
            notifications: data.join("notifications.jsonl"),
            logs: data.join("logs"),
        }
    }
}

/// The repository's `schemas/`, for the engine's contract check: from the working directory, or
/// beside this source tree when run from the repository.
fn schemas_dir() -> Option<PathBuf> {
    [PathBuf::from("schemas"), Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")]
        .into_iter()
        .find(|p| p.join("ClassifyOutput.json").exists())
}

/// How to start the platform.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the S3 endpoint listens (port 0: any free port).
    pub s3_addr: String,
    /// Where the Step Functions endpoint listens.
    pub sfn_addr: String,
    /// An edited video job template: put at [`JOB_TEMPLATE_KEY`] in the watch bucket and used
    /// by build-job, as `JOB_TEMPLATE_KEY` makes it on AWS.
    pub job_template: Option<PathBuf>,
    /// How many MediaConvert jobs transcode at once, and how many invocations of each function
    /// that runs ffmpeg or ffprobe (Probe, SaveFrame) run at once: Lambda's reserved
    /// concurrency on AWS.
    pub transcode_jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            s3_addr: "127.0.0.1:0".into(),
            sfn_addr: "127.0.0.1:0".into(),
            job_template: None,
            transcode_jobs: mediaflow_local::mediaconvert::default_jobs(),
        }
    }
}

/// Where an edited job template goes in the watch bucket.
pub const JOB_TEMPLATE_KEY: &str = ".mediaflow/job.json";

impl Platform {
    /// What the console reads and drives: this platform's APIs.
    pub fn console_backend(&self) -> crate::console::Backend {
        crate::console::Backend {
            sfn: self.sfn.operations(),
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
        let (s3_addr, sfn_addr) = (options.s3_addr.as_str(), options.sfn_addr.as_str());
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let data = data.canonicalize()?;
        let layout = Layout::of(&data);
        crate::logs::keep_in(layout.logs.clone());
        let s3 = EmbeddedS3::start(&layout.buckets, &[WATCH_BUCKET, PUBLIC_BUCKET], s3_addr.parse()?)
            .await
            .context("starting the S3 endpoint (is another mediaflow serve running? pick another --s3)")?;
        // The template's CORS rules, for pages served on this machine (the console).
        s3.set_cors(WATCH_BUCKET, cors::watch_rules(cors::local_origins()))?;
        s3.set_cors(PUBLIC_BUCKET, cors::public_rules(cors::local_origins()))?;
        let settings = Settings {
            jobs_dir: Some(layout.jobs.clone()),
            max_jobs: options.transcode_jobs,
            ..Settings::new(s3.client(), layout.work.clone())
        };
        let mediaconvert = MediaConvertEndpoint::start(settings, "127.0.0.1:0".parse()?)
            .await
            .with_context(|| format!("reading the MediaConvert jobs kept in {}", layout.jobs.display()))?;
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

        // The engine and the API come up first: await-mediaconvert answers task tokens through
        // the API, as it does on AWS.
        let (registry_slot, registry) = RegistrySlot::new(&arns);
        let check = match schemas_dir() {
            Some(dir) => Some(contracts::pipeline_check(&dir).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let store = ExecutionStore::new(&layout.executions);
        let engine = Engine::build(registry, check, Some(store.clone()));
        let sfn = StepFunctionsEndpoint::start(engine, Some(store), sfn_addr.parse()?).await?;
        let machine_arn = machine.arn.clone();
        sfn.register(machine, &filled);
        let template_key = options.job_template.as_ref().map(|_| JOB_TEMPLATE_KEY.to_string());
        let limit = options.transcode_jobs.max(1);
        registry_slot.fill(functions(&arns, &s3, &sfn, &mediaconvert, template_key, topic.clone(), limit));

        let platform = Platform { s3, sfn, mediaconvert, machine_arn, data, topic };
        platform.route();
        // What an earlier process left running goes on, now that every event has its route.
        let executions = platform.sfn.resume_kept();
        let jobs = platform.mediaconvert.resume();
        if !executions.is_empty() || !jobs.is_empty() {
            eprintln!(
                "mediaflow: resumed {} execution(s) and {} MediaConvert job(s) left running by an earlier process",
                executions.len(),
                jobs.len()
            );
        }
        Ok(platform)
    }

    /// The rules of `infra/template.yaml`: uploads under `inputs/` start an execution; this
    /// application's job state changes go to await-mediaconvert's complete entry point; an
    /// execution that ends without success is told to the topic.
    fn route(&self) {
        let mut uploads = self.s3.events();
        let sfn = self.sfn.client();
        let machine = self.machine_arn.clone();
        let pattern = upload_pattern(WATCH_BUCKET);
        tokio::spawn(async move {
            while let Some(event) = uploads.recv().await {
                let json = serde_json::to_value(&event).expect("events serialise");
                if !matches(&pattern, &json).unwrap_or(false) {
                    continue;
                }
                let started = sfn
                    .start_execution()
                    .state_machine_arn(&machine)
                    .name(uuid::Uuid::new_v4().to_string())
                    .input(json.to_string())
                    .send()
                    .await;
                if let Err(e) = started {
                    eprintln!("mediaflow: could not start an execution for {}: {e}", event.detail.object.key);
                }
            }
        });
        let mut jobs = self.mediaconvert.events();
        let clients = Arc::new(await_clients(&self.s3, &self.sfn, &self.mediaconvert));
        let pattern = job_state_pattern(APPLICATION);
        tokio::spawn(async move {
            while let Some(event) = jobs.recv().await {
                let json = serde_json::to_value(&event).expect("events serialise");
                if matches(&pattern, &json).unwrap_or(false)
                    && let Err(e) = await_mediaconvert::complete(event, &clients).await
                {
                    eprintln!("mediaflow: await-mediaconvert could not answer a job event: {e}");
                }
            }
        });
        let mut statuses = self.sfn.events();
        let pattern = execution_failed_pattern(&self.machine_arn);
        let topic = self.topic.clone();
        tokio::spawn(async move {
            while let Some(event) = statuses.recv().await {
                let json = serde_json::to_value(&event).expect("events serialise");
                if matches(&pattern, &json).unwrap_or(false) {
                    topic.publish(Notification {
                        subject: None,
                        status: event.detail.status,
                        execution: event.detail.name,
                        message: json,
                    });
                }
            }
        });
    }

    /// What the topic has received from this process so far.
    pub fn notifications(&self) -> Vec<Notification> {
        self.topic.received()
    }

    /// Waits, a second at most, for the topic to hear that `execution` ended in `status`: the
    /// failure rule's notice follows the status change on a task of its own.
    pub async fn told(&self, execution: &str, status: &str) {
        for _ in 0..100 {
            if self.notifications().iter().any(|n| n.execution == execution && n.status == status) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// The registry is built after the API is up (await-mediaconvert needs its address), but the
/// engine is made with it: handlers look their function up here when called.
struct RegistrySlot(Arc<Mutex<Option<Registry>>>);

impl RegistrySlot {
    fn new(arns: &std::collections::BTreeMap<String, String>) -> (RegistrySlot, Registry) {
        let slot: Arc<Mutex<Option<Registry>>> = Arc::default();
        let mut registry = Registry::default();
        for (placeholder, _) in statemachine::FUNCTION_PLACEHOLDERS {
            let (slot, name) = (slot.clone(), arns[*placeholder].clone());
            registry.function(&arns[*placeholder], forward(slot, move |r: &Registry| r.find_function(&name).cloned()));
        }
        let sns = mediaflow_local::engine::definition::SNS_PUBLISH;
        registry.service(sns, forward(slot.clone(), move |r: &Registry| r.find_service(sns).cloned()));
        (RegistrySlot(slot), registry)
    }

    fn fill(&self, registry: Registry) {
        *self.0.lock().unwrap() = Some(registry);
    }
}

fn forward(
    slot: Arc<Mutex<Option<Registry>>>,
    find: impl Fn(&Registry) -> Option<Handler> + Send + Sync + 'static,
) -> Handler {
    let find = Arc::new(find);
    handler(move |payload: Value| {
        let (slot, find) = (slot.clone(), find.clone());
        async move {
            let target = slot.lock().unwrap().as_ref().and_then(|r| find(r));
            match target {
                Some(h) => h(payload).await,
                None => Err(lambda_failure("Lambda.ResourceNotFoundException", "the platform is still starting")),
            }
        }
    })
}

/// A function's handler as a Lambda: the payload read as its input type, its error's
/// `errorType` and message as the Lambda runtime reports them; with `concurrency`, at most that
/// many invocations at once (Lambda's reserved concurrency), the others waiting their turn
/// (where Lambda would throttle them and Step Functions retry).
fn lambda<I, O, E, Fut>(concurrency: Option<usize>, f: impl Fn(I) -> Fut + Send + Sync + 'static) -> Handler
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize,
    E: Into<Diagnostic>,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
{
    let f = Arc::new(f);
    let slots = concurrency.map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
    handler(move |payload: Value| {
        let (f, slots) = (f.clone(), slots.clone());
        async move {
            let _slot = match &slots {
                Some(s) => Some(s.acquire().await.expect("never closed")),
                None => None,
            };
            // Parsed, run and logged as the functions' own runtime does on Lambda.
            mediaflow_lambda::runtime::invoke(&*f, payload)
                .await
                .map_err(|d| lambda_failure(&d.error_type, &d.error_message))
        }
    })
}

fn await_clients(
    s3: &EmbeddedS3,
    sfn: &StepFunctionsEndpoint,
    mediaconvert: &MediaConvertEndpoint,
) -> await_mediaconvert::Clients {
    await_mediaconvert::Clients {
        s3: s3.client(),
        mediaconvert: mediaconvert.client(),
        sfn: sfn.client(),
        watch_bucket: WATCH_BUCKET.into(),
        destination_bucket: PUBLIC_BUCKET.into(),
        role_arn: mediaflow_core::arn::iam_role(ACCOUNT, &format!("{APPLICATION}-mediaconvert")),
        application: APPLICATION.into(),
    }
}

/// Every function of `functions/`, configured as infra configures them, under its ARN.
fn functions(
    arns: &std::collections::BTreeMap<String, String>,
    s3: &EmbeddedS3,
    sfn: &StepFunctionsEndpoint,
    mediaconvert: &MediaConvertEndpoint,
    video_template_key: Option<String>,
    topic: Topic,
    tool_concurrency: usize,
) -> Registry {
    let arn = |placeholder: &str| arns[placeholder].clone();
    let mut r = Registry::default();

    // Each function with its clients, built once as its main.rs builds them on Lambda; those
    // that run ffmpeg or ffprobe with their reserved concurrency, as infra sets it.
    macro_rules! function {
        ($placeholder:literal, $clients:expr, $handler:path) => {
            function!($placeholder, $clients, $handler, None)
        };
        ($placeholder:literal, $clients:expr, $handler:path, $concurrency:expr) => {{
            let clients = Arc::new($clients);
            r.function(
                &arn($placeholder),
                lambda($concurrency, move |input| {
                    let clients = clients.clone();
                    async move { $handler(input, &clients).await }
                }),
            );
        }};
    }
    let copy_clients = || copy::Clients {
        s3: s3.client(),
        destination_bucket: PUBLIC_BUCKET.into(),
        single_copy_limit: copy::SINGLE_COPY_LIMIT,
        part_bytes: copy::PART_BYTES,
    };
    function!("ClassifyFunctionArn", classify::Clients { s3: s3.client() }, classify::handler);
    function!("AssembleCheckFunctionArn", assemble_check::Clients { s3: s3.client() }, assemble_check::handler);
    function!("ArchiveOriginalFunctionArn", copy_clients(), copy::archive_original);
    function!("CopyMp3FunctionArn", copy_clients(), copy::copy_mp3);
    let tools = Some(tool_concurrency);
    function!("ProbeFunctionArn", probe::Clients { s3: s3.client(), ffprobe: "ffprobe".into() }, probe::handler, tools);
    let build_job = build_job::Clients {
        s3: s3.client(),
        destination_bucket: PUBLIC_BUCKET.into(),
        video_template_key,
        audio_template_key: None,
        price_table_key: None,
    };
    function!("BuildJobFunctionArn", build_job, build_job::handler);
    function!("AwaitMediaConvertFunctionArn", await_clients(s3, sfn, mediaconvert), await_mediaconvert::handler);
    let save_frame = save_frame::Clients {
        s3: s3.client(),
        destination_bucket: PUBLIC_BUCKET.into(),
        ffmpeg: "ffmpeg".into(),
        frame_seconds: mediaflow_core::thumbnail::DEFAULT_FRAME_SECONDS,
    };
    function!("SaveFrameFunctionArn", save_frame, save_frame::handler, tools);
    let save_metadata = save_metadata::Clients { s3: s3.client(), destination_bucket: PUBLIC_BUCKET.into() };
    function!("SaveMetadataFunctionArn", save_metadata, save_metadata::handler);
    function!("PublishFunctionArn", copy_clients(), publish::handler);
    let convert_caption = convert_caption::Clients { s3: s3.client(), destination_bucket: PUBLIC_BUCKET.into() };
    function!("ConvertCaptionFunctionArn", convert_caption, convert_caption::handler);

    r.service(
        mediaflow_local::engine::definition::SNS_PUBLISH,
        handler(move |parameters: Value| {
            let topic = topic.clone();
            async move {
                let message = parameters["Message"]
                    .as_str()
                    .and_then(|m| serde_json::from_str(m).ok())
                    .unwrap_or_else(|| parameters["Message"].clone());
                let attribute = |name: &str| {
                    parameters["MessageAttributes"][name]["StringValue"].as_str().unwrap_or_default().to_string()
                };
                topic.publish(Notification {
                    subject: parameters["Subject"].as_str().map(String::from),
                    status: attribute("status"),
                    execution: attribute("execution"),
                    message,
                });
                Ok(serde_json::json!({"MessageId": uuid::Uuid::new_v4().to_string()}))
            }
        }),
    );
    r
}
