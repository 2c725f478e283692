//! MediaConvert's API as the tests drive the stand-in.

use aws_sdk_mediaconvert::types::JobSettings;
use aws_smithy_types::body::SdkBody;
use serde_json::Value;

/// CreateJob with `body` as the pipeline sends it (CreateJob JSON, camelCase on the wire): the
/// SDK's `JobSettings` has no serde, so the request's body is replaced. Returns the job's id.
pub async fn create_job(client: &aws_sdk_mediaconvert::Client, body: &Value) -> String {
    let bytes = serde_json::to_vec(body).unwrap();
    let length = bytes.len();
    let created = client
        .create_job()
        .role("r")
        .settings(JobSettings::builder().build())
        .customize()
        .mutate_request(move |request| {
            *request.body_mut() = SdkBody::from(bytes.clone());
            request.headers_mut().insert("content-length", length.to_string());
        })
        .send()
        .await
        .unwrap();
    created.job().unwrap().id().unwrap().to_string()
}
