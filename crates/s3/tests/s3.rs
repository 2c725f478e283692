//! The embedded S3 endpoint, driven over HTTP by the real `aws-sdk-s3` client.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use mediaflow_s3::EmbeddedS3;

async fn start(dir: &std::path::Path) -> EmbeddedS3 {
    EmbeddedS3::start(dir, &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn next_event(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<mediaflow_core::contract::ObjectCreatedEvent>,
) -> mediaflow_core::contract::ObjectCreatedEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("an event in time").expect("open")
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_round_trip_and_each_write_emits_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let client = s3.client();
    let mut events = s3.events();

    let key = "inputs/team a/talk+final 100%é.mp4";
    let put = client
        .put_object()
        .bucket("watch")
        .key(key)
        .body(ByteStream::from_static(b"hello media"))
        .send()
        .await
        .unwrap();
    let event = next_event(&mut events).await;
    assert_eq!(event.detail_type, "Object Created");
    assert_eq!(event.source, "aws.s3");
    assert_eq!(event.detail.bucket.name, "watch");
    assert_eq!(event.detail.object.key, key);
    assert_eq!(event.detail.object.size, 11);
    assert_eq!(format!("\"{}\"", event.detail.object.etag), put.e_tag().unwrap());
    assert_eq!(event.detail.reason.as_deref(), Some("PutObject"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/ObjectCreatedEvent.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(jsonschema::validator_for(&schema).unwrap().is_valid(&serde_json::to_value(&event).unwrap()));

    let got = client.get_object().bucket("watch").key(key).send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hello media");
    let listed = client.list_objects_v2().bucket("watch").prefix("inputs/").send().await.unwrap();
    assert_eq!(listed.contents().iter().map(|o| o.key().unwrap()).collect::<Vec<_>>(), [key]);

    client
        .copy_object()
        .bucket("public")
        .key("original/talk.mp4")
        .copy_source(format!("watch/{}", urlencode(key)))
        .send()
        .await
        .unwrap();
    let copied = next_event(&mut events).await;
    assert_eq!((copied.detail.bucket.name.as_str(), copied.detail.reason.as_deref()), ("public", Some("CopyObject")));
    assert_eq!(copied.detail.object.size, 11);
    let sequencers = [event.detail.object.sequencer.unwrap(), copied.detail.object.sequencer.unwrap()];
    assert!(sequencers[0] < sequencers[1], "sequencers grow: {sequencers:?}");
}

/// A client as the SDK builds it by default (unlike `EmbeddedS3::client`), with these credentials.
fn sdk_client(s3: &EmbeddedS3, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(s3.endpoint())
        .region(aws_sdk_s3::config::Region::new(mediaflow_endpoint::REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(access_key, secret_key, None, None, "test"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_uploads_complete_with_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let client = s3.client();
    let mut events = s3.events();
    let upload = client.create_multipart_upload().bucket("watch").key("inputs/big.mov").send().await.unwrap();
    let id = upload.upload_id().unwrap();
    let part_size = 5 * 1024 * 1024;
    let mut parts = Vec::new();
    for n in 1..=2 {
        let body = vec![n as u8; if n == 1 { part_size } else { 1000 }];
        let part = client
            .upload_part()
            .bucket("watch")
            .key("inputs/big.mov")
            .upload_id(id)
            .part_number(n)
            .body(body.into())
            .send()
            .await
            .unwrap();
        parts.push(CompletedPart::builder().part_number(n).e_tag(part.e_tag().unwrap()).build());
    }
    client
        .complete_multipart_upload()
        .bucket("watch")
        .key("inputs/big.mov")
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap();
    let event = next_event(&mut events).await;
    assert_eq!(event.detail.reason.as_deref(), Some("CompleteMultipartUpload"));
    assert_eq!(event.detail.object.size, part_size as u64 + 1000);
    let head = client.head_object().bucket("watch").key("inputs/big.mov").send().await.unwrap();
    assert_eq!(format!("\"{}\"", event.detail.object.etag), head.e_tag().unwrap());
    assert!(tokio::time::timeout(Duration::from_millis(200), events.recv()).await.is_err(), "parts emit no event");
}

#[tokio::test(flavor = "multi_thread")]
async fn of_twenty_conditional_writers_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let mut events = s3.events();
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let client = s3.client();
            tokio::spawn(async move {
                let body = format!("writer {i:02} ").repeat(20_000);
                let result = client
                    .put_object()
                    .bucket("watch")
                    .key(".mediaflow/claims/abc")
                    .if_none_match("*")
                    .body(body.clone().into_bytes().into())
                    .send()
                    .await;
                (body, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for writer in writers {
        let (body, result) = writer.await.unwrap();
        match result {
            Ok(_) => winners.push(body),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                assert_eq!(status, Some(412), "{e:?}");
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one conditional write succeeds");
    let stored = s3.client().get_object().bucket("watch").key(".mediaflow/claims/abc").send().await.unwrap();
    let stored = stored.body.collect().await.unwrap().into_bytes();
    assert_eq!(stored.as_ref(), winners[0].as_bytes(), "the winner's bytes, whole");
    next_event(&mut events).await;
    assert!(tokio::time::timeout(Duration::from_millis(200), events.recv()).await.is_err(), "one event for one write");
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_the_bytes_a_reader_takes() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let client = s3.client();
    let big = vec![7u8; 8 * 1024 * 1024];
    client.put_object().bucket("watch").key("inputs/big.bin").body(big.into()).send().await.unwrap();
    assert_eq!(s3.bytes_served("watch", "inputs/big.bin"), 0);
    let head = client.get_object().bucket("watch").key("inputs/big.bin").range("bytes=0-4095").send().await.unwrap();
    assert_eq!(head.body.collect().await.unwrap().into_bytes().len(), 4096);
    assert_eq!(s3.bytes_served("watch", "inputs/big.bin"), 4096);
    let all = client.get_object().bucket("watch").key("inputs/big.bin").send().await.unwrap();
    assert_eq!(all.body.collect().await.unwrap().into_bytes().len(), 8 * 1024 * 1024);
    assert_eq!(s3.bytes_served("watch", "inputs/big.bin"), 4096 + 8 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_default_checksums_leave_no_aws_chunked_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    // The SDK's default client: streaming uploads are aws-chunked with a trailing checksum.
    let own = s3.credentials();
    let client = sdk_client(&s3, &own.access_key_id, &own.secret_access_key);
    let file = dir.path().join("upload.bin");
    std::fs::write(&file, vec![1u8; 300_000]).unwrap();
    let body = ByteStream::from_path(&file).await.unwrap();
    client.put_object().bucket("watch").key("inputs/file.bin").body(body).send().await.unwrap();
    let head = client.head_object().bucket("watch").key("inputs/file.bin").send().await.unwrap();
    assert_eq!(head.content_length(), Some(300_000));
    assert_eq!(head.content_encoding(), None);
    let got = client.get_object().bucket("watch").key("inputs/file.bin").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), vec![1u8; 300_000].as_slice());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let err = sdk_client(&s3, "someone", "else").list_objects_v2().bucket("watch").send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
}

/// One HTTP/1.1 exchange over a plain socket, as a browser sends it: the status line and the
/// response's headers (lower-cased names).
async fn exchange(endpoint: &str, request: &str, body: &[u8]) -> (u16, std::collections::HashMap<String, String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(endpoint.trim_start_matches("http://")).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

/// A browser's preflight for a PUT from `origin` with the chunk count header.
fn preflight(host: &str, path: &str, origin: &str) -> String {
    format!(
        "OPTIONS {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: PUT\r\n\
         Access-Control-Request-Headers: x-amz-meta-chunks\r\nConnection: close\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_rules_answer_preflights_and_a_presigned_put_from_a_page_as_s3_does() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use mediaflow_core::cors::{local_origins, watch_rules};
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let client = s3.client();
    let host = s3.endpoint().trim_start_matches("http://").to_string();
    let page = "http://127.0.0.1:8084";

    // No rules yet: S3 refuses every preflight.
    let (status, _) = exchange(&s3.endpoint(), &preflight(&host, "/watch/inputs/a.mp4", page), b"").await;
    assert_eq!(status, 403);

    let rule = &watch_rules(local_origins())[0];
    let cors = aws_sdk_s3::types::CorsRule::builder()
        .set_allowed_origins(Some(rule.allowed_origins.clone()))
        .set_allowed_methods(Some(rule.allowed_methods.clone()))
        .set_allowed_headers(Some(rule.allowed_headers.clone()))
        .set_expose_headers(Some(rule.expose_headers.clone()))
        .max_age_seconds(3000)
        .build()
        .unwrap();
    let configuration = aws_sdk_s3::types::CorsConfiguration::builder().cors_rules(cors).build().unwrap();
    client.put_bucket_cors().bucket("watch").cors_configuration(configuration).send().await.unwrap();
    let kept = client.get_bucket_cors().bucket("watch").send().await.unwrap();
    assert_eq!(kept.cors_rules()[0].allowed_origins(), rule.allowed_origins);
    let none = client.get_bucket_cors().bucket("public").send().await.unwrap_err();
    assert_eq!(none.into_service_error().meta().code(), Some("NoSuchCORSConfiguration"));

    let (status, headers) = exchange(&s3.endpoint(), &preflight(&host, "/watch/inputs/a.mp4", page), b"").await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(headers["access-control-allow-origin"], page);
    assert_eq!(headers["access-control-allow-methods"], "PUT");
    assert_eq!(headers["access-control-allow-headers"], "x-amz-meta-chunks");
    assert_eq!(headers["access-control-expose-headers"], "ETag");
    let (status, _) =
        exchange(&s3.endpoint(), &preflight(&host, "/watch/inputs/a.mp4", "https://evil.example"), b"").await;
    assert_eq!(status, 403, "another origin is refused");

    // The PUT the page then sends to a presigned URL, with the header the URL was signed for.
    let presigned = client
        .put_object()
        .bucket("watch")
        .key("inputs/a.mp4.CHUNK0")
        .metadata("chunks", "2")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri: hyper::Uri = presigned.uri().parse().unwrap();
    let signed: String = presigned.headers().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
    let body = b"part zero";
    let put = format!(
        "PUT {} HTTP/1.1\r\nHost: {host}\r\nOrigin: {page}\r\n{signed}Content-Length: {}\r\nConnection: close\r\n\r\n",
        uri.path_and_query().unwrap(),
        body.len()
    );
    let (status, headers) = exchange(&s3.endpoint(), &put, body).await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(headers["access-control-allow-origin"], page);
    assert_eq!(headers["access-control-expose-headers"], "ETag");
    assert!(headers.contains_key("etag"));
    let head = client.head_object().bucket("watch").key("inputs/a.mp4.CHUNK0").send().await.unwrap();
    assert_eq!(head.metadata().unwrap()["chunks"], "2");

    // The rules outlive the endpoint.
    drop(s3);
    let s3 = start(dir.path()).await;
    let host = s3.endpoint().trim_start_matches("http://").to_string();
    let (status, _) = exchange(&s3.endpoint(), &preflight(&host, "/watch/x", page), b"").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_carry_each_objects_etag_as_s3_does() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let client = s3.client();
    let put = client
        .put_object()
        .bucket("watch")
        .key("inputs/a.txt")
        .body(ByteStream::from_static(b"a"))
        .send()
        .await
        .unwrap();
    let listed = client.list_objects_v2().bucket("watch").prefix("inputs/").send().await.unwrap();
    assert_eq!(listed.contents()[0].e_tag(), put.e_tag(), "{listed:?}");
}

/// S3 takes keys up to 1,024 bytes, whatever a file system takes: long keys (and long path
/// segments) are written, read, copied, listed in order with their ETags, paged, grouped,
/// assembled from parts and deleted like any other; a longer key is refused as S3 refuses it.
#[tokio::test(flavor = "multi_thread")]
async fn keys_as_long_as_s3_takes_are_stored_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let client = s3.client();
    let mut events = s3.events();
    let long = |name: &str| format!("inputs/{}/{name}-{}.mp4", "folder ".repeat(40).trim(), "x".repeat(300));
    let (a, b) = (long("a"), long("b"));
    assert!(a.len() > 500 && a.len() <= 1024, "{}", a.len());
    let put = client.put_object().bucket("watch").key(&a).body(ByteStream::from_static(b"first")).send().await.unwrap();
    assert_eq!(next_event(&mut events).await.detail.object.key, a);
    client
        .put_object()
        .bucket("watch")
        .key("inputs/short.mp4")
        .body(ByteStream::from_static(b"s"))
        .send()
        .await
        .unwrap();
    let got = client.get_object().bucket("watch").key(&a).send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"first");
    client.copy_object().bucket("watch").key(&b).copy_source(format!("watch/{}", urlencode(&a))).send().await.unwrap();
    assert_eq!(client.head_object().bucket("watch").key(&b).send().await.unwrap().content_length(), Some(5));

    let listed = client.list_objects_v2().bucket("watch").prefix("inputs/").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [a.as_str(), b.as_str(), "inputs/short.mp4"], "in key order, under their own names");
    assert_eq!(listed.contents()[0].e_tag(), put.e_tag());
    let grouped = client.list_objects_v2().bucket("watch").prefix("inputs/").delimiter("/").send().await.unwrap();
    let groups: Vec<&str> = grouped.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(grouped.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["inputs/short.mp4"]);
    let mut paged = Vec::new();
    let mut pages = client.list_objects_v2().bucket("watch").prefix("inputs/").max_keys(1).into_paginator().send();
    while let Some(page) = pages.next().await {
        paged.extend(page.unwrap().contents().iter().filter_map(|o| o.key().map(str::to_string)));
    }
    assert_eq!(paged, [a.clone(), b.clone(), "inputs/short.mp4".to_string()]);

    // Assembled from parts under a long key.
    let c = long("c");
    let upload = client.create_multipart_upload().bucket("watch").key(&c).send().await.unwrap();
    let id = upload.upload_id().unwrap();
    assert_eq!(upload.key(), Some(c.as_str()));
    let part = client
        .upload_part()
        .bucket("watch")
        .key(&c)
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"parts"))
        .send()
        .await
        .unwrap();
    let done = CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(1).e_tag(part.e_tag().unwrap()).build())
        .build();
    client
        .complete_multipart_upload()
        .bucket("watch")
        .key(&c)
        .upload_id(id)
        .multipart_upload(done)
        .send()
        .await
        .unwrap();
    let event = loop {
        let e = next_event(&mut events).await;
        if e.detail.object.key == c {
            break e;
        }
    };
    assert_eq!(event.detail.object.size, 5);

    client.delete_object().bucket("watch").key(&a).send().await.unwrap();
    let left = client.list_objects_v2().bucket("watch").prefix("inputs/").send().await.unwrap();
    assert_eq!(
        left.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(),
        [b.as_str(), c.as_str(), "inputs/short.mp4"]
    );

    let too_long = format!("inputs/{}", "y".repeat(1020));
    let refused = client
        .put_object()
        .bucket("watch")
        .key(&too_long)
        .body(ByteStream::from_static(b"n"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.into_service_error().meta().code(), Some("KeyTooLongError"));
}
