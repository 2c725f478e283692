//! Who is calling: every request to an endpoint written here (Step Functions, the stand-ins)
//! must carry a SigV4 signature made with this machine's credentials, for this region and the
//! endpoint's service, as AWS requires (s3s checks S3's). The signature is made again with
//! `aws-sigv4`, the SDK's own signer, from the headers the request says it signed and the body
//! it carries, and compared in constant time: no canonical request is written by hand here.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDateTime, Utc};
use subtle::ConstantTimeEq;

use crate::{Credentials, REGION};

/// How far a request's `X-Amz-Date` may be from now, as AWS allows.
const SKEW: Duration = Duration::from_secs(15 * 60);

/// The largest body a signed request may have: the API's requests are small JSON documents
/// (Step Functions' largest, an execution's input, is 256 KiB).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Why a request was refused, named as AWS names it; each message says what to do.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("MissingAuthenticationTokenException: the request is not signed; {SIGN_WITH}")]
    Unsigned,
    #[error("IncompleteSignatureException: {0}")]
    Malformed(String),
    #[error("UnrecognizedClientException: the access key is not this endpoint's; {SIGN_WITH}")]
    UnknownKey,
    #[error("InvalidSignatureException: the X-Amz-Date is more than 15 minutes from now; set this machine's clock")]
    Expired,
    #[error("InvalidSignatureException: the signature does not match; check the secret access key ({SIGN_WITH})")]
    Mismatch,
}

/// Where a caller finds the credentials to sign with.
const SIGN_WITH: &str = "sign with the credentials `mediaflow serve` prints (also in <data>/credentials), \
                         or those its --access-key-id and --secret-access-key were given, in region us-east-1";

impl Refusal {
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::Unsigned => "MissingAuthenticationTokenException",
            Refusal::Malformed(_) => "IncompleteSignatureException",
            Refusal::UnknownKey => "UnrecognizedClientException",
            Refusal::Expired | Refusal::Mismatch => "InvalidSignatureException",
        }
    }
}

/// AWS's answer to an unauthenticated call: 403, the error's name in `x-amzn-errortype` (the
/// REST protocols read it there) and in the body's `__type` (the JSON protocols read it there).
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.name(), "message": self.to_string()});
        let headers = [("x-amzn-errortype", self.name()), (header::CONTENT_TYPE.as_str(), "application/json")];
        (StatusCode::FORBIDDEN, headers, body.to_string()).into_response()
    }
}

/// Whom an endpoint answers: requests signed with `credentials` for `service` (the name the
/// SDKs sign the service's requests with: `states`, `mediaconvert`, `transcribe`).
#[derive(Clone, Debug)]
pub struct Expected {
    pub credentials: Credentials,
    pub service: &'static str,
}

/// `router` with every request checked first.
pub fn require(router: axum::Router, credentials: Credentials, service: &'static str) -> axum::Router {
    let expected = Arc::new(Expected { credentials, service });
    router.layer(axum::middleware::from_fn_with_state(expected, check))
}

