//! Transcribe's operations as `aws-sdk-transcribe` calls them: the AWS JSON 1.1 protocol
//! (`POST /`, the operation in `X-Amz-Target: Transcribe.<Operation>`, PascalCase members),
//! with AWS's error shape (`{"__type", "Message"}`, status 400). Requests are read into typed
//! structs that refuse members the stand-in does not honour, so a request it cannot carry out
//! is answered as such rather than run without them.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Service;
use super::job::{JobSpec, JobStatus, Language, S3Object, SubtitleFormat, Subtitles, Tag, transcript_key};

pub(super) fn router(service: Arc<Service>) -> Router {
    Router::new().fallback(dispatch).with_state(service)
}

/// The errors the stand-in answers with (status 400, as Transcribe's), by the SDK's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum ErrorKind {
    BadRequestException,
    ConflictException,
}

impl ErrorKind {
    /// The exception's name (`BadRequestException`); a Step Functions SDK integration names
    /// the error `Transcribe.<name>`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// An operation's refusal, as Transcribe gives it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError { kind: ErrorKind::BadRequestException, message: message.into() }
    }

    /// Transcribe's answer when a member is missing (`field` as its validation names it).
    fn missing(field: &str) -> ApiError {
        ApiError::bad_request(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        answer(StatusCode::BAD_REQUEST, &json!({"__type": self.kind.name(), "Message": self.message}))
    }
}

fn answer(status: StatusCode, body: &Value) -> Response {
    let content_type = HeaderValue::from_static("application/x-amz-json-1.1");
    (status, [(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

/// Every request: the operation its target names, with its body.
async fn dispatch(State(service): State<Arc<Service>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let input = if body.is_empty() { Ok(json!({})) } else { serde_json::from_slice(&body) };
    let result = match (target.strip_prefix("Transcribe."), input) {
        (Some(operation), Ok(input)) => match Operation::parse(operation, input) {
            Ok(operation) => call(&service, operation).await,
            Err(e) => Err(e),
        },
        (None, _) => Err(unknown(target)),
        (_, Err(e)) => Err(ApiError::bad_request(format!("the request body is not JSON: {e}"))),
    };
    match result {
        Ok(body) => answer(StatusCode::OK, &body),
        Err(error) => error.into_response(),
    }
}

fn unknown(operation: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{operation:?} is not an operation the local Transcribe serves \
         (StartTranscriptionJob, GetTranscriptionJob, ListTranscriptionJobs)"
    ))
}

/// Each operation the stand-in serves, with its input typed by the members Transcribe's API
/// model names: serde picks the operation by its name and reads its input.
#[derive(Deserialize, strum::VariantNames)]
#[serde(tag = "operation", content = "input")]
pub(super) enum Operation {
    StartTranscriptionJob(StartRequest),
    GetTranscriptionJob(GetRequest),
    ListTranscriptionJobs(ListRequest),
}

impl Operation {
    /// `operation` (as the API names it: `StartTranscriptionJob`) with its JSON input.
    pub(super) fn parse(operation: &str, input: Value) -> Result<Operation, ApiError> {
        use strum::VariantNames;
        if !Operation::VARIANTS.contains(&operation) {
            return Err(unknown(operation));
        }
        read(json!({"operation": operation, "input": input}))
    }
}

/// `operation`'s answer, as the API gives it.
pub(super) async fn call(service: &Arc<Service>, operation: Operation) -> Result<Value, ApiError> {
    match operation {
        Operation::StartTranscriptionJob(request) => {
            let spec = check(request)?;
            let job = service.start_job(spec).await?;
            Ok(json!({"TranscriptionJob": job.view(false)}))
        }
        Operation::GetTranscriptionJob(request) => {
            let name = request.transcription_job_name.ok_or_else(|| ApiError::missing("transcriptionJobName"))?;
            let job = service.job(&name).ok_or_else(|| {
                // What Transcribe answers for a name it does not know (a BadRequestException,
                // not the NotFoundException its reference lists).
                ApiError::bad_request(
                    "The requested job couldn't be found. Check the job name and try your request again.",
                )
            })?;
            Ok(json!({"TranscriptionJob": job.view(true)}))
        }
        Operation::ListTranscriptionJobs(request) => list(service, request),
    }
}

/// An operation's input as `T`; serde's refusal (an unknown member, a value of the wrong type)
/// is the BadRequestException's message.
pub(super) fn read<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| ApiError::bad_request(format!("the request: {e}")))
}

