//! `mediaflow mediaconvert` as a process, driven by `aws-sdk-mediaconvert`: jobs read and write
//! through an S3 endpoint given only by the SDK's environment (the embedded S3 here), and each
//! job state change reaches the targets of the EventBridge rules that match it. The rules live
//! in moto's EventBridge (an independent implementation, `tests/requirements-moto.txt`);
//! the state machines they target run on the project's Step Functions endpoint, where the test
//! reads what each execution was given.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mediaflow_core::keys::SourceKey;
use mediaflow_core::mediaconvert::to_wire;
use mediaflow_core::plan::{PlanConfig, job_for, template_for};
use mediaflow_core::probe::{FFPROBE_ARGS, parse_ffprobe};
use mediaflow_core::routing::job_state_pattern;
use mediaflow_endpoint::{Credentials, REGION};
use mediaflow_s3::EmbeddedS3;
use mediaflow_stepfunctions::StepFunctionsEndpoint;
use mediaflow_stepfunctions::engine::{Engine, registry::Registry};
use serde_json::{Value, json};

/// A running `mediaflow mediaconvert`, stopped when dropped; its stderr goes to a file.
struct Endpoint {
    child: Child,
    url: String,
    stderr: PathBuf,
    credentials: Credentials,
}

impl Endpoint {
    /// The stand-in, signing its own calls with `credentials` and requiring them of its callers
    /// (as the functions it serves sign with theirs).
    fn start(dir: &Path, credentials: &Credentials, env: &[(&str, String)]) -> Endpoint {
        let stderr = dir.join("mediaconvert.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_mediaflow"));
        command.args(["mediaconvert", "--listen", "127.0.0.1:0", "--jobs", "1", "--data"]).arg(dir.join("mc"));
        // Only what the test names: no profile or endpoint of the machine's environment.
        for name in ["AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_REGION", "S3_FORCE_PATH_STYLE"] {
            command.env_remove(name);
        }
        command
            .env("AWS_ACCESS_KEY_ID", &credentials.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key)
            .env("MEDIAFLOW_ACCESS_KEY_ID", &credentials.access_key_id)
            .env("MEDIAFLOW_SECRET_ACCESS_KEY", &credentials.secret_access_key)
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", dir.join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The SDK's own retries stay out of the way of the delivery's.
            .env("AWS_MAX_ATTEMPTS", "1")
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the command says where it listens").unwrap();
        let url = first.strip_prefix("MediaConvert endpoint:").expect(&first).trim().to_string();
        std::thread::spawn(move || lines.for_each(drop));
        Endpoint { child, url, stderr, credentials: credentials.clone() }
    }

    fn client(&self) -> aws_sdk_mediaconvert::Client {
        aws_sdk_mediaconvert::Client::new(&mediaflow_endpoint::sdk_config(&self.url, &self.credentials))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits, a minute at most, until the log has a line with every one of `words`.
    async fn logged(&self, words: &[&str]) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| words.iter().all(|w| l.contains(w))) {
                return line.to_string();
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no line with {words:?} in:\n{log}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A clip uploaded as `inputs/<name>` and the job the pipeline builds for it, as CreateJob's body.
async fn upload_and_job(s3: &EmbeddedS3, dir: &Path, name: &str) -> Value {
    let clip = dir.join(name);
    mediaflow_testkit::video(&clip, 640, 360, 1.0, true);
    let key = format!("inputs/{name}");
    let body = aws_sdk_s3::primitives::ByteStream::from_path(&clip).await.unwrap();
    s3.client().put_object().bucket("watch").key(&key).body(body).send().await.unwrap();
    let probed = Command::new("ffprobe").args(FFPROBE_ARGS).arg(&clip).output().unwrap();
    let probe = parse_ffprobe(&probed.stdout).unwrap();
    let (template_name, template) = template_for(&probe);
    let config = PlanConfig::new("watch", "public");
    let mut job = job_for(&SourceKey::parse(&key).unwrap(), &probe, template_name, &template, &config).unwrap().job;
    job["Role"] = json!("arn:aws:iam::123456789012:role/mediaconvert");
    job["UserMetadata"] = json!({"application": "mediaflow", "ref": name});
    to_wire(&job)
}

async fn until_complete(client: &aws_sdk_mediaconvert::Client, id: &str) {
    for _ in 0..600 {
        let job = client.get_job().id(id).send().await.unwrap().job.unwrap();
        match job.status().map(|s| s.as_str()) {
            Some("COMPLETE") => return,
            Some("ERROR") => panic!("job {id}: {:?}", job.error_message()),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("job {id} did not end");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_runs_against_the_s3_endpoint_of_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let s3 =
        EmbeddedS3::start(&dir.path().join("s3"), &["watch", "public"], "127.0.0.1:0".parse().unwrap()).await.unwrap();
    // No EventBridge answers here: the delivery fails, is said, and the endpoint goes on.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let endpoint = Endpoint::start(
        dir.path(),
        s3.credentials(),
        &[("AWS_ENDPOINT_URL_S3", s3.endpoint()), ("AWS_ENDPOINT_URL_EVENTBRIDGE", nowhere)],
    );
    let client = endpoint.client();
    let body = upload_and_job(&s3, dir.path(), "talk.mp4").await;

    let id = mediaflow_testkit::mediaconvert::create_job(&client, &body).await;
    until_complete(&client, &id).await;
    let made = s3.client().list_objects_v2().bucket("public").send().await.unwrap();
    let keys: Vec<&str> = made.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["audiovideo/talk_360p.mp4", "frames/talk_storyboard.0000000.jpg"]);
    let listed = client.list_jobs().send().await.unwrap();
    assert_eq!(listed.jobs().iter().map(|j| j.id().unwrap()).collect::<Vec<_>>(), [id.as_str()]);
    let missing = client.get_job().id("nope").send().await.unwrap_err();
    assert!(missing.into_service_error().is_not_found_exception());

    let line = endpoint.logged(&["the rules could not be read", "events:ListRules"]).await;
    assert!(line.contains("ERROR"), "{line}");
    client.list_jobs().send().await.expect("the endpoint still serves after a failed delivery");
}

#[test]
fn a_non_loopback_address_needs_credentials_the_user_gave() {
    let out = Command::new(env!("CARGO_BIN_EXE_mediaflow"))
        .args(["mediaconvert", "--listen", "0.0.0.0:0", "--data"])
        .arg(tempfile::tempdir().unwrap().path())
        .env_remove("MEDIAFLOW_ACCESS_KEY_ID")
        .env_remove("MEDIAFLOW_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not a loopback address") && said.contains("--access-key-id"), "{said}");
}

