//! The MediaConvert stand-in: the REST endpoint `aws-sdk-mediaconvert` talks to (`CreateJob`,
//! `GetJob`, `ListJobs`), each job run as one ffmpeg process (see [`compile`]) whose outputs
//! are written through the embedded S3, with `MediaConvert Job State Change` events shaped as
//! MediaConvert's. Every request must be signed (SigV4) with [`Settings::credentials`].
//! [`crate::eventbridge`] takes the
//! events to the targets of the EventBridge rules that match them.
//!
//! As in a MediaConvert queue, at most [`Settings::max_jobs`] jobs transcode at once and the
//! rest wait as SUBMITTED. Jobs are kept under [`Settings::jobs_dir`] as their status changes,
//! so a restarted platform knows them, and [`MediaConvertEndpoint::resume`] runs again from
//! the start each job that was SUBMITTED or PROGRESSING when the last process ended.

mod api;
pub mod compile;
mod hls;
mod job;
mod loudness;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use mediaflow_core::contract::{JobStateChangeEvent, OutputGroupDetail};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};

use mediaflow_endpoint::{ACCOUNT, REGION};
use mediaflow_endpoint::{Credentials, Feed};

/// A running endpoint. Dropping it stops the server (jobs already running finish).
pub struct MediaConvertEndpoint {
    addr: SocketAddr,
    service: Arc<Service>,
    _stop: oneshot::Sender<()>,
}

/// How the stand-in reaches its inputs and outputs, and where ffmpeg works.
pub struct Settings {
    /// Inputs are read and outputs written through this client: the embedded S3's in the
    /// platform, any S3 endpoint's in `mediaflow mediaconvert`.
    pub s3: aws_sdk_s3::Client,
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// Scratch space for ffmpeg's output files until they are uploaded; emptied at start, as
    /// nothing in it outlives the process that made it.
    pub work_dir: PathBuf,
    /// Where jobs are kept (`<id>.json`); `None` keeps them in memory only.
    pub jobs_dir: Option<PathBuf>,
    /// How many jobs transcode at once.
    pub max_jobs: usize,
    /// What every request must be signed with (SigV4).
    pub credentials: Credentials,
}

impl Settings {
    /// Jobs in memory, as many at once as the machine has cores, with credentials of its own.
    pub fn new(s3: aws_sdk_s3::Client, work_dir: PathBuf) -> Settings {
        Settings {
            s3,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            work_dir,
            jobs_dir: None,
            max_jobs: default_jobs(),
            credentials: Credentials::random(),
        }
    }
}

/// One job at a time per core: each stand-in job is one ffmpeg that already uses every core
/// for its encodes, so more at once only adds memory.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// A job as `GetJob` summarises it: its first input, status and `jobPercentComplete`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobProgress {
    pub id: String,
    pub input: String,
    pub status: String,
    pub percent: u32,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Job {
    id: String,
    status: String,
    request: Value,
    created: DateTime<Utc>,
    percent: u32,
    error: Option<(i64, String)>,
    output_groups: Vec<OutputGroupDetail>,
}

impl Job {
    fn arn(&self) -> String {
        mediaflow_core::arn::mediaconvert_job(REGION, ACCOUNT, &self.id)
    }

    /// The job as GetJob shows it.
    fn to_json(&self) -> Value {
        let mut job = json!({
            "id": self.id, "arn": self.arn(), "status": self.status,
            "createdAt": self.created.timestamp(),
            "role": self.request["role"], "settings": self.request["settings"],
            "userMetadata": self.request.get("userMetadata").cloned().unwrap_or(json!({})),
            "queue": mediaflow_core::arn::mediaconvert_queue(REGION, ACCOUNT, "Default"),
            "jobPercentComplete": self.percent,
        });
        if let Some((code, message)) = &self.error {
            job["errorCode"] = json!(code);
            job["errorMessage"] = json!(message);
        }
        if !self.output_groups.is_empty() {
            job["outputGroupDetails"] = serde_json::to_value(&self.output_groups).expect("serialises");
        }
        job
    }
}

struct Service {
    settings: Settings,
    jobs: Mutex<BTreeMap<String, Job>>,
    events: Feed<JobStateChangeEvent>,
    /// One permit per job that may transcode now.
    slots: Semaphore,
}

