//! One raw HTTP/1.1 exchange, as any HTTP client can make it (the SDKs never send some of these
//! requests): unsigned, or signed with SigV4 by `aws-sigv4`, the signer the SDKs use.

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign as sigv4_sign};
use aws_sigv4::sign::v4::SigningParams;
use mediaflow_endpoint::Credentials;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Who signs a request: credentials, and the service it is signed for (`states`, …).
pub struct Signer<'a> {
    pub credentials: &'a Credentials,
    pub service: &'a str,
}

/// A request (`path` with its query) and its headers but the host's.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a str,
}

/// The headers `signer` adds to `request` sent to `host` at `at` (`authorization`,
/// `x-amz-date`), signing every header it has, the host's included, as the SDKs do.
pub fn sign(signer: &Signer<'_>, host: &str, request: &Request<'_>, at: SystemTime) -> Vec<(String, String)> {
    let identity = aws_credential_types::Credentials::from(signer.credentials).into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(mediaflow_endpoint::REGION)
        .name(signer.service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = request.headers.iter().copied().chain([("host", host)]);
    let signable =
        SignableRequest::new(request.method, request.path, headers, SignableBody::Bytes(request.body.as_bytes()))
            .unwrap();
    let (instructions, _) = sigv4_sign(signable, &params).unwrap().into_parts();
    instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Sends `request` to `address` (`host:port`), signed now by `signer` when there is one;
/// answers the status and the body.
pub async fn exchange(address: &str, request: &Request<'_>, signer: Option<&Signer<'_>>) -> (u16, String) {
    let mut headers: Vec<(String, String)> =
        request.headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    headers.push(("host".into(), address.into()));
    if let Some(signer) = signer {
        headers.extend(sign(signer, address, request, SystemTime::now()));
    }
    let mut text = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (name, value) in &headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n{}", request.body.len(), request.body));
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}
