//! AwaitMediaConvert: S3 is the embedded endpoint; MediaConvert and Step Functions cannot run
//! here, so their requests are captured and their answers given, as the services send them.

use await_mediaconvert::{Clients, TaskRecord, create_job_body, handler};
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::{CaptureRequestReceiver, capture_request};
use aws_smithy_types::body::SdkBody;
use mediaflow_core::ErrorName;
use mediaflow_core::Named;
use mediaflow_core::classify::classify;
use mediaflow_core::contract::{Renditions, Source};
use mediaflow_core::keys::SourceKey;
use mediaflow_core::mediaconvert::{task_key, task_ref, to_wire};
use mediaflow_core::plan::{PlanConfig, job_for};
use mediaflow_core::probe::parse_ffprobe;
use mediaflow_s3::EmbeddedS3;
use serde_json::{Value, json};

const EXECUTION: &str = "arn:aws:states:us-east-1:111122223333:execution:mediaflow:run-1";
const TOKEN: &str = "AQCEAAAAKgAAAAMAAAAAAAAAAT0rlVkjlmoSR3Mxc5O1vXdbcIe2pnTy5CmiK3H1dIqKXVJLiyO0";

fn answer(status: u16, body: &str) -> http::Response<SdkBody> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(SdkBody::from(body.to_string()))
        .unwrap()
}

/// Clients whose MediaConvert and Step Functions calls are captured and answered.
fn clients(
    s3: &EmbeddedS3,
    mediaconvert: Option<http::Response<SdkBody>>,
    sfn: Option<http::Response<SdkBody>>,
) -> (Clients, CaptureRequestReceiver, CaptureRequestReceiver) {
    let (mc_http, mc_requests) = capture_request(mediaconvert);
    let (sfn_http, sfn_requests) = capture_request(sfn);
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let mediaconvert = aws_sdk_mediaconvert::Client::from_conf(
        aws_sdk_mediaconvert::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .http_client(mc_http)
            .build(),
    );
    let sfn = aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials)
            .http_client(sfn_http)
            .build(),
    );
    let clients = Clients {
        s3: s3.client(),
        mediaconvert,
        sfn,
        watch_bucket: "watch".into(),
        destination_bucket: "public".into(),
        role_arn: "arn:aws:iam::111122223333:role/mediaflow-mediaconvert".into(),
        application: "mediaflow".into(),
    };
    (clients, mc_requests, sfn_requests)
}

