//! What an upload became: its metadata document and every public file of its name, and the
//! files themselves, streamed from the public bucket with byte ranges so a player can seek.
//! Files are read through the S3 endpoint, so no path can reach outside the buckets.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mediaflow_core::keys::{Folder, SourceKey};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, AppState, Refused};

const FOLDERS: [Folder; 5] =
    [Folder::AudioVideo, Folder::Json, Folder::Thumbnail, Folder::ClosedCaption, Folder::Original];

#[derive(Deserialize)]
pub struct Upload {
    key: String,
}

/// The upload's metadata document (null until it is published) and every public file of its
/// stem: `<stem>_<label>.mp4`, `<stem>.mp3`, `<stem>.jpg`, `<stem>.json`, `<stem>[.<lang>].vtt`,
/// the storyboard's `<stem>.storyboard.jpg` and `.vtt` and the original; and the storyboard's
/// two keys, named apart so the page finds them without building a key of its own.
pub async fn outputs(State(shared): AppState, Query(query): Query<Upload>) -> Answer {
    let upload = SourceKey::parse(&query.key).map_err(|e| Refused::new(StatusCode::BAD_REQUEST, "InvalidKey", e))?;
    let backend = &shared.backend;
    let (s3, bucket) = (&backend.s3, &backend.public_bucket);
    let document = match s3.get_object().bucket(bucket).key(upload.metadata_key()).send().await {
        Ok(object) => match object.body.collect().await {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes.into_bytes()).unwrap_or(Value::Null),
            Err(_) => Value::Null,
        },
        Err(_) => Value::Null,
    };
    let mut files = Vec::new();
    for folder in FOLDERS {
        let prefix = upload.output_key(folder, upload.stem());
        let listed = s3.list_objects_v2().bucket(bucket).prefix(&prefix).send().await;
        let Ok(listed) = listed else { continue };
        for object in listed.contents() {
            let Some(key) = object.key() else { continue };
            // `talk_720p.mp4`, `talk.jpg`, `talk.en.vtt`; never `talk-2.jpg`.
            let rest = &key[prefix.len()..];
            let ours = folder == Folder::Original && key == upload.original_key()
                || folder != Folder::Original && (rest.starts_with('.') || rest.starts_with('_'));
            if ours {
                files.push(json!({"key": key, "size": object.size().unwrap_or_default()}));
            }
        }
    }
    // The storyboard's sprite and map, when both are public (Publish makes them public together).
    let public = |key: &str| files.iter().any(|f| f["key"] == key);
    let (image, map) = (upload.storyboard_image_key(), upload.storyboard_map_key());
    let storyboard = (public(&image) && public(&map)).then(|| json!({"image": image, "map": map}));
    Ok(Json(json!({"key": upload.key(), "document": document, "files": files, "storyboard": storyboard}))
        .into_response())
}

/// The type a player expects for each kind of file the pipeline publishes. Not mime_guess: it
/// answers `audio/x-mpegurl` for a playlist and `video/vnd.dlna.mpeg-tts` for a segment, where
/// HLS (RFC 8216) names `application/vnd.apple.mpegurl` and `video/mp2t`.
fn content_type(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
        Some("mp4" | "m4v") => "video/mp4",
        Some("mp3") => "audio/mpeg",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("json") => "application/json",
        Some("vtt") => "text/vtt; charset=utf-8",
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        _ => "application/octet-stream",
    }
}

/// One public file, whole or the byte range asked for.
pub async fn file(State(shared): AppState, Path(key): Path<String>, headers: HeaderMap) -> Answer {
    // Only keys S3 would name a file by: no `.` or `..` segment can step out of the bucket.
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(Refused::new(StatusCode::BAD_REQUEST, "InvalidKey", format!("{key:?} is not a file's key")));
    }
    let backend = &shared.backend;
    let mut get = backend.s3.get_object().bucket(&backend.public_bucket).key(&key);
    if let Some(range) = headers.get(header::RANGE).and_then(|r| r.to_str().ok()) {
        get = get.range(range);
    }
    let object = get.send().await.map_err(|e| match e.as_service_error() {
        Some(s) if s.is_no_such_key() => {
            Refused::new(StatusCode::NOT_FOUND, "NoSuchKey", format!("no public file {key}"))
        }
        _ if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
            Refused::new(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange", "the range is outside the file")
        }
        _ => Refused::new(StatusCode::BAD_GATEWAY, "S3", aws_sdk_s3::error::DisplayErrorContext(e)),
    })?;
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, content_type(&key))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-cache");
    if let Some(length) = object.content_length() {
        response = response.header(header::CONTENT_LENGTH, length);
    }
    if let Some(etag) = object.e_tag() {
        response = response.header(header::ETAG, etag);
    }
    if let Some(range) = object.content_range() {
        response = response.status(StatusCode::PARTIAL_CONTENT).header(header::CONTENT_RANGE, range);
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(object.body.into_async_read()));
    response.body(body).map_err(|e| Refused::new(StatusCode::INTERNAL_SERVER_ERROR, "Response", e))
}