/// StartTranscriptionJob's members the stand-in honours. Any other (speaker labels, redaction,
/// custom vocabularies, deferred execution, …) is refused by name.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(super) struct StartRequest {
    transcription_job_name: Option<String>,
    language_code: Option<String>,
    identify_language: Option<bool>,
    language_options: Option<Vec<String>>,
    media: Option<MediaRequest>,
    media_format: Option<String>,
    media_sample_rate_hertz: Option<u32>,
    output_bucket_name: Option<String>,
    output_key: Option<String>,
    subtitles: Option<SubtitlesRequest>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct MediaRequest {
    media_file_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SubtitlesRequest {
    formats: Option<Vec<SubtitleFormat>>,
    output_start_index: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(super) struct GetRequest {
    transcription_job_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(super) struct ListRequest {
    /// A status name; QUEUED, which no job here has, matches none.
    status: Option<String>,
    job_name_contains: Option<String>,
    next_token: Option<String>,
    max_results: Option<usize>,
}

/// A StartTranscriptionJob request checked as Transcribe checks it, into what a run needs.
fn check(request: StartRequest) -> Result<JobSpec, ApiError> {
    let name = request.transcription_job_name.ok_or_else(|| ApiError::missing("transcriptionJobName"))?;
    check_name(&name)?;
    let media = request.media.ok_or_else(|| ApiError::missing("media"))?;
    let uri = media.media_file_uri.ok_or_else(|| ApiError::missing("media.mediaFileUri"))?;
    let (bucket, key) = media_location(&uri).ok_or_else(|| {
        ApiError::bad_request(format!(
            "The Media.MediaFileUri {uri:?} is not an S3 object's URI (s3://<bucket>/<key> or \
             https://s3.<region>.amazonaws.com/<bucket>/<key>)."
        ))
    })?;
    // Without an output bucket Transcribe keeps the transcript in a bucket of its own; the
    // stand-in has none.
    let output_bucket = request.output_bucket_name.ok_or_else(|| {
        ApiError::bad_request("OutputBucketName is required by the local Transcribe: it has no bucket of its own")
    })?;
    if let Some(key) = &request.output_key
        && !valid_output_key(key)
    {
        return Err(ApiError::bad_request(format!(
            "1 validation error detected: Value '{key}' at 'outputKey' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [a-zA-Z0-9-_.!*'()/]{{1,1024}}$"
        )));
    }
    if request.language_code.is_some() && request.language_options.is_some() {
        return Err(ApiError::bad_request("LanguageOptions are taken only with IdentifyLanguage."));
    }
    let language = match (request.language_code, request.identify_language.unwrap_or(false)) {
        (Some(_), true) => {
            return Err(ApiError::bad_request(
                "LanguageCode and IdentifyLanguage can't both be set: give the language, or have it identified.",
            ));
        }
        (Some(code), false) => Language::Code(code),
        (None, true) => Language::Identify(request.language_options.unwrap_or_default()),
        (None, false) => {
            return Err(ApiError::bad_request(
                "The language code is missing. Either add a language code or turn on language identification.",
            ));
        }
    };
    let subtitles = match request.subtitles {
        Some(SubtitlesRequest { formats: Some(formats), output_start_index }) if !formats.is_empty() => {
            let start_index = output_start_index.unwrap_or(0);
            if start_index > 1 {
                return Err(ApiError::bad_request(format!(
                    "1 validation error detected: Value '{start_index}' at 'subtitles.outputStartIndex' failed to \
                     satisfy constraint: Member must have value less than or equal to 1"
                )));
            }
            let mut unique = Vec::new();
            for format in formats {
                if !unique.contains(&format) {
                    unique.push(format);
                }
            }
            Some(Subtitles { formats: unique, start_index })
        }
        _ => None,
    };
    let transcript = S3Object { bucket: output_bucket, key: transcript_key(&name, request.output_key.as_deref()) };
    Ok(JobSpec {
        media_file_uri: uri.clone(),
        media: S3Object { bucket: bucket.to_string(), key: key.to_string() },
        media_format: request.media_format,
        media_sample_rate_hertz: request.media_sample_rate_hertz,
        transcript,
        language,
        subtitles,
        tags: request.tags,
        name,
    })
}

/// `TranscriptionJobName`: 1 to 200 of `[0-9a-zA-Z._-]`, and not `.` or `..` by itself. The
/// name is also the job's file name under the jobs folder.
fn check_name(name: &str) -> Result<(), ApiError> {
    let refused = |constraint: &str| {
        Err(ApiError::bad_request(format!(
            "1 validation error detected: Value '{name}' at 'transcriptionJobName' failed to satisfy constraint: \
             {constraint}"
        )))
    };
    if name.is_empty() || name.len() > 200 {
        return refused("Member must have length between 1 and 200");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return refused("Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+");
    }
    if name == "." || name == ".." {
        return Err(ApiError::bad_request("The job name can't be \".\" or \"..\" by itself."));
    }
    Ok(())
}

/// `OutputKey`'s pattern: `[a-zA-Z0-9-_.!*'()/]{1,1024}`.
fn valid_output_key(key: &str) -> bool {
    (1..=1024).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.!*'()/".contains(&b))
}

/// The bucket and key of a media URI: `s3://bucket/key`, or S3's path-style HTTPS form.
fn media_location(uri: &str) -> Option<(&str, &str)> {
    if let Some(location) = mediaflow_core::keys::s3_location(uri) {
        return Some(location);
    }
    let rest = uri.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let s3_host = host == "s3.amazonaws.com" || (host.starts_with("s3.") && host.ends_with(".amazonaws.com"));
    s3_host.then(|| path.split_once('/')).flatten().filter(|(b, k)| !b.is_empty() && !k.is_empty())
}

/// ListTranscriptionJobs: newest first, five a page unless asked for more (Transcribe's
/// default), `NextToken` being where the next page starts.
fn list(service: &Service, request: ListRequest) -> Result<Value, ApiError> {
    let max = request.max_results.unwrap_or(5);
    if !(1..=100).contains(&max) {
        return Err(ApiError::bad_request(format!(
            "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: \
             Member must have value between 1 and 100"
        )));
    }
    let from = match &request.next_token {
        Some(token) => token.parse::<usize>().map_err(|_| ApiError::bad_request("The NextToken is not valid."))?,
        None => 0,
    };
    // Outer `None`: no filter; inner `None`: QUEUED, a status no job here has.
    let wanted = request.status.as_deref().map(status_filter).transpose()?;
    let mut jobs = service.all_jobs();
    jobs.retain(|j| wanted.is_none_or(|w| w == Some(j.status)));
    if let Some(part) = &request.job_name_contains {
        let part = part.to_lowercase();
        jobs.retain(|j| j.spec.name.to_lowercase().contains(&part));
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.created));
    let page: Vec<_> = jobs.iter().skip(from).take(max).map(|j| j.summary()).collect();
    let mut body = json!({"TranscriptionJobSummaries": page});
    if let Some(name) = request.status {
        body["Status"] = json!(name);
    }
    if from + max < jobs.len() {
        body["NextToken"] = json!((from + max).to_string());
    }
    Ok(body)
}

/// ListTranscriptionJobs' `Status`: a status a job here has, or QUEUED (`None`), which the
/// stand-in never gives (it takes no deferred execution).
fn status_filter(name: &str) -> Result<Option<JobStatus>, ApiError> {
    if name == "QUEUED" {
        return Ok(None);
    }
    serde_json::from_value(json!(name)).map(Some).map_err(|_| {
        ApiError::bad_request(format!(
            "1 validation error detected: Value '{name}' at 'status' failed to satisfy constraint: Member must satisfy \
             enum value set: [QUEUED, IN_PROGRESS, FAILED, COMPLETED]"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> Result<JobSpec, ApiError> {
        check(serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?)
    }

    #[test]
    fn a_missing_member_is_named() {
        let error = request(json!({"Media": {"MediaFileUri": "s3://b/k.mp4"}})).unwrap_err();
        assert!(error.message.contains("'transcriptionJobName'"), "{}", error.message);
        let error = request(json!({"TranscriptionJobName": "j", "LanguageCode": "en-US"})).unwrap_err();
        assert!(error.message.contains("'media'"), "{}", error.message);
    }

    #[test]
    fn a_member_the_stand_in_does_not_honour_is_refused_by_name() {
        let body = json!({"TranscriptionJobName": "j", "Settings": {"ShowSpeakerLabels": true}});
        let error = read::<StartRequest>(body).err().unwrap();
        assert!(error.message.contains("`Settings`"), "{}", error.message);
    }

    #[test]
    fn names_and_media_are_checked() {
        let base = |name: &str, uri: &str| {
            json!({"TranscriptionJobName": name, "Media": {"MediaFileUri": uri}, "LanguageCode": "en-US",
                   "OutputBucketName": "out"})
        };
        assert!(request(base("a b", "s3://b/k")).is_err());
        assert!(request(base("..", "s3://b/k")).is_err());
        assert!(request(base("ok", "http://example.com/k")).is_err());
        let spec = request(base("ok", "https://s3.us-east-1.amazonaws.com/media/in/talk.mp4")).unwrap();
        assert_eq!((spec.media.bucket.as_str(), spec.media.key.as_str()), ("media", "in/talk.mp4"));
        assert_eq!(spec.transcript.key, "ok.json");
    }

    #[test]
    fn one_language_or_identification() {
        let body = json!({"TranscriptionJobName": "j", "Media": {"MediaFileUri": "s3://b/k"}, "OutputBucketName": "o"});
        let error = request(body).unwrap_err();
        assert!(error.message.starts_with("The language code is missing."), "{}", error.message);
    }
}