/// moto's server, stopped when dropped.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto on a free port (`scripts/ensure-tools --test-tools` installs it into `.tools/moto`).
fn moto() -> (Moto, String) {
    let port = free_port();
    let server = common::repo().join(".tools/moto/bin/moto_server");
    assert!(
        server.exists(),
        "{} is missing: run scripts/ensure-tools --test-tools (scripts/test does)",
        server.display()
    );
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moto_server starts");
    let mut moto = Moto(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) || moto.0.try_wait().unwrap().is_some() {
            let mut said = String::new();
            let _ = moto.0.stderr.take().unwrap().read_to_string(&mut said);
            panic!("moto_server did not start: {said}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, format!("http://127.0.0.1:{port}"))
}

/// The SDK's configuration for moto at `url`.
async fn moto_config(url: &str) -> aws_config::SdkConfig {
    use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .load()
        .await
}

/// What each execution of `machine` was given, oldest first.
async fn inputs(sfn: &aws_sdk_sfn::Client, machine: &str) -> Vec<Value> {
    let listed = sfn.list_executions().state_machine_arn(machine).send().await.unwrap();
    let mut inputs = Vec::new();
    for execution in listed.executions().iter().rev() {
        let described = sfn.describe_execution().execution_arn(execution.execution_arn()).send().await.unwrap();
        inputs.push(serde_json::from_str(described.input().unwrap()).unwrap());
    }
    inputs
}

#[tokio::test(flavor = "multi_thread")]
async fn job_state_changes_reach_the_targets_of_the_matching_rules() {
    let (_moto, moto_url) = moto();
    let dir = tempfile::tempdir().unwrap();
    // The stand-in calls both endpoints, signing with the one pair of credentials it is given.
    let credentials = Credentials::random();
    let any = "127.0.0.1:0".parse().unwrap();
    let s3 =
        EmbeddedS3::start_with(&dir.path().join("s3"), &["watch", "public"], any, credentials.clone()).await.unwrap();
    let states =
        StepFunctionsEndpoint::start(Engine::new(Registry::default()), None, any, credentials.clone()).await.unwrap();
    let sfn = states.client();
    let pass = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#;
    let role = "arn:aws:iam::123456789012:role/events";
    let mut machines = Vec::new();
    for name in ["whole", "detail", "other"] {
        let created = sfn.create_state_machine().name(name).definition(pass).role_arn(role).send().await.unwrap();
        machines.push(created.state_machine_arn().to_string());
    }
    let [whole, detail, other] = machines.try_into().unwrap();

    use aws_sdk_eventbridge::types::Target;
    let config = moto_config(&moto_url).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let created =
        aws_sdk_sns::Client::new(&config).create_topic().name("mediaflow-notifications").send().await.unwrap();
    let topic = created.topic_arn().unwrap();
    let missing_function = "arn:aws:lambda:us-east-1:123456789012:function:not-deployed";
    let rules = [
        (
            "jobs",
            job_state_pattern("mediaflow"),
            vec![
                Target::builder().id("whole").arn(&whole).build().unwrap(),
                Target::builder().id("detail").arn(&detail).input_path("$.detail").build().unwrap(),
                Target::builder().id("gone").arn(missing_function).build().unwrap(),
            ],
        ),
        (
            "completions",
            json!({"source": ["aws.mediaconvert"], "detail": {"status": ["COMPLETE"]}}),
            vec![Target::builder().id("topic").arn(topic).input(r#"{"said": "done"}"#).build().unwrap()],
        ),
        (
            "another-application",
            job_state_pattern("other"),
            vec![Target::builder().id("other").arn(&other).build().unwrap()],
        ),
    ];
    for (name, pattern, targets) in rules {
        events.put_rule().name(name).event_pattern(pattern.to_string()).send().await.unwrap();
        events.put_targets().rule(name).set_targets(Some(targets)).send().await.unwrap();
    }

    let endpoint = Endpoint::start(
        dir.path(),
        &credentials,
        &[
            ("AWS_ENDPOINT_URL", moto_url.clone()),
            ("AWS_ENDPOINT_URL_S3", s3.endpoint()),
            ("AWS_ENDPOINT_URL_SFN", states.endpoint()),
        ],
    );
    let client = endpoint.client();
    let body = upload_and_job(&s3, dir.path(), "clip.mp4").await;
    let id = mediaflow_testkit::mediaconvert::create_job(&client, &body).await;
    until_complete(&client, &id).await;
    endpoint.logged(&[" INFO ", "delivered", "rule=\"completions\"", topic, "status=\"COMPLETE\""]).await;
    endpoint.logged(&[" INFO ", "delivered", "rule=\"jobs\"", &detail, "status=\"COMPLETE\""]).await;

    let whole_inputs = inputs(&sfn, &whole).await;
    let statuses: Vec<&str> = whole_inputs.iter().map(|e| e["detail"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.first(), Some(&"PROGRESSING"), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&"COMPLETE"), "{statuses:?}");
    let complete = whole_inputs.last().unwrap();
    assert_eq!(complete["detail-type"], "MediaConvert Job State Change");
    assert_eq!(complete["source"], "aws.mediaconvert");
    assert_eq!(complete["detail"]["jobId"], id.as_str());
    assert_eq!(complete["detail"]["userMetadata"]["ref"], "clip.mp4");
    let outputs = &complete["detail"]["outputGroupDetails"][0]["outputDetails"][0]["outputFilePaths"];
    assert_eq!(outputs, &json!(["s3://public/audiovideo/clip_360p.mp4"]));

    let details = inputs(&sfn, &detail).await;
    assert_eq!(details.len(), whole_inputs.len(), "both targets of a rule hear each event");
    assert_eq!(details.last().unwrap(), &complete["detail"], "InputPath $.detail");
    assert!(inputs(&sfn, &other).await.is_empty(), "another application's rule matches none");

    // A target that is not there: said, after its tries, and the others were delivered anyway.
    let line = endpoint.logged(&[" ERROR ", "not delivered", missing_function, "ResourceNotFoundException"]).await;
    assert!(line.contains("lambda:Invoke"), "{line}");
    assert!(!endpoint.log().contains("ServiceError {"), "failures are said without the SDK's debug dump");
}
