//! AwaitMediaConvert, three entry points:
//! - **submit** (the Transcode state, `waitForTaskToken`): keeps the task token under
//!   `.mediaflow/tasks/<ref>.json` in the watch bucket, then creates the job with only `<ref>`
//!   and the application's name in its `userMetadata` (a token is up to 2,048 characters, a
//!   metadata value at most 256). `<ref>` hashes the execution and its redrive count and is the
//!   `clientRequestToken`, so a repeated submit finds the same job and a redrive submits anew.
//! - **complete** (EventBridge, `MediaConvert Job State Change`): finds the token by `<ref>`
//!   and answers it: COMPLETE → SendTaskSuccess with the renditions; ERROR, CANCELED →
//!   SendTaskFailure `MediaFlow.TranscodeFailed`; PROGRESSING, STATUS_UPDATE → a heartbeat.
//! - **check** (the CheckTranscode state, after a lost event): asks GetJob.
//!
//! The job JSON goes to MediaConvert as written: `JobSettings` has no serde support, so the
//! request the SDK builds has its body replaced, before signing, by the template's JSON in
//! MediaConvert's wire format (`mediaflow_core::mediaconvert::to_wire`).

use aws_sdk_mediaconvert::types::JobSettings;
use aws_smithy_types::body::SdkBody;
use mediaflow_core::contract::{
    AwaitMediaConvertInput, JobStateChangeDetail, JobStateChangeEvent, JobStatus, OutputFile, PlannedOutput,
    Renditions, TranscodeCheck, TranscodeSubmit,
};
use mediaflow_core::mediaconvert::{renditions, task_key, task_ref, to_wire};
use mediaflow_core::storyboard::is_frame_capture;
use mediaflow_core::{ErrorName, Named};
use mediaflow_lambda::{During, Shared, aws_failure, collect};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod streams;

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub mediaconvert: aws_sdk_mediaconvert::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub watch_bucket: String,
    pub destination_bucket: String,
    /// The role MediaConvert assumes (`MEDIACONVERT_ROLE_ARN`).
    pub role_arn: String,
    /// Marks this application's jobs (`APPLICATION_NAME`).
    pub application: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("MediaConvert job {job}: {reason}")]
    TranscodeFailed { job: String, reason: String },
    #[error("MediaConvert job {job} is {status} still")]
    Pending { job: String, status: String },
    #[error("no task is waiting under {0} (submitted by another execution, or not at all)")]
    NoTask(String),
    #[error("the task record {0} is not one mediaflow wrote")]
    BadTask(String),
    #[error("neither a Transcode payload nor a MediaConvert job event: {0}")]
    BadPayload(String),
    #[error(transparent)]
    Shared(#[from] Shared),
}

mediaflow_lambda::lambda_error!(Error {
    Error::TranscodeFailed { .. } => ErrorName::TranscodeFailed,
    Error::Pending { .. } => ErrorName::TranscodePending,
    Error::NoTask(_) | Error::BadTask(_) | Error::BadPayload(_) => ErrorName::InvalidInput,
});

/// What `.mediaflow/tasks/<ref>.json` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    pub task_token: String,
    pub execution_id: String,
    pub redrive_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// What the job will write: GetJob does not say where its outputs went.
    #[serde(default)]
    pub outputs: Vec<PlannedOutput>,
    /// The job's file groups, by index: GetJob's output details of these are `outputs`.
    #[serde(default)]
    pub file_groups: Vec<usize>,
    /// Where each HLS group's master playlist goes (`s3://…/<stem>.m3u8`).
    #[serde(default)]
    pub masters: Vec<String>,
}

/// Every entry point, told apart by its payload.
pub async fn handler(payload: Value, clients: &Clients) -> Result<Value, Error> {
    if payload.get("detail-type").is_some() {
        let event: JobStateChangeEvent =
            serde_json::from_value(payload).map_err(|e| Error::BadPayload(format!("event: {e}")))?;
        complete(event, clients).await?;
        return Ok(Value::Null);
    }
    let input: AwaitMediaConvertInput =
        serde_json::from_value(payload).map_err(|e| Error::BadPayload(e.to_string()))?;
    match input {
        AwaitMediaConvertInput::Submit(submit_input) => submit(*submit_input, clients).await,
        AwaitMediaConvertInput::Check(check_input) => {
            Ok(serde_json::to_value(check(check_input, clients).await?).expect("serialises"))
        }
    }
}