async fn check(State(expected): State<Arc<Expected>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let refused = |refusal: Refusal| {
        tracing::warn!(refused = refusal.name(), method = %parts.method, path = parts.uri.path(), "an unauthenticated request");
        refusal.into_response()
    };
    // Refused before a body is read for it.
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        return refused(Refusal::Unsigned);
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "a signed request's body is at most 8 MiB").into_response();
    };
    let uri = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if let Err(refusal) = verify(&expected, parts.method.as_str(), uri, &parts.headers, &body, SystemTime::now()) {
        return refused(refusal);
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// The `Authorization` header's parts.
struct Authorization<'a> {
    access_key_id: &'a str,
    /// `yyyymmdd`, as the credential scope dates it.
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
    /// SignedHeaders=<a;b>, Signature=<hex>`.
    fn parse(header: &'a str) -> Result<Authorization<'a>, Refusal> {
        let malformed = |what: &str| Refusal::Malformed(format!("the Authorization header {what}"));
        let fields = header.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| malformed("is not AWS4-HMAC-SHA256"))?;
        let field = |name: &str| fields.split(',').find_map(|f| f.trim().strip_prefix(name)?.strip_prefix('='));
        let credential = field("Credential").ok_or_else(|| malformed("has no Credential"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
            return Err(malformed("has a malformed credential scope"));
        };
        let signed_headers = field("SignedHeaders").ok_or_else(|| malformed("has no SignedHeaders"))?;
        let signature = field("Signature").ok_or_else(|| malformed("has no Signature"))?;
        Ok(Authorization {
            access_key_id,
            date,
            region,
            service,
            signed_headers: signed_headers.split(';').collect(),
            signature,
        })
    }
}

/// Whether the request (`uri` its path and query, as received) is signed as `expected` at
/// about `now`.
pub fn verify(
    expected: &Expected,
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &Bytes,
    now: SystemTime,
) -> Result<(), Refusal> {
    let malformed = |what: String| Refusal::Malformed(what);
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = Authorization::parse(text("authorization").ok_or(Refusal::Unsigned)?)?;
    let credentials = &expected.credentials;
    if auth.access_key_id.as_bytes().ct_eq(credentials.access_key_id.as_bytes()).unwrap_u8() != 1 {
        return Err(Refusal::UnknownKey);
    }
    if auth.region != REGION || auth.service != expected.service {
        let scope = format!("{}/{}", auth.region, auth.service);
        return Err(malformed(format!("the credential scope is {scope}, not {REGION}/{}", expected.service)));
    }
    // The host and the time are always signed (aws-sigv4 could not sign again without them).
    for required in ["host", "x-amz-date"] {
        if !auth.signed_headers.contains(&required) {
            return Err(malformed(format!("SignedHeaders lacks {required}")));
        }
    }
    let amz_date = text("x-amz-date").ok_or_else(|| malformed("no X-Amz-Date header".into()))?;
    let signed_at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| malformed(format!("X-Amz-Date {amz_date} is not yyyymmddThhmmssZ")))?
        .and_utc();
    if amz_date.get(..8) != Some(auth.date) {
        return Err(malformed("the credential scope's date is not the X-Amz-Date's".into()));
    }
    let skew = (signed_at - chrono::DateTime::<Utc>::from(now)).abs();
    if skew.to_std().unwrap_or(Duration::MAX) > SKEW {
        return Err(Refusal::Expired);
    }
    // Exactly the headers the client says it signed, each with its values as received (a
    // repeated header's joined with commas, as signers join them).
    let mut signed = Vec::new();
    for name in &auth.signed_headers {
        let values: Result<Vec<&str>, _> = headers.get_all(*name).iter().map(|v| v.to_str()).collect();
        let values = values.map_err(|_| malformed(format!("signed header {name} is not text")))?;
        if values.is_empty() {
            return Err(malformed(format!("signed header {name} is missing")));
        }
        signed.push((*name, values.join(",")));
    }
    // The body as received, always: a payload hash the client sends is not trusted (only S3
    // takes one, or UNSIGNED-PAYLOAD, and s3s checks S3's).
    let request =
        SignableRequest::new(method, uri, signed.iter().map(|(k, v)| (*k, v.as_str())), SignableBody::Bytes(body))
            .map_err(|e| malformed(format!("the request cannot be signed: {e}")))?;
    let mut settings = SigningSettings::default();
    // Sign what the client signed, not the signer's own choice of headers.
    settings.excluded_headers = Some(Vec::new());
    let identity = aws_credential_types::Credentials::from(credentials).into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(expected.service)
        .time(signed_at.into())
        .settings(settings)
        .build()
        .map_err(|e| malformed(e.to_string()))?
        .into();
    let made = sign(request, &params).map_err(|e| malformed(format!("the request cannot be signed: {e}")))?;
    if made.signature().as_bytes().ct_eq(auth.signature.as_bytes()).unwrap_u8() != 1 {
        return Err(Refusal::Mismatch);
    }
    Ok(())
}