impl MediaConvertEndpoint {
    /// Serves on `addr` with the jobs kept in `settings.jobs_dir`; none runs until
    /// [`MediaConvertEndpoint::resume`] (the platform first routes their events).
    pub async fn start(settings: Settings, addr: SocketAddr) -> std::io::Result<MediaConvertEndpoint> {
        let _ = std::fs::remove_dir_all(&settings.work_dir);
        std::fs::create_dir_all(&settings.work_dir)?;
        let jobs = match &settings.jobs_dir {
            Some(dir) => job::load_all(dir)?,
            None => BTreeMap::new(),
        };
        let slots = Semaphore::new(settings.max_jobs.max(1));
        let credentials = settings.credentials.clone();
        let service = Arc::new(Service { settings, jobs: Mutex::new(jobs), events: Feed::default(), slots });
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let router = mediaflow_endpoint::sigv4::require(api::router(service.clone()), credentials, "mediaconvert");
        let stop = mediaflow_endpoint::listener::serve_router(listener, router, |_| {});
        Ok(MediaConvertEndpoint { addr, service, _stop: stop })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_MEDIACONVERT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs again, from the start, every kept job that had not ended; returns their ids.
    pub fn resume(&self) -> Vec<String> {
        let unfinished: Vec<String> = {
            let mut jobs = self.service.jobs.lock().unwrap();
            jobs.values_mut()
                .filter(|j| matches!(j.status.as_str(), "SUBMITTED" | "PROGRESSING"))
                .map(|j| {
                    (j.status, j.percent) = ("SUBMITTED".into(), 0);
                    j.id.clone()
                })
                .collect()
        };
        for id in &unfinished {
            let service = self.service.clone();
            let id = id.clone();
            tokio::spawn(async move { job::run(&service, &id).await });
        }
        unfinished
    }

    /// Every job state change from now on.
    pub fn events(&self) -> mpsc::UnboundedReceiver<JobStateChangeEvent> {
        self.service.events.subscribe()
    }

    /// A MediaConvert client for this endpoint, signing with its credentials.
    pub fn client(&self) -> aws_sdk_mediaconvert::Client {
        let config = mediaflow_endpoint::sdk_config(self.endpoint(), &self.service.settings.credentials);
        aws_sdk_mediaconvert::Client::new(&config)
    }

    /// Every job so far, oldest first, with how far it has come.
    pub fn jobs(&self) -> Vec<JobProgress> {
        let jobs = self.service.jobs.lock().unwrap();
        let mut all: Vec<&Job> = jobs.values().collect();
        all.sort_by_key(|j| j.created);
        all.into_iter()
            .map(|j| JobProgress {
                id: j.id.clone(),
                input: j.request["settings"]["inputs"][0]["fileInput"].as_str().unwrap_or_default().to_string(),
                status: j.status.to_string(),
                percent: j.percent,
            })
            .collect()
    }
}

impl Service {
    /// CreateJob: a new job (or, for a `clientRequestToken` seen before, that job), started.
    fn create(self: &Arc<Self>, request: Value) -> Value {
        let token = request["clientRequestToken"].as_str().map(str::to_string);
        let mut jobs = self.jobs.lock().unwrap();
        if let Some(token) = &token
            && let Some(existing) = jobs.values().find(|j| j.request["clientRequestToken"].as_str() == Some(token))
        {
            return existing.to_json();
        }
        let created = Utc::now();
        let id = format!("{}-{}", created.timestamp_millis(), &uuid::Uuid::new_v4().simple().to_string()[..6]);
        let job = Job {
            id: id.clone(),
            status: "SUBMITTED".into(),
            request,
            created,
            percent: 0,
            error: None,
            output_groups: Vec::new(),
        };
        let shown = job.to_json();
        job::keep(&self.settings, &job);
        jobs.insert(id.clone(), job);
        drop(jobs);
        let service = self.clone();
        tokio::spawn(async move { job::run(&service, &id).await });
        shown
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Job)) -> Option<Job> {
        let mut jobs = self.jobs.lock().unwrap();
        let job = jobs.get_mut(id)?;
        change(job);
        Some(job.clone())
    }

    /// Sends `Job State Change` for `job` as it is now.
    fn announce(&self, job: &Job, status: &str) {
        let mut detail = json!({
            "timestamp": Utc::now().timestamp_millis(), "accountId": ACCOUNT,
            "queue": mediaflow_core::arn::mediaconvert_queue(REGION, ACCOUNT, "Default"),
            "jobId": job.id, "status": status,
            "userMetadata": job.request.get("userMetadata").cloned().unwrap_or(json!({})),
        });
        match status {
            "COMPLETE" => {
                detail["outputGroupDetails"] = serde_json::to_value(&job.output_groups).expect("serialises");
            }
            "ERROR" => {
                if let Some((code, message)) = &job.error {
                    detail["errorCode"] = json!(code);
                    detail["errorMessage"] = json!(message);
                }
            }
            "STATUS_UPDATE" => detail["jobProgress"] = json!({"jobPercentComplete": job.percent}),
            _ => {}
        }
        let event = json!({
            "version": "0", "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "MediaConvert Job State Change", "source": "aws.mediaconvert",
            "account": ACCOUNT, "time": Utc::now().to_rfc3339(), "region": REGION,
            "resources": [job.arn()], "detail": detail,
        });
        let event: JobStateChangeEvent = serde_json::from_value(event).expect("the event meets its contract");
        self.events.send(&event);
    }
}
