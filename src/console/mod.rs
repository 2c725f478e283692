//! The console `mediaflow serve` serves on loopback: an upload page and a view of the
//! executions as the Step Functions console shows them. The pages are files built into the
//! binary (`assets/`, plain HTML and JavaScript, no build step); the routes are axum's. What the
//! pages show comes from the platform's own APIs: the Step Functions operations in-process and
//! the S3 endpoint through the SDK, never from files on disk.

mod api;
mod guard;
mod outputs;
mod uploads;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use mediaflow_stepfunctions::Service;
use tokio::net::TcpListener;

use guard::Guard;

/// What the console reads and drives.
pub struct Backend {
    pub sfn: std::sync::Arc<Service>,
    pub machine_arn: String,
    pub s3: aws_sdk_s3::Client,
    /// The S3 endpoint the browser sends parts to, for the page's Content-Security-Policy.
    pub s3_endpoint: String,
    pub watch_bucket: String,
    pub public_bucket: String,
    /// Where each execution's log is kept (`logs.rs`).
    pub logs: std::path::PathBuf,
}

struct Shared {
    backend: Backend,
    guard: Guard,
}

type AppState = State<Arc<Shared>>;

/// A running console; dropping it stops it.
pub struct Console {
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves the console on `addr`, which must be a loopback address (port 0: any free port).
pub async fn start(addr: &str, backend: Backend) -> Result<Console> {
    let addr: SocketAddr = addr.parse().with_context(|| format!("--console {addr} is not an address"))?;
    if !addr.ip().is_loopback() {
        bail!("the console listens on loopback only (127.0.0.1 or ::1), not {addr}: it can upload, stop and redrive");
    }
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("the console cannot listen on {addr} (pick another --console)"))?;
    let port = listener.local_addr()?.port();
    let guard = Guard { port, token: uuid::Uuid::new_v4().simple().to_string() };
    let shared = Arc::new(Shared { backend, guard });
    let app = Router::new()
        .route("/", get(page))
        .route("/assets/{*name}", get(asset))
        .route("/api/state-machine", get(api::state_machine))
        .route("/api/executions", get(api::list))
        .route("/api/execution", get(api::describe))
        .route("/api/execution/redrive", post(api::redrive))
        .route("/api/execution/stop", post(api::stop))
        .route("/api/uploads/parts", get(uploads::parts))
        .route("/api/uploads/presign", post(uploads::presign))
        .route("/api/outputs", get(outputs::outputs))
        .route("/api/changes", get(api::changes))
        .route("/files/{*key}", get(outputs::file))
        .layer(middleware::from_fn_with_state(shared.clone(), check))
        .with_state(shared);
    // Answers go out at once (`TCP_NODELAY`), as the platform's endpoints' do: a streamed file
    // (a video seek) would otherwise wait for the browser's delayed ACK after its headers.
    let listener = listener.tap_io(|socket| {
        let _ = socket.set_nodelay(true);
    });
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("mediaflow: the console stopped: {e}");
        }
    });
    Ok(Console { url: format!("http://127.0.0.1:{port}/"), server })
}

/// Every request passes the [`Guard`] first; every answer forbids framing (no clickjacking of
/// Redrive) and sniffing.
async fn check(State(shared): AppState, request: Request, next: Next) -> Response {
    if let Err(refusal) = shared.guard.check(request.method(), request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": "Forbidden", "message": refusal.to_string()})),
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    response
}

/// The files of the page, built into the binary.
const ASSETS: &[(&str, &str, &str)] = &[
    ("console.css", "text/css", include_str!("assets/console.css")),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
    ("app.js", "text/javascript", include_str!("assets/app.js")),
    ("executions.js", "text/javascript", include_str!("assets/executions.js")),
    ("graph.js", "text/javascript", include_str!("assets/graph.js")),
    ("upload.js", "text/javascript", include_str!("assets/upload.js")),
    ("outputs.js", "text/javascript", include_str!("assets/outputs.js")),
    ("storyboard.js", "text/javascript", include_str!("assets/storyboard.js")),
    ("vendor/dagre.min.js", "text/javascript", include_str!("assets/vendor/dagre.min.js")),
    ("vendor/hls.min.js", "text/javascript", include_str!("assets/vendor/hls.min.js")),
];

/// The page, with this start's session token in it. Its scripts and styles come only from the
/// console; its parts go only to the S3 endpoint; its HLS player feeds the video element
/// through a `blob:` URL (Media Source Extensions).
async fn page(State(shared): AppState) -> Response {
    let html = include_str!("assets/index.html").replace("{{TOKEN}}", &shared.guard.token);
    let policy = format!(
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self' {}; frame-ancestors 'none'",
        shared.backend.s3_endpoint
    );
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if let Ok(policy) = header::HeaderValue::from_str(&policy) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => {
            ([(header::CONTENT_TYPE, *kind), (header::CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A refused or failed call: its status, and a JSON body with a stable `error` name and a message.
pub struct Refused {
    status: StatusCode,
    error: &'static str,
    message: String,
}

impl Refused {
    fn new(status: StatusCode, error: &'static str, message: impl std::fmt::Display) -> Refused {
        Refused { status, error, message: message.to_string() }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "message": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}

/// What a route answers.
type Answer = Result<Response, Refused>;
