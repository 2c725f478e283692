//! Who may call: every endpoint here (S3, Step Functions, the MediaConvert and Transcribe
//! stand-ins) answers a request signed with its credentials, and refuses one that is unsigned,
//! signed with another access key, or signed with the wrong secret, as AWS refuses them.

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

        let jobs = aws_sdk_mediaconvert::Client::new(&config(mc.endpoint())).list_jobs().send().await;
        assert_eq!(jobs.is_ok(), expected, "MediaConvert, signed with {who}: {jobs:?}");

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
    let signer = Signer {
        access_key_id: &own.access_key_id,
        secret_access_key: &own.secret_access_key,
        service: "mediaconvert",
    };
    let (status, body) = exchange(mc.endpoint().trim_start_matches("http://"), &list_jobs, Some(&signer)).await;
    assert_eq!(status, 200, "{body}");
}
