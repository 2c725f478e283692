//! AutoCaptions, two entry points:
//! - **plan** (PlanCaptions, right after Probe): whether the upload gets a machine caption and
//!   the `StartTranscriptionJob` request the state machine sends Transcribe itself;
//! - **await** (AwaitCaptions, after the media work): reads the job by its name. Until it ends
//!   this is `MediaFlow.TranscriptionPending`, which the state retries with a bound (a poll:
//!   the SDK integration that starts the job cannot wait for a task token, and Transcribe's
//!   job carries no field to hold one). Once it has ended, Transcribe's transcript is read from
//!   the staging folder and its words laid out as cues made for reading
//!   (`mediaflow_captions::layout`), staged as `closed-caption/<dir>/<stem>.<lang>.auto.vtt`.
//!   A skip, a refused start, a failed job or a silent one is returned as the named reason,
//!   and the rest of the upload is published without the caption.

use aws_sdk_transcribe::types::TranscriptionJobStatus;
use mediaflow_core::ErrorName;
use mediaflow_core::contract::{AutoCaptionsInput, AwaitCaptions, PlanCaptions};
use mediaflow_core::transcription::{
    self, CaptionSettings, MachineCaption, SkipReason, Skipped, TranscribePrices, TranscriptionPlan,
};
use mediaflow_lambda::{During, Shared, collect, put_staged};

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub transcribe: aws_sdk_transcribe::Client,
    /// `AUTO_CAPTIONS` and `CAPTION_LANGUAGE`.
    pub settings: CaptionSettings,
    pub prices: TranscribePrices,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Transcribe job {job} is {status} still")]
    Pending { job: String, status: String },
    #[error("the transcript s3://{bucket}/{key} is not Transcribe's document: {message}")]
    BadTranscript { bucket: String, key: String, message: String },
    #[error("AwaitCaptions was given neither a request nor a reason")]
    NoPlan,
    #[error("GetTranscriptionJob answered without a job")]
    NoJob,
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::Pending { .. } => ErrorName::TranscriptionPending,
    Error::BadTranscript { .. } | Error::NoPlan | Error::NoJob => ErrorName::InvalidInput,
});

/// What each entry point answers, as its own contract type.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Output {
    Plan(TranscriptionPlan),
    Caption(MachineCaption),
}

pub async fn handler(input: AutoCaptionsInput, clients: &Clients) -> Result<Output, Error> {
    match input {
        // Off, or no sound: an empty plan, which the state machine passes by.
        AutoCaptionsInput::Plan(p) => Ok(Output::Plan(plan(&p, &clients.settings).unwrap_or_default())),
        AutoCaptionsInput::Await(a) => Ok(Output::Caption(await_caption(&a, clients).await?)),
    }
}

fn plan(input: &PlanCaptions, settings: &CaptionSettings) -> Option<TranscriptionPlan> {
    let plan = transcription::plan(&input.source, &input.asset, &input.probe, &input.execution_id, settings);
    match &plan {
        Some(p) => tracing::info!(
            job = p.request.as_ref().map(|r| r.transcription_job_name.as_str()),
            skipped = p.skipped.as_ref().map(|s| s.reason.to_string()),
            "machine captions planned"
        ),
        None => tracing::info!(enabled = settings.enabled, "no machine captions"),
    }
    plan
}

fn skipped(skipped: Skipped) -> MachineCaption {
    tracing::info!(reason = %skipped.reason, detail = %skipped.detail, "no machine caption");
    MachineCaption { skipped: Some(skipped), ..Default::default() }
}

async fn await_caption(input: &AwaitCaptions, clients: &Clients) -> Result<MachineCaption, Error> {
    let plan = &input.transcription;
    if let Some(reason) = &plan.skipped {
        return Ok(skipped(reason.clone()));
    }
    if let Some(refused) = &plan.refused {
        return Ok(skipped(Skipped::new(SkipReason::Refused, format!("{} ({})", refused.cause, refused.error))));
    }
    let request = plan.request.as_ref().ok_or(Error::NoPlan)?;
    let job = clients
        .transcribe
        .get_transcription_job()
        .transcription_job_name(&request.transcription_job_name)
        .send()
        .await
        .during("GetTranscriptionJob")?;
    // Transcribe answers an unknown name with BadRequestException, never an empty job.
    let job = job.transcription_job.ok_or(Error::NoJob)?;
    let status = job.transcription_job_status.clone();
    let cost = transcription::cost(plan.seconds.unwrap_or_default(), &clients.prices);
    match status {
        Some(TranscriptionJobStatus::Completed) => {}
        Some(TranscriptionJobStatus::Failed) => {
            let reason = job.failure_reason.unwrap_or_else(|| "no reason given".into());
            return Ok(skipped(Skipped::new(SkipReason::TranscriptionFailed, reason)));
        }
        other => {
            let status = other.map_or("unknown".to_string(), |s| s.as_str().to_string());
            return Err(Error::Pending { job: request.transcription_job_name.clone(), status });
        }
    }
    let (bucket, key) = (&request.output_bucket_name, &request.output_key);
    let object = clients.s3.get_object().bucket(bucket).key(key).send().await.during("GetObject")?;
    let bytes = collect("GetObject", object.body).await?;
    let bad = |message: String| Error::BadTranscript { bucket: bucket.clone(), key: key.clone(), message };
    let document = mediaflow_captions::Transcript::from_json(&bytes).map_err(|e| bad(e.to_string()))?;
    let words = document.words();
    let language = job
        .language_code
        .map(|l| l.as_str().to_string())
        .or_else(|| document.results.language_code.clone())
        .or_else(|| request.language_code.clone())
        .ok_or_else(|| bad("no language was identified".into()))?;
    if words.is_empty() {
        let none = Skipped::new(SkipReason::NoSpeech, "Transcribe found no words");
        return Ok(MachineCaption { cost: Some(cost), ..skipped(none) });
    }
    let cues = mediaflow_captions::layout(&words);
    let vtt = mediaflow_captions::Captions { cues, ..Default::default() };
    let text = vtt.to_vtt().into_bytes();
    let size = text.len() as u64;
    let target = transcription::caption_key(&input.asset, &language);
    let etag = put_staged(&clients.s3, &input.source, &target, "text/vtt; charset=utf-8", text).await?;
    tracing::info!(key = %target, language = %language, cues = vtt.cues.len(), words = words.len(), "machine caption staged");
    Ok(MachineCaption {
        key: Some(target),
        language: Some(language),
        cues: vtt.cues.len() as u32,
        words: words.len() as u32,
        size: Some(size),
        etag: Some(etag),
        cost: Some(cost),
        skipped: None,
    })
}
