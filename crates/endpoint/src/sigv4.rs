//! Who is calling: every request to an endpoint written here (Step Functions, the stand-ins)
//! must carry a SigV4 signature made with this machine's credentials, as AWS requires (s3s
//! checks S3's). The signature is made again with `aws-sigv4`, the SDK's own signer, from the
//! parts the request says it signed, and compared in constant time: no canonical request is
//! written by hand here.

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

use crate::Credentials;

/// How far a request's `X-Amz-Date` may be from now, as AWS allows.
const SKEW: Duration = Duration::from_secs(15 * 60);

/// The largest body a signed request may have: the API's requests are small JSON documents
/// (Step Functions' largest, an execution's input, is 256 KiB).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Why a request was refused, named as AWS names it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("MissingAuthenticationTokenException: the request is not signed")]
    Unsigned,
    #[error("IncompleteSignatureException: {0}")]
    Malformed(String),
    #[error("UnrecognizedClientException: the access key is not this endpoint's")]
    UnknownKey,
    #[error("InvalidSignatureException: the X-Amz-Date is more than 15 minutes from now")]
    Expired,
    #[error("InvalidSignatureException: the signature does not match")]
    Mismatch,
}

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

/// `router` with every request checked against `credentials` first.
pub fn require(router: axum::Router, credentials: Credentials) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(Arc::new(credentials), check))
}

async fn check(State(credentials): State<Arc<Credentials>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "a signed request's body is at most 8 MiB").into_response();
    };
    let uri = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if let Err(refusal) = verify(&credentials, parts.method.as_str(), uri, &parts.headers, &body, SystemTime::now()) {
        tracing::warn!(refused = refusal.name(), method = %parts.method, path = parts.uri.path(), "an unauthenticated request");
        return refusal.into_response();
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

/// Whether the request (`uri` its path and query) is signed with `credentials` at about `now`.
pub fn verify(
    credentials: &Credentials,
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &Bytes,
    now: SystemTime,
) -> Result<(), Refusal> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = Authorization::parse(text("authorization").ok_or(Refusal::Unsigned)?)?;
    if auth.access_key_id.as_bytes().ct_eq(credentials.access_key_id.as_bytes()).unwrap_u8() != 1 {
        return Err(Refusal::UnknownKey);
    }
    let amz_date = text("x-amz-date").ok_or_else(|| Refusal::Malformed("no X-Amz-Date header".into()))?;
    let signed_at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| Refusal::Malformed(format!("X-Amz-Date {amz_date} is not yyyymmddThhmmssZ")))?
        .and_utc();
    if !amz_date.starts_with(auth.date) {
        return Err(Refusal::Malformed("the credential scope's date is not the X-Amz-Date's".into()));
    }
    let skew = (signed_at - chrono::DateTime::<Utc>::from(now)).abs();
    if skew.to_std().unwrap_or(Duration::MAX) > SKEW {
        return Err(Refusal::Expired);
    }
    // Exactly the headers the client says it signed, with their values as received.
    let mut signed = Vec::new();
    for name in &auth.signed_headers {
        let value = text(name).ok_or_else(|| Refusal::Malformed(format!("signed header {name} is missing")))?;
        signed.push((*name, value));
    }
    let body = match text("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => SignableBody::UnsignedPayload,
        Some(hash) => SignableBody::Precomputed(hash.to_string()),
        None => SignableBody::Bytes(body),
    };
    let request = SignableRequest::new(method, uri, signed.into_iter(), body)
        .map_err(|e| Refusal::Malformed(format!("the request cannot be signed: {e}")))?;
    let mut settings = SigningSettings::default();
    // Sign what the client signed, not the signer's own choice of headers.
    settings.excluded_headers = Some(Vec::new());
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        None,
        None,
        "mediaflow",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(signed_at.into())
        .settings(settings)
        .build()
        .map_err(|e| Refusal::Malformed(e.to_string()))?
        .into();
    let expected =
        sign(request, &params).map_err(|e| Refusal::Malformed(format!("the request cannot be signed: {e}")))?;
    if expected.signature().as_bytes().ct_eq(auth.signature.as_bytes()).unwrap_u8() != 1 {
        return Err(Refusal::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::SigningSettings;

    /// The headers a client signing at `at` sends, as the SDKs sign (aws-sigv4).
    fn signed(credentials: &Credentials, body: &str, at: SystemTime) -> HeaderMap {
        let base = [("host", "127.0.0.1:9"), ("x-amz-target", "AWSStepFunctions.ListStateMachines")];
        let identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            None,
            None,
            "t",
        )
        .into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("states")
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let request =
            SignableRequest::new("POST", "/", base.into_iter(), SignableBody::Bytes(body.as_bytes())).unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        for (name, value) in base.into_iter().chain(instructions.headers()) {
            headers.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_signature_holds_for_its_own_request_within_fifteen_minutes() {
        let own = Credentials::random();
        let at = SystemTime::now();
        let headers = signed(&own, "{}", at);
        let check = |headers: &HeaderMap, body: &str, now: SystemTime| {
            verify(&own, "POST", "/", headers, &Bytes::from(body.to_string()), now)
        };
        assert_eq!(check(&headers, "{}", at + Duration::from_secs(60)), Ok(()));
        assert_eq!(check(&headers, "{\"a\":1}", at), Err(Refusal::Mismatch), "another body");
        assert_eq!(check(&headers, "{}", at + Duration::from_secs(16 * 60)), Err(Refusal::Expired));
        let mut moved = headers.clone();
        moved.insert("x-amz-target", "AWSStepFunctions.DeleteStateMachine".parse().unwrap());
        assert_eq!(check(&moved, "{}", at), Err(Refusal::Mismatch), "a signed header changed");
        assert_eq!(check(&HeaderMap::new(), "{}", at), Err(Refusal::Unsigned));
        let other = signed(&Credentials::random(), "{}", at);
        assert_eq!(check(&other, "{}", at), Err(Refusal::UnknownKey));
        let mut garbled = headers.clone();
        garbled.insert("authorization", "AWS4-HMAC-SHA256 Credential=x".parse().unwrap());
        assert!(matches!(check(&garbled, "{}", at), Err(Refusal::Malformed(_))));
    }
}
