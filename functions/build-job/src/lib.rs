//! BuildJob: the MediaConvert job for one upload. The template is the compiled-in
//! `infra/job.json` (`infra/job-audio.json` for sound only), or an object in the watch bucket
//! that users edit (`JOB_TEMPLATE_KEY`, `AUDIO_JOB_TEMPLATE_KEY`).

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetKind, JobPlan, MediaInput};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::plan::{PlanConfig, job_for, template_for};
use mediaflow_core::templates;
use mediaflow_lambda::{AwsFailure, aws_failure, collect};
use serde_json::Value;

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub destination_bucket: String,
    /// Keys in the watch bucket of templates that replace the compiled-in ones.
    pub video_template_key: Option<String>,
    pub audio_template_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Core(#[from] mediaflow_core::Error),
    #[error("BuildJob makes jobs for video and audio, not {0:?}")]
    NotMedia(AssetKind),
    #[error("the job template s3://{bucket}/{key} is not JSON: {message}")]
    TemplateNotJson { bucket: String, key: String, message: String },
    #[error(
        "the configured job template s3://{bucket}/{key} does not exist: upload it there, or unset JOB_TEMPLATE_KEY / AUDIO_JOB_TEMPLATE_KEY to use the shipped one"
    )]
    TemplateMissing { bucket: String, key: String },
    #[error("S3 {0}")]
    S3(#[from] AwsFailure),
}

impl Error {
    pub fn name(&self) -> ErrorName {
        match self {
            Error::Core(e) => e.name(),
            Error::NotMedia(_) => ErrorName::InvalidInput,
            Error::TemplateNotJson { .. } => ErrorName::InvalidTemplate,
            Error::TemplateMissing { .. } => ErrorName::Configuration,
            Error::S3(f) => f.name,
        }
    }
}

mediaflow_lambda::lambda_error!(Error);

pub async fn handler(input: MediaInput, clients: &Clients) -> Result<JobPlan, Error> {
    let MediaInput { source, asset, probe } = input;
    if !matches!(asset.kind, AssetKind::Video | AssetKind::Audio) {
        return Err(Error::NotMedia(asset.kind));
    }
    let key = SourceKey::parse(&source.key)?;
    let (name, shipped) = template_for(&probe);
    let override_key =
        if name == templates::VIDEO_NAME { &clients.video_template_key } else { &clients.audio_template_key };
    let (name, template) = match override_key {
        Some(k) => (format!("s3://{}/{k}", source.bucket), load_template(clients, &source.bucket, k).await?),
        None => (name.to_string(), shipped),
    };
    let config = PlanConfig {
        watch_bucket: source.bucket.clone(),
        public_bucket: clients.destination_bucket.clone(),
        frame_seconds: mediaflow_core::thumbnail::DEFAULT_FRAME_SECONDS,
        staging: Some(mediaflow_core::publish::staging_prefix(&source)),
    };
    Ok(job_for(&key, &probe, &name, &template, &config)?)
}

async fn load_template(clients: &Clients, bucket: &str, key: &str) -> Result<Value, Error> {
    let got = clients.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| {
        if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
            Error::TemplateMissing { bucket: bucket.to_string(), key: key.to_string() }
        } else {
            aws_failure("GetObject", e).into()
        }
    })?;
    let bytes = collect("GetObject", got.body).await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::TemplateNotJson {
        bucket: bucket.to_string(),
        key: key.to_string(),
        message: e.to_string(),
    })
}