/// The job's CreateJob body: the template's job with the role, the reference and this
/// application's mark added, in MediaConvert's wire format.
pub fn create_job_body(job: &Value, role_arn: &str, application: &str, reference: &str) -> Value {
    let mut job = job.clone();
    if job.get("Role").and_then(Value::as_str).is_none_or(str::is_empty) {
        job["Role"] = role_arn.into();
    }
    job["ClientRequestToken"] = reference.into();
    let metadata = job.as_object_mut().expect("a job is an object").entry("UserMetadata").or_insert_with(|| json!({}));
    if let Some(m) = metadata.as_object_mut() {
        m.insert("application".into(), application.into());
        m.insert("ref".into(), reference.into());
    }
    to_wire(&job)
}

pub async fn submit(input: TranscodeSubmit, clients: &Clients) -> Result<Value, Error> {
    let reference = task_ref(&input.execution_id, input.redrive_count);
    let mut record = TaskRecord {
        task_token: input.task_token,
        execution_id: input.execution_id,
        redrive_count: input.redrive_count,
        job_id: None,
        outputs: input.plan.outputs.clone(),
        file_groups: file_groups(&input.plan.job),
        masters: mediaflow_core::hls::masters(&input.plan.job),
    };
    save_task(clients, &reference, &record).await?;
    let body =
        serde_json::to_vec(&create_job_body(&input.plan.job, &clients.role_arn, &clients.application, &reference))
            .expect("JSON serialises");
    let length = body.len();
    let created = clients
        .mediaconvert
        .create_job()
        // What the SDK needs to build a request; the body below replaces what it writes.
        .role(&clients.role_arn)
        .settings(JobSettings::builder().build())
        .client_request_token(&reference)
        .customize()
        .mutate_request(move |request| {
            *request.body_mut() = SdkBody::from(body.clone());
            request.headers_mut().insert("content-length", length.to_string());
        })
        .send()
        .await
        .during("CreateJob")?;
    let job_id = created.job().and_then(|j| j.id()).unwrap_or_default().to_string();
    record.job_id = Some(job_id.clone());
    save_task(clients, &reference, &record).await?;
    // A repeated submit (a Lambda retry, or a run resumed after a crash) can find its job
    // ended already, its event gone to no one: answer the token now.
    if let Some(job) = created.job() {
        match delivered(ended(job, &record, clients), &record, clients).await {
            Ok(Some(renditions)) => answer(clients, &record.task_token, Answer::Done(renditions)).await?,
            Ok(None) => {}
            Err(failed) if failed.name() == ErrorName::TranscodeFailed => {
                answer(clients, &record.task_token, Answer::Failed(failed)).await?
            }
            Err(other) => return Err(other),
        }
    }
    Ok(json!({"jobId": job_id, "ref": reference}))
}

pub async fn complete(event: JobStateChangeEvent, clients: &Clients) -> Result<(), Error> {
    let detail = event.detail;
    let ours = detail.user_metadata.get("application") == Some(&clients.application);
    let Some(reference) = detail.user_metadata.get("ref").filter(|_| ours) else {
        return Ok(());
    };
    let Some(record) = load_task(clients, reference).await? else {
        return Ok(());
    };
    let said = match detail.status {
        JobStatus::Complete => {
            let files = Ok(Some(renditions(&detail, &clients.destination_bucket)));
            match delivered(files, &record, clients).await {
                Ok(done) => Answer::Done(done.expect("a complete job's files")),
                Err(failed) if failed.name() == ErrorName::TranscodeFailed => Answer::Failed(failed),
                Err(other) => return Err(other),
            }
        }
        JobStatus::Error | JobStatus::Canceled => {
            Answer::Failed(Error::TranscodeFailed { job: detail.job_id.clone(), reason: failure_reason(&detail) })
        }
        JobStatus::Progressing | JobStatus::StatusUpdate => Answer::Alive,
    };
    answer(clients, &record.task_token, said).await
}

