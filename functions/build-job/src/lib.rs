//! BuildJob: the MediaConvert job for one upload, with what it will cost. The template is the
//! compiled-in `infra/job.json` (`infra/job-audio.json` for sound only), or an object in the
//! watch bucket that users edit (`JOB_TEMPLATE_KEY`, `AUDIO_JOB_TEMPLATE_KEY`); the price table
//! likewise `infra/mediaconvert-prices.json` or their own (`PRICE_TABLE_KEY`).

use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AssetKind, JobPlan, MediaInput};
use mediaflow_core::cost::PriceTable;
use mediaflow_core::keys::SourceKey;
use mediaflow_core::plan::{PlanConfig, job_for, template_for};
use mediaflow_core::templates;
use mediaflow_lambda::{Shared, aws_failure, collect};
use serde_json::Value;

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub destination_bucket: String,
    /// Keys in the watch bucket of templates that replace the compiled-in ones.
    pub video_template_key: Option<String>,
    pub audio_template_key: Option<String>,
    /// Key in the watch bucket of a price table that replaces the shipped one.
    pub price_table_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("BuildJob makes jobs for video and audio, not {0:?}")]
    NotMedia(AssetKind),
    #[error("the job template s3://{bucket}/{key} is not JSON: {message}")]
    TemplateNotJson { bucket: String, key: String, message: String },
    #[error(
        "the configured {what} s3://{bucket}/{key} does not exist: upload it there, or unset {setting} to use the shipped one"
    )]
    Missing { what: &'static str, setting: &'static str, bucket: String, key: String },
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::NotMedia(_) => ErrorName::InvalidInput,
    Error::TemplateNotJson { .. } => ErrorName::InvalidTemplate,
    Error::Missing { .. } => ErrorName::Configuration,
});

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
    let prices = match &clients.price_table_key {
        Some(k) => {
            let bytes = load(clients, &source.bucket, k, "price table", "PRICE_TABLE_KEY").await?;
            PriceTable::parse(&String::from_utf8_lossy(&bytes))?
        }
        None => PriceTable::shipped(),
    };
    let config = PlanConfig {
        staging: Some(mediaflow_core::publish::staging_prefix(&source)),
        prices,
        ..PlanConfig::new(&source.bucket, &clients.destination_bucket)
    };
    Ok(job_for(&key, &probe, &name, &template, &config)?)
}

/// A configured object's bytes (`what`, set by `setting`).
async fn load(
    clients: &Clients,
    bucket: &str,
    key: &str,
    what: &'static str,
    setting: &'static str,
) -> Result<Vec<u8>, Error> {
    let got = clients.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| {
        if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
            Error::Missing { what, setting, bucket: bucket.to_string(), key: key.to_string() }
        } else {
            aws_failure("GetObject", e).into()
        }
    })?;
    Ok(collect("GetObject", got.body).await?.to_vec())
}

async fn load_template(clients: &Clients, bucket: &str, key: &str) -> Result<Value, Error> {
    let bytes = load(clients, bucket, key, "job template", "JOB_TEMPLATE_KEY / AUDIO_JOB_TEMPLATE_KEY").await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::TemplateNotJson {
        bucket: bucket.to_string(),
        key: key.to_string(),
        message: e.to_string(),
    })
}
