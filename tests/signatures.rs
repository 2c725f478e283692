//! Who may call: every endpoint here (S3, Step Functions, the MediaConvert and Transcribe
//! stand-ins) answers a request signed with its credentials, and refuses one that is unsigned,
//! signed with another access key, or signed with the wrong secret, as AWS refuses them.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderName};
use mediaflow_endpoint::sigv4::{Expected, Refusal, verify};
use mediaflow_endpoint::{Credentials, sdk_config};
use mediaflow_s3::EmbeddedS3;
use mediaflow_standins::{mediaconvert, transcribe};
use mediaflow_stepfunctions::StepFunctionsEndpoint;
use mediaflow_stepfunctions::engine::{Engine, Registry};
use mediaflow_testkit::http::{Request, Signer, exchange};

/// Who signs: the endpoint's own credentials, another access key, the right key with a wrong
/// secret.
fn signers(own: &Credentials) -> [(&'static str, Credentials); 3] {
    let mut wrong_secret = own.clone();
    wrong_secret.secret_access_key = Credentials::random().secret_access_key;
    [("own", own.clone()), ("another key", Credentials::random()), ("a wrong secret", wrong_secret)]
}

/// An unsigned request to `url` (what any HTTP client sends by default) is refused with 403.
async fn unsigned_is_refused(url: &str, request: &Request<'_>) -> String {
    let (status, body) = exchange(url.trim_start_matches("http://"), request, None).await;
    assert_eq!(status, 403, "{url} answered an unsigned {} {}: {body}", request.method, request.path);
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_answers_its_own_signature_only() {
    let dir = tempfile::tempdir().unwrap();
    let own = Credentials::random();
    let any = "127.0.0.1:0".parse().unwrap();
    let s3 = EmbeddedS3::start_with(&dir.path().join("s3"), &["watch"], any, own.clone()).await.unwrap();
    let sfn = StepFunctionsEndpoint::start(Engine::new(Registry::default()), None, any, own.clone()).await.unwrap();
    let settings = mediaconvert::Settings {
        credentials: own.clone(),
        ..mediaconvert::Settings::new(s3.client(), dir.path().join("mc"))
    };
    let mc = mediaconvert::MediaConvertEndpoint::start(settings, any).await.unwrap();
    let settings = transcribe::Settings {
        credentials: own.clone(),
        ..transcribe::Settings::new(s3.client(), dir.path().join("tr"), None)
    };
    let tr = transcribe::TranscribeEndpoint::start(settings, any).await.unwrap();

    for (who, credentials) in signers(&own) {
        let expected = who == "own";
        let config = |url: String| sdk_config(url, &credentials);
        let s3_client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config(s3.endpoint())).force_path_style(true).build(),
        );
        let listed = s3_client.list_objects_v2().bucket("watch").send().await;
        assert_eq!(listed.is_ok(), expected, "S3, signed with {who}: {listed:?}");

        let machines = aws_sdk_sfn::Client::new(&config(sfn.endpoint())).list_state_machines().send().await;
        assert_eq!(machines.is_ok(), expected, "Step Functions, signed with {who}: {machines:?}");
        if let Err(e) = machines {
            let code = e.into_service_error().meta().code().unwrap_or_default().to_string();
            let named = if who == "another key" { "UnrecognizedClientException" } else { "InvalidSignatureException" };
            assert_eq!(code, named, "Step Functions, signed with {who}");
        }

        // A query string, and a path the SDK percent-encodes, are signed as received.
        let mediaconvert = aws_sdk_mediaconvert::Client::new(&config(mc.endpoint()));
        let jobs = mediaconvert.list_jobs().max_results(5).send().await;
        assert_eq!(jobs.is_ok(), expected, "MediaConvert, signed with {who}: {jobs:?}");
        let odd = mediaconvert.get_job().id("a job: 1/2 & ü").send().await.unwrap_err().into_service_error();
        assert_eq!(odd.is_not_found_exception(), expected, "GetJob, signed with {who}: {odd:?}");

        let transcriptions =
            transcribe::sdk::Client::new(&config(tr.endpoint())).list_transcription_jobs().send().await;
        assert_eq!(transcriptions.is_ok(), expected, "Transcribe, signed with {who}: {transcriptions:?}");
    }

    let json = |target: &'static str, version: &'static str| [("x-amz-target", target), ("content-type", version)];
    let sfn_headers = json("AWSStepFunctions.ListStateMachines", "application/x-amz-json-1.0");
    let tr_headers = json("Transcribe.ListTranscriptionJobs", "application/x-amz-json-1.1");
    let said =
        unsigned_is_refused(&sfn.endpoint(), &Request { method: "POST", path: "/", headers: &sfn_headers, body: "{}" })
            .await;
    assert!(said.contains("MissingAuthenticationTokenException"), "{said}");
    let list_jobs = Request { method: "GET", path: "/2017-08-29/jobs", headers: &[], body: "" };
    unsigned_is_refused(&mc.endpoint(), &list_jobs).await;
    unsigned_is_refused(&tr.endpoint(), &Request { method: "POST", path: "/", headers: &tr_headers, body: "{}" }).await;
    unsigned_is_refused(&s3.endpoint(), &Request { method: "GET", path: "/watch?list-type=2", headers: &[], body: "" })
        .await;

    // Signed by hand as the SDKs sign, a raw request is answered: the check is SigV4's, not the
    // SDK's.
    let signer = Signer { credentials: &own, service: "mediaconvert" };
    let (status, body) = exchange(mc.endpoint().trim_start_matches("http://"), &list_jobs, Some(&signer)).await;
    assert_eq!(status, 200, "{body}");
}