fn submit_payload(template: &Value) -> Value {
    let key = SourceKey::parse("inputs/team/talk.mov").unwrap();
    let probe = parse_ffprobe(
        json!({"streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080},
                           {"codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "48000"}],
               "format": {"format_name": "mov", "duration": "10"}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let config = PlanConfig::new("watch", "public");
    let plan = job_for(&key, &probe, "custom", template, &config).unwrap();
    json!({
        "action": "submit",
        "taskToken": TOKEN,
        "executionId": EXECUTION,
        "redriveCount": 0,
        "source": Source::new("watch", key.key(), 1, "e"),
        "asset": classify(&key, b"\0\0\0\x20ftypqt  "),
        "plan": plan,
    })
}

fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| leaves(v, format!("{path}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| leaves(v, format!("{path}/{i}"), out)),
        leaf => out.push((path, leaf.clone())),
    }
}

async fn start(dir: &std::path::Path) -> EmbeddedS3 {
    EmbeddedS3::start(dir, &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_sends_the_users_job_whole_and_keeps_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let created =
        answer(201, r#"{"job": {"id": "1700000000000-abc123", "role": "r", "settings": {}, "status": "SUBMITTED"}}"#);
    let (clients, mc_requests, _) = clients(&s3, Some(created), None);
    let template: Value = serde_json::from_str(include_str!("../../../crates/core/testdata/rich-job.json")).unwrap();
    let payload = submit_payload(&template);
    let reference = task_ref(EXECUTION, 0);
    let out = handler(payload.clone(), &clients).await.unwrap();
    assert_eq!(out, json!({"jobId": "1700000000000-abc123", "ref": reference}));

    let request = mc_requests.expect_request();
    assert!(request.uri().ends_with("/2017-08-29/jobs"), "{}", request.uri());
    let body_bytes = request.body().bytes().unwrap();
    assert_eq!(request.headers().get("content-length"), Some(body_bytes.len().to_string().as_str()));
    assert!(request.headers().get("authorization").unwrap().starts_with("AWS4-HMAC-SHA256"));
    let body: Value = serde_json::from_slice(body_bytes).unwrap();
    // Every field of the job BuildJob made is in the request, in the wire format.
    let job = &payload["plan"]["job"];
    let mut expected = Vec::new();
    leaves(&to_wire(job), String::new(), &mut expected);
    let mut sent = Vec::new();
    leaves(&body, String::new(), &mut sent);
    for leaf in &expected {
        assert!(sent.contains(leaf), "{} is missing from the CreateJob request", leaf.0);
    }
    assert_eq!(
        body["userMetadata"],
        json!({"team": "Docs & Training", "CostCenter": "42", "application": "mediaflow", "ref": reference})
    );
    assert_eq!(body["clientRequestToken"], reference.as_str());
    assert_eq!(body["role"], "arn:aws:iam::111122223333:role/mediaflow-mediaconvert");
    assert_eq!(
        body["settings"]["inputs"][0]["captionSelectors"]["Captions Selector 1"]["sourceSettings"]["sourceType"],
        "EMBEDDED"
    );
    assert_eq!(body, create_job_body(job, &clients.role_arn, "mediaflow", &reference));

    let record = s3.client().get_object().bucket("watch").key(task_key(&reference)).send().await.unwrap();
    let record: TaskRecord = serde_json::from_slice(&record.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!((record.task_token.as_str(), record.job_id.as_deref()), (TOKEN, Some("1700000000000-abc123")));
    assert_eq!(record.outputs.len(), 5, "{:?}", record.outputs);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_create_job_is_transient() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let throttled = http::Response::builder()
        .status(429)
        .header("x-amzn-errortype", "TooManyRequestsException")
        .body(SdkBody::from(r#"{"message": "Too many requests"}"#))
        .unwrap();
    let (mut clients, _, _) = clients(&s3, Some(throttled), None);
    clients.mediaconvert = aws_sdk_mediaconvert::Client::from_conf(
        clients
            .mediaconvert
            .config()
            .to_builder()
            .retry_config(aws_sdk_mediaconvert::config::retry::RetryConfig::disabled())
            .build(),
    );
    let err = handler(submit_payload(&mediaflow_core::templates::video()), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::Transient, "{err}");
}

async fn store_task(s3: &EmbeddedS3, reference: &str, outputs: Value) {
    let record = json!({"taskToken": TOKEN, "executionId": EXECUTION, "redriveCount": 0, "jobId": "1700000000000-abc123", "outputs": outputs});
    s3.client()
        .put_object()
        .bucket("watch")
        .key(task_key(reference))
        .body(record.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
}

fn job_event(status: &str, reference: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/events/mediaconvert-complete.json")).unwrap();
    event["detail"]["status"] = status.into();
    event["detail"]["userMetadata"] = json!({"application": "mediaflow", "ref": reference});
    event["detail"]["outputGroupDetails"][0]["outputDetails"][0]["outputFilePaths"] =
        json!(["s3://public/audiovideo/team/talk_1080p.mp4"]);
    if status == "ERROR" {
        event["detail"]["errorCode"] = json!(1040);
        event["detail"]["errorMessage"] = json!("Invalid input file");
    }
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn complete_hands_the_renditions_to_the_waiting_state() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let reference = task_ref(EXECUTION, 0);
    store_task(&s3, &reference, json!([])).await;
    let (clients, _, sfn_requests) = clients(&s3, None, Some(answer(200, "{}")));
    handler(job_event("COMPLETE", &reference), &clients).await.unwrap();
    let request = sfn_requests.expect_request();
    assert_eq!(request.headers().get("x-amz-target"), Some("AWSStepFunctions.SendTaskSuccess"));
    let body: Value = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
    assert_eq!(body["taskToken"], TOKEN);
    let output: Renditions = serde_json::from_str(body["output"].as_str().unwrap()).unwrap();
    assert_eq!(output.outputs[0].key, "audiovideo/team/talk_1080p.mp4");
    assert_eq!((output.outputs[0].label.as_deref(), output.outputs[0].height), (Some("1080p"), Some(1080)));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_fails_the_waiting_state_with_transcode_failed() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let reference = task_ref(EXECUTION, 0);
    store_task(&s3, &reference, json!([])).await;
    let (clients, _, sfn_requests) = clients(&s3, None, Some(answer(200, "{}")));
    handler(job_event("ERROR", &reference), &clients).await.unwrap();
    let request = sfn_requests.expect_request();
    assert_eq!(request.headers().get("x-amz-target"), Some("AWSStepFunctions.SendTaskFailure"));
    let body: Value = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
    assert_eq!(body["error"], "MediaFlow.TranscodeFailed");
    assert!(body["cause"].as_str().unwrap().contains("error 1040: Invalid input file"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_of_other_jobs_and_finished_waits_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let reference = task_ref(EXECUTION, 0);
    store_task(&s3, &reference, json!([])).await;
    let (clients, _, sfn_requests) = clients(&s3, None, None);
    let mut other = job_event("COMPLETE", &reference);
    other["detail"]["userMetadata"]["application"] = json!("someone-else");
    handler(other, &clients).await.unwrap();
    handler(job_event("COMPLETE", "unknown-ref"), &clients).await.unwrap();
    sfn_requests.expect_no_request();

    let timed_out =
        answer(400, r#"{"__type": "com.amazonaws.swf.base.model#TaskTimedOut", "message": "Task Timed Out"}"#);
    let (clients, _, _) = self::clients(&s3, None, Some(timed_out));
    handler(job_event("COMPLETE", &reference), &clients).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn check_asks_get_job_after_a_lost_event() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let reference = task_ref(EXECUTION, 0);
    store_task(&s3, &reference, json!([{"key": "audiovideo/team/talk_720p.mp4", "label": "720p"}])).await;
    let check = json!({"action": "check", "executionId": EXECUTION, "redriveCount": 0});

    let complete = answer(
        200,
        r#"{"job": {"id": "1700000000000-abc123", "role": "r", "settings": {}, "status": "COMPLETE",
        "outputGroupDetails": [{"outputDetails": [{"durationInMs": 10000, "videoDetails": {"widthInPx": 1280, "heightInPx": 720}}]}]}}"#,
    );
    let (clients, mc_requests, _) = clients(&s3, Some(complete), None);
    let out: Renditions = serde_json::from_value(handler(check.clone(), &clients).await.unwrap()).unwrap();
    assert!(mc_requests.expect_request().uri().ends_with("/2017-08-29/jobs/1700000000000-abc123"));
    assert_eq!(out.outputs[0].key, "audiovideo/team/talk_720p.mp4");
    assert_eq!((out.outputs[0].width, out.outputs[0].duration_ms), (Some(1280), Some(10000)));

    let running =
        answer(200, r#"{"job": {"id": "1700000000000-abc123", "role": "r", "settings": {}, "status": "PROGRESSING"}}"#);
    let (clients, _, _) = self::clients(&s3, Some(running), None);
    assert_eq!(handler(check.clone(), &clients).await.unwrap_err().name(), ErrorName::TranscodePending);

    let failed = answer(
        200,
        r#"{"job": {"id": "1700000000000-abc123", "role": "r", "settings": {}, "status": "ERROR", "errorCode": 1030, "errorMessage": "No audio"}}"#,
    );
    let (clients, _, _) = self::clients(&s3, Some(failed), None);
    let err = handler(check, &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::TranscodeFailed);
    assert!(err.to_string().contains("error 1030: No audio"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_payload_says_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let (clients, _, _) = clients(&s3, None, None);
    let err = handler(json!({"action": "transcode-please"}), &clients).await.unwrap_err();
    assert_eq!(err.name(), ErrorName::InvalidInput);
    assert!(err.to_string().starts_with("neither a Transcode payload nor a MediaConvert job event"), "{err}");
}

/// A 3-hour HLS ladder (four rungs of 1,800 segments) answers the waiting state within Step
/// Functions' 256 KiB: the segments go to a listing in staging, the answer carries its key and
/// the counts.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_ladder_answers_with_its_listing_not_its_segments() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = start(dir.path()).await;
    let reference = task_ref(EXECUTION, 0);
    let mut source = Source::new("watch", "inputs/team/talk.mp4", 10, "e1");
    source.sequencer = Some("01".into());
    let staged = |key: &str| mediaflow_core::publish::staged_key(&source, key);
    let put = |key: String, body: String| {
        let client = s3.client();
        async move { client.put_object().bucket("watch").key(key).body(body.into_bytes().into()).send().await.unwrap() }
    };
    let rungs = ["360p", "480p", "720p", "1080p"];
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    for rung in rungs {
        master.push_str(&format!("#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\ntalk_{rung}.m3u8\n"));
        let mut variant = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:6\n");
        for n in 1..=1800 {
            variant.push_str(&format!("#EXTINF:6.0,\ntalk_{rung}_{n:05}.ts\n"));
        }
        variant.push_str("#EXT-X-ENDLIST\n");
        put(staged(&format!("audiovideo/team/talk_{rung}.m3u8")), variant).await;
    }
    put(staged("audiovideo/team/talk.m3u8"), master).await;
    let record = json!({"taskToken": TOKEN, "executionId": EXECUTION, "redriveCount": 0, "jobId": "1700000000000-abc123",
        "outputs": [], "masters": [format!("s3://watch/{}", staged("audiovideo/team/talk.m3u8"))]});
    put(task_key(&reference), record.to_string()).await;

    let (clients, _, sfn_requests) = clients(&s3, None, Some(answer(200, "{}")));
    let mut event = job_event("COMPLETE", &reference);
    event["detail"]["outputGroupDetails"] = json!([]);
    handler(event, &clients).await.unwrap();
    let request = sfn_requests.expect_request();
    let body: Value = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
    let output = body["output"].as_str().unwrap();
    assert!(output.len() < 16 * 1024, "SendTaskSuccess carries {} bytes", output.len());
    let renditions: Renditions = serde_json::from_str(output).unwrap();
    let stream = &renditions.streams[0];
    assert_eq!(stream.master, "audiovideo/team/talk.m3u8");
    assert!(stream.variants.iter().all(|v| v.segments == 1800));
    let got = s3.client().get_object().bucket("watch").key(&stream.listing).send().await.unwrap();
    let listing: mediaflow_core::publish::SegmentListing =
        serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(listing.segments.len(), 7200);
    assert_eq!(listing.segments[0], "audiovideo/team/talk_360p_00001.ts");
    assert_eq!(listing.master, stream.master);
}
