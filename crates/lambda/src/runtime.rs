//! A function under the Lambda Runtime API, as every `main.rs` runs it: its settings read once
//! (one missing or wrong is reported to `/runtime/init/error` as `MediaFlow.Configuration`,
//! as Lambda expects of a runtime that cannot start), then each payload parsed into the
//! handler's input (one that does not fit is `MediaFlow.InvalidInput`, naming the field; the
//! runtime's own parse would answer `&lambda_runtime::deserializer::DeserializeError`) and
//! the handler's error named. The one-machine platform parses payloads the same way.

use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use mediaflow_core::ErrorName;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Logs as Lambda's JSON log format has them (`AWS_LAMBDA_LOG_FORMAT=JSON`): one object a line
/// with `timestamp`, `level`, the fields, and the invocation's span (its `requestId`); plain
/// lines otherwise. `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`) sets the level, INFO by default.
/// lambda_runtime's own JSON subscriber leaves the timestamp out, which is why this one.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or("info".into());
    let filter = EnvFilter::try_new(level.to_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stdout);
    let installed = if std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    let _ = installed;
}

/// `payload` as the function's input, or `MediaFlow.InvalidInput` with the path of the field
/// that does not fit.
pub fn parse_input<I: DeserializeOwned>(payload: Value) -> Result<I, Diagnostic> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let at = e.path().to_string();
        let at = if at == "." { "the payload".to_string() } else { format!("`{at}`") };
        crate::diagnostic(ErrorName::InvalidInput, format!("{at} does not fit this function's input: {}", e.inner()))
    })
}

/// A required setting from the environment.
pub fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// A setting the function can do without: unset and empty (a template's default) are the same.
pub fn optional_setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The tool the setting `name` points to (`FFMPEG_PATH`, `FFPROBE_PATH`), or `default` on PATH.
pub fn tool_path(name: &str, default: &str) -> std::path::PathBuf {
    optional_setting(name).unwrap_or_else(|| default.to_string()).into()
}

/// Starts the log, then the function's configuration from `settings`; when it fails, tells the
/// Runtime API's `/runtime/init/error` (so Lambda reports `MediaFlow.Configuration`) and
/// returns the error for `main` to end with.
pub async fn configure<C>(settings: impl Future<Output = Result<C, String>>) -> Result<C, lambda_runtime::Error> {
    init_logging();
    match settings.await {
        Ok(configured) => Ok(configured),
        Err(message) => {
            tracing::error!(error_type = ErrorName::Configuration.as_str(), message = %message, "cannot start");
            if let Err(e) = report_init_error(&message).await {
                tracing::error!(error = %e, "the Runtime API did not take the init error");
            }
            Err(message.into())
        }
    }
}

async fn report_init_error(message: &str) -> Result<(), lambda_runtime::Error> {
    let client = lambda_runtime_api_client::Client::builder().build()?;
    let error_type = ErrorName::Configuration.as_str();
    let body = serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string();
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", error_type)
        .header("Content-Type", "application/json")
        .body(lambda_runtime_api_client::body::Body::from(body))?;
    client.call(request).await?;
    Ok(())
}

/// A function's handler: a plain async function of its typed input, whose output serialises
/// and whose error names itself. One trait, so that [`run`] and [`invoke`] state it once.
pub trait Handler<I>: Fn(I) -> Self::Done {
    type Answer: Serialize;
    type Error: Into<Diagnostic>;
    type Done: Future<Output = Result<Self::Answer, Self::Error>>;
}

impl<I, O, E, F, Fut> Handler<I> for F
where
    O: Serialize,
    E: Into<Diagnostic>,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<O, E>>,
{
    type Answer = O;
    type Error = E;
    type Done = Fut;
}

/// Serves `handler` until the runtime stops.
pub async fn run<I: DeserializeOwned>(handler: impl Handler<I>) -> Result<(), lambda_runtime::Error> {
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| invoke(handler, event.payload))).await
}

/// One invocation, logged: what it received, then what it decided or how it failed.
pub async fn invoke<I: DeserializeOwned>(handler: &impl Handler<I>, payload: Value) -> Result<Value, Diagnostic> {
    let about = About::of(&payload);
    tracing::info!(bucket = about.bucket, key = about.key, execution = about.execution, "received");
    let started = std::time::Instant::now();
    let result = match parse_input::<I>(payload) {
        Ok(input) => handler(input).await.map_err(Into::into),
        Err(refused) => Err(refused),
    };
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(output) => {
            let output = serde_json::to_value(output).expect("outputs serialise");
            tracing::info!(seconds, decided = decided(&output), "done");
            Ok(output)
        }
        Err(d) => {
            tracing::error!(seconds, error_type = %d.error_type, message = %crate::redact::redact(&d.error_message), "failed");
            Err(d)
        }
    }
}

/// What a payload is about, for the log (never the payload itself: it may hold a task token).
struct About<'a> {
    bucket: Option<&'a str>,
    key: Option<&'a str>,
    execution: Option<&'a str>,
}

impl<'a> About<'a> {
    fn of(payload: &'a Value) -> About<'a> {
        let text = |pointers: &[&str]| pointers.iter().find_map(|p| payload.pointer(p).and_then(Value::as_str));
        About {
            bucket: text(&["/source/bucket", "/document/source/bucket", "/event/detail/bucket/name"]),
            key: text(&["/source/key", "/document/source/key", "/event/detail/object/key", "/detail/jobId"]),
            execution: text(&["/executionId"]),
        }
    }
}

/// A function's decision in a word: the kind of an upload, a status, the key it wrote.
fn decided(output: &Value) -> Option<String> {
    ["/asset/kind", "/status", "/kind", "/key", "/jobId"]
        .iter()
        .find_map(|p| output.pointer(p).and_then(Value::as_str))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Input {
        source: Source,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Source {
        bucket: String,
        size: u64,
    }

    #[test]
    fn a_payload_that_does_not_fit_names_its_field() {
        let wrong = serde_json::json!({"source": {"bucket": "watch", "size": "big"}});
        let d = parse_input::<Input>(wrong).unwrap_err();
        assert_eq!(d.error_type, "MediaFlow.InvalidInput");
        assert!(d.error_message.starts_with("`source.size` does not fit"), "{}", d.error_message);
        let missing = parse_input::<Input>(serde_json::json!({})).unwrap_err();
        assert!(missing.error_message.contains("missing field `source`"), "{}", missing.error_message);
        assert!(parse_input::<Input>(serde_json::json!({"source": {"bucket": "w", "size": 1}})).is_ok());
    }
}