/// What the check refuses, request by request: a changed body or signed header, a signature
/// more than 15 minutes from now, another region or service, a signature that leaves the host
/// out.
#[test]
fn a_signature_holds_for_its_own_request_only_and_for_fifteen_minutes() {
    let own = Credentials::random();
    let expected = Expected { credentials: own.clone(), service: "states" };
    let target = [("x-amz-target", "AWSStepFunctions.ListStateMachines")];
    let request = Request { method: "POST", path: "/", headers: &target, body: "{}" };
    let headers_of = |signer: &Signer, at: SystemTime| {
        let mut headers = HeaderMap::new();
        let added = mediaflow_testkit::http::sign(signer, "127.0.0.1:9", &request, at);
        for (name, value) in target.iter().map(|(k, v)| (k.to_string(), v.to_string())).chain(added) {
            headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        headers.insert("host", "127.0.0.1:9".parse().unwrap());
        headers
    };
    let at = SystemTime::now();
    let signed = headers_of(&Signer { credentials: &own, service: "states" }, at);
    let check = |headers: &HeaderMap, body: &str, now: SystemTime| {
        verify(&expected, "POST", "/", headers, &body.to_string().into(), now)
    };
    assert_eq!(check(&signed, "{}", at + Duration::from_secs(60)), Ok(()));
    assert_eq!(check(&signed, "{}", at - Duration::from_secs(60)), Ok(()), "a clock a little behind");
    assert_eq!(check(&signed, "{\"maxResults\":1}", at), Err(Refusal::Mismatch), "another body");
    let mut vouched = signed.clone();
    let hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"; // sha256("{}")
    vouched.insert("x-amz-content-sha256", hash.parse().unwrap());
    assert_eq!(check(&vouched, "{\"maxResults\":1}", at), Err(Refusal::Mismatch), "a payload hash is not trusted");
    assert_eq!(check(&signed, "{}", at + Duration::from_secs(16 * 60)), Err(Refusal::Expired));
    let mut moved = signed.clone();
    moved.insert("x-amz-target", "AWSStepFunctions.DeleteStateMachine".parse().unwrap());
    assert_eq!(check(&moved, "{}", at), Err(Refusal::Mismatch), "a signed header changed");
    assert_eq!(check(&HeaderMap::new(), "{}", at), Err(Refusal::Unsigned));
    let stranger = Credentials::random();
    let foreign = headers_of(&Signer { credentials: &stranger, service: "states" }, at);
    assert_eq!(check(&foreign, "{}", at), Err(Refusal::UnknownKey));
    let elsewhere = headers_of(&Signer { credentials: &own, service: "mediaconvert" }, at);
    assert!(matches!(check(&elsewhere, "{}", at), Err(Refusal::Malformed(m)) if m.contains("mediaconvert")));
    let mut hostless = signed.clone();
    let authorization = signed["authorization"].to_str().unwrap().replace("host;", "");
    hostless.insert("authorization", authorization.parse().unwrap());
    assert!(matches!(check(&hostless, "{}", at), Err(Refusal::Malformed(m)) if m.contains("host")));
    let mut garbled = signed.clone();
    garbled.insert("authorization", "AWS4-HMAC-SHA256 Credential=x".parse().unwrap());
    assert!(matches!(check(&garbled, "{}", at), Err(Refusal::Malformed(_))));
}
