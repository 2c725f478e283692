//! Uploads from the page, as the seed's uploader sent them: a file of one part is PUT at its
//! key; a larger one as `<key>.CHUNK<n>` parts (from 0) with the part count in the user
//! metadata `chunks`, which AssembleCheck assembles. The page sends every part straight to S3
//! with a URL presigned here for that one key, valid for minutes; it never holds credentials.

use std::time::Duration;

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use mediaflow_core::keys::SourceKey;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, AppState, Refused};

/// How long a presigned URL works: long enough for one part on a slow line.
const URL_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// S3's most parts of one multipart upload, which assembly becomes.
const MOST_PARTS: u32 = 10_000;

/// An upload key the pipeline takes, named by the page: `inputs/<path>`, not a part itself.
fn upload_key(key: &str) -> Result<SourceKey, Refused> {
    let parsed = SourceKey::parse(key).map_err(|e| Refused::new(StatusCode::BAD_REQUEST, "InvalidKey", e))?;
    match parsed.chunk() {
        Some(_) => {
            Err(Refused::new(StatusCode::BAD_REQUEST, "InvalidKey", "name the file, not one of its .CHUNK parts"))
        }
        None => Ok(parsed),
    }
}

fn part_key(key: &str, index: u32) -> String {
    format!("{key}.CHUNK{index}")
}

#[derive(Deserialize)]
pub struct Ask {
    key: String,
    /// The part to send (from 0), when the file goes in parts.
    part: Option<u32>,
    /// How many parts the file has; 1 for a file sent whole.
    parts: u32,
}

/// A URL to PUT one part (or a whole file) at, and the headers to send with it.
pub async fn presign(State(shared): AppState, Json(ask): Json<Ask>) -> Answer {
    let upload = upload_key(&ask.key)?;
    let backend = &shared.backend;
    let put = backend.s3.put_object().bucket(&backend.watch_bucket);
    let put = match (ask.parts, ask.part) {
        (1, None | Some(0)) => put.key(upload.key()),
        (parts, Some(part)) if (2..=MOST_PARTS).contains(&parts) && part < parts => {
            put.key(part_key(upload.key(), part)).metadata("chunks", parts.to_string())
        }
        _ => {
            let message = format!("part {:?} of {} parts: parts run from 0, at most {MOST_PARTS}", ask.part, ask.parts);
            return Err(Refused::new(StatusCode::BAD_REQUEST, "InvalidPart", message));
        }
    };
    let config = PresigningConfig::expires_in(URL_LIFETIME).expect("a lifetime S3 takes");
    let request =
        put.presigned(config).await.map_err(|e| Refused::new(StatusCode::INTERNAL_SERVER_ERROR, "Presign", e))?;
    let headers: serde_json::Map<String, Value> =
        request.headers().map(|(name, value)| (name.to_string(), json!(value))).collect();
    Ok(Json(json!({"url": request.uri(), "headers": headers, "expiresIn": URL_LIFETIME.as_secs()})).into_response())
}

#[derive(Deserialize)]
pub struct Parts {
    key: String,
}

/// What the watch bucket already holds of an upload: its parts (index and size), and the
/// assembled or whole object when it is there. A page resuming after a reload sends the rest.
pub async fn parts(State(shared): AppState, Query(query): Query<Parts>) -> Answer {
    let upload = upload_key(&query.key)?;
    let backend = &shared.backend;
    let (s3, bucket) = (&backend.s3, &backend.watch_bucket);
    let mut stored = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).prefix(format!("{}.", upload.key())).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Refused::new(StatusCode::BAD_GATEWAY, "S3", DisplayErrorContext(e)))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let Some(part) = SourceKey::parse(key).ok().and_then(|k| k.chunk()) else { continue };
            if part.target_key == upload.key() {
                stored.push(json!({"index": part.index, "size": object.size().unwrap_or_default()}));
            }
        }
    }
    let whole = match s3.head_object().bucket(bucket).key(upload.key()).send().await {
        Ok(head) => json!({
            "size": head.content_length().unwrap_or_default(),
            "lastModified": head.last_modified().map(|t| t.secs()),
        }),
        Err(_) => Value::Null,
    };
    Ok(Json(json!({"key": upload.key(), "parts": stored, "object": whole})).into_response())
}