/// What a waiting Transcode task is told.
enum Answer {
    Done(Renditions),
    /// `TranscodeFailed`, with MediaConvert's reason.
    Failed(Error),
    /// A heartbeat: the job is still going.
    Alive,
}

/// Tells the task of `token`. An answer to a token that no one waits on any more is no error:
/// the wait timed out (CheckTranscode took over), was redriven, or was answered already.
async fn answer(clients: &Clients, token: &str, said: Answer) -> Result<(), Error> {
    let sfn = &clients.sfn;
    let sent = match said {
        Answer::Done(renditions) => {
            let output = serde_json::to_string(&renditions).expect("serialises");
            let sent = sfn.send_task_success().task_token(token).output(output).send().await;
            sent.map(|_| ()).during("SendTaskSuccess")
        }
        Answer::Failed(failed) => {
            let failure = sfn.send_task_failure().task_token(token).error(failed.name().as_str());
            let sent = failure.cause(failed.to_string()).send().await;
            sent.map(|_| ()).during("SendTaskFailure")
        }
        Answer::Alive => {
            let sent = sfn.send_task_heartbeat().task_token(token).send().await;
            sent.map(|_| ()).during("SendTaskHeartbeat")
        }
    };
    match sent {
        Ok(()) => Ok(()),
        Err(f) if matches!(f.code.as_deref(), Some("TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken")) => Ok(()),
        Err(f) => Err(f.into()),
    }
}

fn failure_reason(detail: &JobStateChangeDetail) -> String {
    match (detail.status, detail.error_code, detail.error_message.as_deref()) {
        (JobStatus::Canceled, _, _) => "canceled".into(),
        (_, Some(code), Some(message)) => format!("error {code}: {message}"),
        (_, None, Some(message)) => message.to_string(),
        (_, Some(code), None) => format!("error {code}"),
        _ => "failed without a message".into(),
    }
}

pub async fn check(input: TranscodeCheck, clients: &Clients) -> Result<Renditions, Error> {
    let reference = task_ref(&input.execution_id, input.redrive_count);
    let record = load_task(clients, &reference).await?.ok_or_else(|| Error::NoTask(task_key(&reference)))?;
    let job_id = record
        .job_id
        .clone()
        .ok_or_else(|| Error::Pending { job: "(not yet created)".into(), status: "SUBMITTING".into() })?;
    let got = clients.mediaconvert.get_job().id(&job_id).send().await.during("GetJob")?;
    let job = got.job().ok_or_else(|| Error::Pending { job: job_id.clone(), status: "UNKNOWN".into() })?;
    delivered(ended(job, &record, clients), &record, clients).await?.ok_or_else(|| Error::Pending {
        job: job_id,
        status: job.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
    })
}

/// The files of an ended job with its HLS ladders, read from their playlists.
async fn delivered(
    files: Result<Option<Renditions>, Error>,
    record: &TaskRecord,
    clients: &Clients,
) -> Result<Option<Renditions>, Error> {
    let Some(mut renditions) = files? else { return Ok(None) };
    let job = renditions.job_id.clone().unwrap_or_default();
    renditions.streams = streams::streams(clients, &job, &record.masters).await?;
    Ok(Some(renditions))
}

/// The indexes of `job`'s file output groups of renditions: not a group of frame captures
/// (the storyboard's frames, which its own step reads; the pipeline never mixes the two).
pub fn file_groups(job: &Value) -> Vec<usize> {
    let groups = job.pointer("/Settings/OutputGroups").and_then(Value::as_array).into_iter().flatten();
    groups
        .enumerate()
        .filter(|(_, g)| g.pointer("/OutputGroupSettings/Type").and_then(Value::as_str) == Some("FILE_GROUP_SETTINGS"))
        .filter(|(_, g)| {
            !g.get("Outputs").and_then(Value::as_array).is_some_and(|o| !o.is_empty() && o.iter().all(is_frame_capture))
        })
        .map(|(i, _)| i)
        .collect()
}

