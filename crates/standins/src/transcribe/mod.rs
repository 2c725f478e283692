//! The Transcribe stand-in: the AWS JSON 1.1 endpoint `aws-sdk-transcribe` talks to
//! (`StartTranscriptionJob`, `GetTranscriptionJob`, `ListTranscriptionJobs`), each job's sound
//! decoded with ffmpeg and recognized by a local Whisper model (see [`recognizer`]), its
//! transcript and subtitles written through S3 where Amazon Transcribe writes them, with
//! `Transcribe Job State Change` events shaped as Transcribe's. Every request must be signed
//! (SigV4) with [`Settings::credentials`].
//!
//! A request the recognizer cannot serve is refused at the start, as Transcribe refuses a
//! language it lacks: `BadRequestException` with a message starting `LanguageUnsupported:`
//! (a language the model does not have, or identification by a model of one language) or
//! `RecognizerUnavailable:` (no recognizer installed, or it would not start).
//!
//! At most [`Settings::max_jobs`] jobs run at once (the recognizer already uses every core);
//! the rest wait, IN_PROGRESS as on Transcribe. Jobs are kept under [`Settings::jobs_dir`] as
//! their status changes, and [`TranscribeEndpoint::resume`] runs again, from the start, each
//! job a previous process left IN_PROGRESS. Dropping the endpoint ends its jobs and its
//! recognizer, as the end of the process would.

mod api;
mod event;
mod job;
mod recognizer;
mod run;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;

pub use api::{ApiError, ErrorKind};
pub use event::{JobStateChangeDetail, JobStateChangeEvent};
pub use job::JobStatus;
pub use recognizer::Recognizer;

/// The SDK crate [`TranscribeEndpoint::client`]'s client comes from, for callers naming its
/// types (`types::Media`, `types::Subtitles`, …) without depending on it themselves.
pub use aws_sdk_transcribe as sdk;

use job::{Job, JobSpec, Language};
use mediaflow_endpoint::{Credentials, Feed};
use recognizer::Worker;

/// How the stand-in reaches media and outputs, and what it runs.
pub struct Settings {
    /// Media is read and outputs written through this client.
    pub s3: aws_sdk_s3::Client,
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// The speech recognizer; `None` when it is not installed (every start is then refused,
    /// `RecognizerUnavailable`).
    pub recognizer: Option<Recognizer>,
    /// Scratch space for the decoded sound; emptied at start, and each job's part after it.
    pub work_dir: PathBuf,
    /// Where jobs are kept (`<name>.json`); `None` keeps them in memory only.
    pub jobs_dir: Option<PathBuf>,
    /// How many jobs run at once.
    pub max_jobs: usize,
    /// Seconds of sound the recognizer is given at a time (the media is decoded in chunks of
    /// this length, whose words are timed from the chunk's start): what it holds in memory
    /// stays bounded whatever the media's length. [`CHUNK_SECONDS`] unless a test cuts shorter.
    pub chunk_seconds: u32,
    /// What every request must be signed with (SigV4).
    pub credentials: Credentials,
}

/// Ten minutes: long enough that few words are cut at a chunk's end, short enough that the
/// recognizer's memory stays small.
pub const CHUNK_SECONDS: u32 = 600;

impl Settings {
    /// Jobs in memory, one at a time, ffmpeg and ffprobe from PATH.
    pub fn new(s3: aws_sdk_s3::Client, work_dir: PathBuf, recognizer: Option<Recognizer>) -> Settings {
        Settings {
            s3,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            recognizer,
            work_dir,
            jobs_dir: None,
            max_jobs: 1,
            chunk_seconds: CHUNK_SECONDS,
            credentials: Credentials::random(),
        }
    }
}

/// The endpoint's operations, called in-process.
#[derive(Clone)]
pub struct Operations(Arc<Service>);

/// Each takes its input as the API does (PascalCase members: the state machine's SDK
/// integration passes its `Parameters`) and answers as the API does (epoch-second numbers for
/// times).
impl Operations {
    pub async fn start_transcription_job(&self, input: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        api::call(&self.0, api::Operation::StartTranscriptionJob(api::read(input)?)).await
    }

