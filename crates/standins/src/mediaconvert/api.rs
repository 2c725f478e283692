//! MediaConvert's REST operations as `aws-sdk-mediaconvert` calls them (`CreateJob`, `GetJob`,
//! `ListJobs`), as axum routes. Errors have AWS's shape: the `x-amzn-errortype` header names
//! the exception, the body says `{"message"}`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Job, Service};

/// The routes of the API version the SDK speaks.
pub(super) fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/2017-08-29/jobs", post(create_job).get(list_jobs))
        .route("/2017-08-29/jobs/{id}", get(get_job))
        .fallback(unsupported)
        .method_not_allowed_fallback(unsupported)
        .with_state(service)
}

/// An answer in AWS's error shape.
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    fn bad_request(message: String) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, kind: "BadRequestException", message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, [("x-amzn-errortype", self.kind)], Json(json!({"message": self.message}))).into_response()
    }
}

/// The body is read as JSON here rather than with axum's `Json`, whose refusals are plain text:
/// the SDK reads only AWS's error shape. The request stays JSON as sent: it is kept as the job's
/// own record, and every field MediaConvert takes passes through to the compiler unchanged.
async fn create_job(State(service): State<Arc<Service>>, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let request: Value = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !request.is_object() {
        return Err(ApiError::bad_request("the CreateJob body is a JSON object".into()));
    }
    Ok((StatusCode::CREATED, Json(json!({"job": service.create(request)}))))
}

/// Newest first, as MediaConvert lists them by default.
async fn list_jobs(State(service): State<Arc<Service>>) -> Json<Value> {
    let mut jobs: Vec<Job> = service.jobs.lock().unwrap().values().cloned().collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.created));
    Json(json!({"jobs": jobs.iter().map(Job::to_json).collect::<Vec<_>>()}))
}

async fn get_job(State(service): State<Arc<Service>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    match service.jobs.lock().unwrap().get(&id) {
        Some(job) => Ok(Json(json!({"job": job.to_json()}))),
        None => {
            Err(ApiError { status: StatusCode::NOT_FOUND, kind: "NotFoundException", message: format!("no job {id}") })
        }
    }
}

async fn unsupported(method: Method, uri: Uri) -> ApiError {
    ApiError::bad_request(format!("{method} {} is not an operation the local MediaConvert serves", uri.path()))
}
