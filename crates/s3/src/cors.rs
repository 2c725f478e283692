//! CORS for the embedded S3 endpoint, as S3 answers it (s3s has none of it): each bucket's
//! rules (`PutBucketCors`, kept under the data folder), preflights (`OPTIONS`) answered from
//! them, and the `Access-Control-*` headers on the responses to an allowed origin's requests.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use mediaflow_core::cors::{CorsRule, first_allowing};
use s3s::service::S3Service;
use s3s::{Body, HttpError, HttpResponse};

/// Each bucket's rules, kept as `<root>/.cors/<bucket>.json` (not a bucket: a bucket's name
/// cannot start with a dot).
pub(crate) struct BucketCors {
    dir: PathBuf,
    rules: Mutex<HashMap<String, Vec<CorsRule>>>,
}

impl BucketCors {
    pub(crate) fn open(root: &Path) -> io::Result<BucketCors> {
        let dir = root.join(".cors");
        std::fs::create_dir_all(&dir)?;
        let mut rules = HashMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let (Some(bucket), Some("json")) =
                (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|e| e.to_str()))
            else {
                continue;
            };
            let kept: Vec<CorsRule> = serde_json::from_slice(&std::fs::read(&path)?).map_err(io::Error::other)?;
            rules.insert(bucket.to_string(), kept);
        }
        Ok(BucketCors { dir, rules: Mutex::new(rules) })
    }

    pub(crate) fn get(&self, bucket: &str) -> Option<Vec<CorsRule>> {
        self.rules.lock().expect("not poisoned").get(bucket).cloned()
    }

    pub(crate) fn put(&self, bucket: &str, rules: Vec<CorsRule>) -> io::Result<()> {
        let body = serde_json::to_vec_pretty(&rules).map_err(io::Error::other)?;
        mediaflow_endpoint::files::write_whole(&self.dir.join(format!("{bucket}.json")), &body)?;
        self.rules.lock().expect("not poisoned").insert(bucket.to_string(), rules);
        Ok(())
    }

    pub(crate) fn delete(&self, bucket: &str) -> io::Result<()> {
        self.rules.lock().expect("not poisoned").remove(bucket);
        match std::fs::remove_file(self.dir.join(format!("{bucket}.json"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The S3 service with CORS in front of it.
#[derive(Clone)]
pub(crate) struct WithCors {
    pub(crate) s3: S3Service,
    pub(crate) cors: Arc<BucketCors>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The bucket of a path-style request: its first path segment.
fn bucket_of(request: &Request<Incoming>) -> String {
    request.uri().path().trim_start_matches('/').split('/').next().unwrap_or_default().to_string()
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// The headers S3 adds for a request `rule` allows.
fn allow(headers: &mut HeaderMap, origin: &str, rule: &CorsRule) {
    let any = rule.allowed_origins.iter().any(|o| o == "*");
    set(headers, "access-control-allow-origin", if any { "*" } else { origin });
    if !rule.expose_headers.is_empty() {
        set(headers, "access-control-expose-headers", &rule.expose_headers.join(", "));
    }
    if let Some(age) = rule.max_age_seconds {
        set(headers, "access-control-max-age", &age.to_string());
    }
    set(headers, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

/// A 403 with S3's error body.
fn forbidden(message: &str) -> HttpResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessForbidden</Code><Message>{message}</Message></Error>"
    );
    let mut response = HttpResponse::new(Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    set(response.headers_mut(), "content-type", "application/xml");
    response
}

impl WithCors {
    /// An `OPTIONS` preflight, answered from the bucket's rules.
    fn preflight(&self, request: &Request<Incoming>, origin: &str, method: &str) -> HttpResponse {
        let Some(rules) = self.cors.get(&bucket_of(request)) else {
            return forbidden("CORSResponse: CORS is not enabled for this bucket.");
        };
        let asked = header(request.headers(), "access-control-request-headers").unwrap_or_default();
        let asked: Vec<&str> = asked.split(',').map(str::trim).filter(|h| !h.is_empty()).collect();
        let Some(rule) = first_allowing(&rules, origin, method, &asked) else {
            return forbidden(
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, \
                 request method / Access-Control-Request-Method or Access-Control-Request-Headers are not \
                 whitelisted by the resource's CORS spec.",
            );
        };
        let mut response = HttpResponse::new(Body::empty());
        let headers = response.headers_mut();
        allow(headers, origin, rule);
        set(headers, "access-control-allow-methods", method);
        if !asked.is_empty() {
            set(headers, "access-control-allow-headers", &asked.join(", "));
        }
        response
    }
}

impl hyper::service::Service<Request<Incoming>> for WithCors {
    type Response = HttpResponse;
    type Error = HttpError;
    type Future = BoxFuture<'static, Result<HttpResponse, HttpError>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let origin = header(request.headers(), "origin").map(str::to_string);
        let Some(origin) = origin else { return hyper::service::Service::call(&self.s3, request) };
        if request.method() == Method::OPTIONS
            && let Some(method) = header(request.headers(), "access-control-request-method")
        {
            let response = self.preflight(&request, &origin, method);
            return Box::pin(async move { Ok(response) });
        }
        let (method, rules) = (request.method().to_string(), self.cors.get(&bucket_of(&request)));
        let answer = hyper::service::Service::call(&self.s3, request);
        Box::pin(async move {
            let mut response = answer.await?;
            let rule = rules.as_deref().and_then(|rules| first_allowing(rules, &origin, &method, &[]));
            if let Some(rule) = rule {
                allow(response.headers_mut(), &origin, rule);
            }
            Ok(response)
        })
    }
}