    pub async fn get_transcription_job(&self, input: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        api::call(&self.0, api::Operation::GetTranscriptionJob(api::read(input)?)).await
    }
}

/// A running endpoint. Dropping it stops the server, its jobs and its recognizer.
pub struct TranscribeEndpoint {
    addr: SocketAddr,
    service: Arc<Service>,
    _stop: oneshot::Sender<()>,
}

/// How a run ended: what it found, or its `FailureReason`.
type Outcome = Result<run::Done, String>;

struct Service {
    settings: Settings,
    jobs: Mutex<BTreeMap<String, Job>>,
    events: Feed<JobStateChangeEvent>,
    /// One permit per job that may run now.
    slots: Semaphore,
    recognizer: Option<Worker>,
    /// The running jobs, ended with the endpoint.
    tasks: Mutex<JoinSet<()>>,
    /// Set when the endpoint is dropped: a job started after that (through [`Operations`]) is
    /// kept, to be resumed, but not run.
    stopped: AtomicBool,
}

impl TranscribeEndpoint {
    /// Serves on `addr` (port 0 picks a free one); see [`TranscribeEndpoint::serve`].
    pub async fn start(settings: Settings, addr: SocketAddr) -> std::io::Result<TranscribeEndpoint> {
        TranscribeEndpoint::serve(TcpListener::bind(addr).await?, settings)
    }