/// What a job as GetJob or CreateJob describes it delivered: `None` while it runs,
/// `TranscodeFailed` when it ended otherwise.
fn ended(
    job: &aws_sdk_mediaconvert::types::Job,
    record: &TaskRecord,
    clients: &Clients,
) -> Result<Option<Renditions>, Error> {
    let job_id = job.id().unwrap_or_default().to_string();
    let detail = JobStateChangeDetail {
        job_id: job_id.clone(),
        status: match job.status().map(|s| s.as_str()).unwrap_or_default() {
            "COMPLETE" => JobStatus::Complete,
            "ERROR" => JobStatus::Error,
            "CANCELED" => JobStatus::Canceled,
            _ => return Ok(None),
        },
        error_code: job.error_code().map(i64::from),
        error_message: job.error_message().map(str::to_string),
        ..JobStateChangeDetail::default()
    };
    if detail.status != JobStatus::Complete {
        return Err(Error::TranscodeFailed { job: job_id, reason: failure_reason(&detail) });
    }
    // GetJob reports each output's size and length in the order of the job's outputs, but not
    // its path: the paths are the ones planned, of the file groups (an HLS group's planned
    // master playlist is read as a stream).
    let groups = job.output_group_details().iter().enumerate();
    let in_files = groups.filter(|(i, _)| record.file_groups.is_empty() || record.file_groups.contains(i));
    let details: Vec<_> = in_files.flat_map(|(_, g)| g.output_details()).collect();
    let planned: Vec<&PlannedOutput> = record.outputs.iter().filter(|o| !o.key.ends_with(".m3u8")).collect();
    let matched = details.len() == planned.len();
    let outputs = planned
        .into_iter()
        .enumerate()
        .map(|(i, planned)| {
            let d = details.get(i).filter(|_| matched);
            let video = d.and_then(|d| d.video_details());
            OutputFile {
                key: planned.key.clone(),
                label: planned.label.clone(),
                width: video.and_then(|v| v.width_in_px()).map(|w| w.max(0) as u32),
                height: video.and_then(|v| v.height_in_px()).map(|h| h.max(0) as u32),
                duration_ms: d.and_then(|d| d.duration_in_ms()).map(|ms| ms.max(0) as u64),
            }
        })
        .collect();
    Ok(Some(Renditions {
        bucket: clients.destination_bucket.clone(),
        job_id: Some(job_id),
        outputs,
        streams: Vec::new(),
    }))
}

async fn save_task(clients: &Clients, reference: &str, record: &TaskRecord) -> Result<(), Error> {
    let body = serde_json::to_vec(record).expect("serialises");
    clients
        .s3
        .put_object()
        .bucket(&clients.watch_bucket)
        .key(task_key(reference))
        .content_type("application/json")
        .body(body.into())
        .send()
        .await
        .during("PutObject")?;
    Ok(())
}

async fn load_task(clients: &Clients, reference: &str) -> Result<Option<TaskRecord>, Error> {
    let key = task_key(reference);
    let got = match clients.s3.get_object().bucket(&clients.watch_bucket).key(&key).send().await {
        Ok(got) => got,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(aws_failure("GetObject", e).into()),
    };
    let bytes = collect("GetObject", got.body).await?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| Error::BadTask(key))
}

#[cfg(test)]
mod tests {
    use mediaflow_core::storyboard::{StoryboardPlan, frame_capture_group};

    use super::*;

    #[test]
    fn the_storyboards_frames_are_no_file_group_of_renditions() {
        let mut job = mediaflow_core::templates::hls();
        assert_eq!(file_groups(&job), [0]);
        let plan = StoryboardPlan {
            interval_seconds: 1,
            max_tiles: 4,
            tile_width: 160,
            tile_height: 90,
            frames_prefix: "frames/talk_storyboard".into(),
        };
        job["Settings"]["OutputGroups"].as_array_mut().unwrap().push(frame_capture_group(&plan, "s3://w/frames/talk"));
        assert_eq!(file_groups(&job), [0], "GetJob's details of the frames are not the renditions'");
    }
}
