//! Each execution's log on this machine: what the functions log while they run a state of an
//! execution (the engine runs each Task in a span naming both) is kept, one JSON object a
//! line, in `<data>/logs/<execution name>.jsonl`: the lines Lambda would send to CloudWatch,
//! with the state. `executions show` prints them after the trace; the console shows each
//! state's.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Keeps each execution's log in `dir`; installed once a process (the first platform's). Only
/// what the functions and the engine say at INFO and above: the SDKs' own chatter stays out.
/// What the platform's plumbing warns of (an event its bus could not deliver, a request an
/// endpoint refused) goes to stderr, where whoever runs `serve` or `process` sees it.
pub fn keep_in(dir: PathBuf) {
    let _ = std::fs::create_dir_all(&dir);
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter_fn(plumbing));
    let executions = ExecutionLogs { dir }.with_filter(filter_fn(ours));
    let _ = tracing_subscriber::registry().with(executions).with(stderr).try_init();
}

/// The platform's bus and its endpoints' check of who calls, at WARN and above.
fn plumbing(meta: &tracing::Metadata<'_>) -> bool {
    let from = ["mediaflow_standins::eventbridge", "mediaflow_endpoint"];
    *meta.level() <= Level::WARN && from.iter().any(|t| meta.target().starts_with(t))
}

/// What this project says at INFO and above, without the SDKs' and HTTP stacks' own chatter.
pub fn ours(meta: &tracing::Metadata<'_>) -> bool {
    let noisy = ["aws_", "hyper", "h2", "rustls", "tower", "s3s"].iter().any(|t| meta.target().starts_with(t));
    *meta.level() <= Level::INFO && !noisy
}

/// The log of execution `name` kept in `dir`, line by line.
pub fn read(dir: &Path, name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.jsonl"))).unwrap_or_default();
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// A line as a person reads it: `state  LEVEL message key=value …`.
pub fn describe(line: &Value) -> String {
    let mut text = format!(
        "{:<18} {:<5} {}",
        line["state"].as_str().unwrap_or_default(),
        line["level"].as_str().unwrap_or_default(),
        line["message"].as_str().unwrap_or_default()
    );
    for (key, value) in line.as_object().into_iter().flatten() {
        if !matches!(key.as_str(), "state" | "level" | "message" | "timestamp" | "execution") {
            let shown = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            text.push_str(&format!(" {key}={shown}"));
        }
    }
    text
}

struct ExecutionLogs {
    dir: PathBuf,
}

/// The fields of a span or an event.
#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), json!(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), json!(value));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for ExecutionLogs {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let Some(scope) = context.event_scope(event) else { return };
        let Some(state) = scope.from_root().find_map(|span| {
            let extensions = span.extensions();
            let fields = extensions.get::<Fields>()?;
            fields.0.get("execution").is_some().then(|| fields.0.clone())
        }) else {
            return;
        };
        let Some(execution) = state.get("execution").and_then(Value::as_str).filter(|e| !e.is_empty()) else { return };
        let mut line = Fields::default();
        event.record(&mut line);
        let mut out = Map::new();
        out.insert("timestamp".into(), json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        out.insert("level".into(), json!(event.metadata().level().as_str()));
        out.insert("state".into(), state.get("state").cloned().unwrap_or_default());
        out.extend(line.0);
        let name = execution.rsplit(':').next().unwrap_or(execution);
        if let Ok(mut file) =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("{name}.jsonl")))
        {
            let _ = writeln!(file, "{}", Value::Object(out));
        }
    }
}