    /// Serves on a listener bound beforehand (its address, and clients of it, known before the
    /// endpoint is), with the jobs kept in `settings.jobs_dir`; none runs until
    /// [`TranscribeEndpoint::resume`].
    pub fn serve(listener: TcpListener, settings: Settings) -> std::io::Result<TranscribeEndpoint> {
        let _ = std::fs::remove_dir_all(&settings.work_dir);
        std::fs::create_dir_all(&settings.work_dir)?;
        // The recognizer is given the chunks' paths from wherever it runs.
        let settings = Settings { work_dir: settings.work_dir.canonicalize()?, ..settings };
        let jobs = match &settings.jobs_dir {
            Some(dir) => job::load_all(dir)?,
            None => BTreeMap::new(),
        };
        let service = Arc::new(Service {
            slots: Semaphore::new(settings.max_jobs.max(1)),
            recognizer: settings.recognizer.clone().map(Worker::new),
            settings,
            jobs: Mutex::new(jobs),
            events: Feed::default(),
            tasks: Mutex::default(),
            stopped: AtomicBool::new(false),
        });
        let addr = listener.local_addr()?;
        let credentials = service.settings.credentials.clone();
        let router = mediaflow_endpoint::sigv4::require(api::router(service.clone()), credentials, "transcribe");
        let stop = mediaflow_endpoint::listener::serve_router(listener, router, |_| {});
        Ok(TranscribeEndpoint { addr, service, _stop: stop })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_TRANSCRIBE`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A Transcribe client for this endpoint, signing with its credentials.
    pub fn client(&self) -> aws_sdk_transcribe::Client {
        let config = mediaflow_endpoint::sdk_config(self.endpoint(), &self.service.settings.credentials);
        aws_sdk_transcribe::Client::new(&config)
    }

    /// Runs again, from the start, every kept job that had not ended; returns their names.
    pub fn resume(&self) -> Vec<String> {
        let unfinished: Vec<String> = {
            let jobs = self.service.jobs.lock().unwrap();
            jobs.values().filter(|j| j.status == JobStatus::InProgress).map(|j| j.spec.name.clone()).collect()
        };
        for name in &unfinished {
            self.service.spawn(name.clone());
        }
        unfinished
    }

    /// The operations in-process, for a caller in the same process (the state machine's SDK
    /// integration): the same answers and errors an HTTP client gets.
    pub fn operations(&self) -> Operations {
        Operations(self.service.clone())
    }

    /// Every job state change from now on (Transcribe sends one when a job ends).
    pub fn events(&self) -> mpsc::UnboundedReceiver<JobStateChangeEvent> {
        self.service.events.subscribe()
    }
}

impl Drop for TranscribeEndpoint {
    fn drop(&mut self) {
        self.service.stopped.store(true, Ordering::SeqCst);
        self.service.tasks.lock().unwrap().abort_all();
        if let Some(worker) = &self.service.recognizer {
            worker.stop();
        }
    }
}

/// Transcribe's answer to a start with a name it has seen.
fn name_taken() -> ApiError {
    ApiError {
        kind: api::ErrorKind::ConflictException,
        message: "The requested job name already exists. Use a different job name.".into(),
    }
}

impl Service {
    fn job(&self, name: &str) -> Option<Job> {
        self.jobs.lock().unwrap().get(name).cloned()
    }

    fn all_jobs(&self) -> Vec<Job> {
        self.jobs.lock().unwrap().values().cloned().collect()
    }

    fn conflict(&self, name: &str) -> Result<(), ApiError> {
        if self.jobs.lock().unwrap().contains_key(name) {
            return Err(name_taken());
        }
        Ok(())
    }

    /// StartTranscriptionJob: the job, IN_PROGRESS, once the recognizer is known to serve it
    /// and its media is there.
    async fn start_job(self: &Arc<Self>, spec: JobSpec) -> Result<Job, ApiError> {
        self.conflict(&spec.name)?;
        let worker = self.recognizer.as_ref().ok_or_else(|| {
            ApiError::bad_request(
                "RecognizerUnavailable: no speech recognizer is set up for the local Transcribe \
                 (scripts/ensure-tools installs one into .tools/recognizer)",
            )
        })?;
        let ready = worker.ready().await.map_err(|failure| ApiError::bad_request(failure.to_string()))?;
        recognizer::check_language(&ready, &spec.language).map_err(ApiError::bad_request)?;
        let head = self.settings.s3.head_object().bucket(&spec.media.bucket).key(&spec.media.key).send().await;
        if let Err(error) = head {
            tracing::info!(job = %spec.name, media = %spec.media_file_uri, error = %aws_sdk_s3::error::DisplayErrorContext(&error), "media not readable");
            return Err(ApiError::bad_request(
                "The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your \
                 request again.",
            ));
        }
        let job = Job {
            language_code: match &spec.language {
                Language::Code(code) => Some(code.clone()),
                Language::Identify(_) => None,
            },
            spec,
            status: JobStatus::InProgress,
            created: Utc::now(),
            completed: None,
            failure_reason: None,
            detected: Default::default(),
        };
        {
            let mut jobs = self.jobs.lock().unwrap();
            // Another start of this name may have come through while this one waited.
            if jobs.contains_key(&job.spec.name) {
                return Err(name_taken());
            }
            job::keep(self.settings.jobs_dir.as_deref(), &job);
            jobs.insert(job.spec.name.clone(), job.clone());
        }
        tracing::info!(job = %job.spec.name, media = %job.spec.media_file_uri, "transcription job started");
        self.spawn(job.spec.name.clone());
        Ok(job)
    }

    /// Runs job `name` as one of the endpoint's tasks.
    fn spawn(self: &Arc<Self>, name: String) {
        let mut tasks = self.tasks.lock().unwrap();
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        while tasks.try_join_next().is_some() {}
        tasks.spawn(run::run(self.clone(), name));
    }

    /// Records how job `name` ended, keeps it, and tells it.
    fn finish(&self, name: &str, outcome: Outcome) {
        let ended = {
            let mut jobs = self.jobs.lock().unwrap();
            let Some(job) = jobs.get_mut(name) else { return };
            job.completed = Some(Utc::now());
            match outcome {
                Ok(done) => {
                    job.status = JobStatus::Completed;
                    job.language_code = Some(done.language_code);
                    job.detected = done.detected;
                }
                Err(reason) => {
                    job.status = JobStatus::Failed;
                    job.failure_reason = Some(reason);
                }
            }
            job.clone()
        };
        job::keep(self.settings.jobs_dir.as_deref(), &ended);
        self.events.send(&JobStateChangeEvent::new(JobStateChangeDetail {
            transcription_job_name: ended.spec.name.clone(),
            transcription_job_status: ended.status,
            failure_reason: ended.failure_reason.clone(),
        }));
    }
}
