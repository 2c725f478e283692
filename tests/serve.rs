//! `mediaflow serve` from the outside: an upload by an ordinary S3 client (the Rust SDK, the aws
//! CLI) starts an execution that an ordinary Step Functions client sees through to its end.

mod common;

use std::process::Command;
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use common::server::Server;

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_upload_starts_an_execution_a_step_functions_client_follows() {
    let dir = tempfile::tempdir().unwrap();
    mediaflow_testkit::video(&dir.path().join("talk.mp4"), 640, 360, 1.0, true);
    let mut server = Server::start(&dir.path().join("data"));
    let machine = server.field("state machine:");
    let (s3, sfn) = (server.s3(), server.sfn());
    let body = std::fs::read(dir.path().join("talk.mp4")).unwrap();
    s3.put_object().bucket("watch").key("inputs/talk.mp4").body(body.into()).send().await.unwrap();

    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let listed = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap();
        let Some(execution) = listed.executions().first() else { continue };
        let described = sfn.describe_execution().execution_arn(execution.execution_arn()).send().await.unwrap();
        if described.status() == &ExecutionStatus::Running {
            continue;
        }
        assert_eq!(described.status(), &ExecutionStatus::Succeeded, "{:?}", described.cause());
        let made = s3.list_objects_v2().bucket("public").prefix("audiovideo/").send().await.unwrap();
        let keys: Vec<&str> = made.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, ["audiovideo/talk_360p.mp4"]);
        // The server said so too: the status changes and what the topic received.
        let arn = execution.execution_arn();
        server.wait_for(&[&format!("RUNNING {arn}"), &format!("SUCCEEDED {arn}"), "notification [SUCCEEDED]"]);
        return;
    }
    panic!("no execution ended");
}

/// The Done-when of `serve`, with the aws CLI itself (`scripts/ensure-tools --test-tools`
/// installs it) and the credentials `serve` printed: `aws s3 cp` starts an execution that `aws
/// stepfunctions describe-execution` shows. Signed with other credentials, or through the
/// credentials file it keeps, the same calls are refused or work as they should.
#[test]
fn the_aws_cli_uploads_and_follows_the_execution() {
    let aws = mediaflow_testkit::repo().join(".tools/awscli/bin/aws");
    assert!(aws.exists(), "the aws CLI is missing: run scripts/ensure-tools --test-tools");
    let dir = tempfile::tempdir().unwrap();
    mediaflow_testkit::tone(&dir.path().join("intro.mp3"), 1.0);
    let mut server = Server::start(&dir.path().join("data"));
    let (s3_url, sfn_url) = (server.field("S3 endpoint:"), server.field("Step Functions endpoint:"));
    let machine = server.field("state machine:");
    let printed = server.credentials();
    let aws_as = |key: &str, secret: &str, args: &[&str]| {
        Command::new(&aws)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let run = |args: &[&str]| -> String {
        let out = aws_as(&printed.access_key_id, &printed.secret_access_key, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "aws {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    // With the old fixed pair, or a wrong secret, every endpoint refuses.
    for (key, secret) in [("mediaflow", "mediaflow-local-secret"), (printed.access_key_id.as_str(), "wrong")] {
        let listing = aws_as(key, secret, &["--endpoint-url", &s3_url, "s3", "ls", "s3://watch/"]);
        assert!(!listing.status.success(), "S3 let {key} in");
        let described = aws_as(key, secret, &["--endpoint-url", &sfn_url, "stepfunctions", "list-state-machines"]);
        let said = String::from_utf8_lossy(&described.stderr);
        assert!(!described.status.success(), "Step Functions let {key} in");
        assert!(said.contains("UnrecognizedClient") || said.contains("InvalidSignature"), "{said}");
    }
    // The credentials file of the data folder is a profile the aws CLI reads.
    let file = dir.path().join("data").join("credentials");
    let through_file = Command::new(&aws)
        .args(["--endpoint-url", &sfn_url, "stepfunctions", "list-state-machines", "--output", "text"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", &file)
        .output()
        .unwrap();
    assert!(through_file.status.success(), "{}", String::from_utf8_lossy(&through_file.stderr));
    assert!(String::from_utf8_lossy(&through_file.stdout).contains("mediaflow-pipeline"));
    run(&["--endpoint-url", &s3_url, "s3", "cp", "intro.mp3", "s3://watch/inputs/intro.mp3"]);
    server.wait_for(&["SUCCEEDED "]);

    let listed = run(&[
        "--endpoint-url",
        &sfn_url,
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        &machine,
        "--query",
        "executions[0].executionArn",
        "--output",
        "text",
    ]);
    let described = run(&[
        "--endpoint-url",
        &sfn_url,
        "stepfunctions",
        "describe-execution",
        "--execution-arn",
        listed.trim(),
        "--output",
        "json",
    ]);
    let described: serde_json::Value = serde_json::from_str(&described).unwrap();
    assert_eq!(described["status"], "SUCCEEDED", "{described:#}");
    let input: serde_json::Value = serde_json::from_str(described["input"].as_str().unwrap()).unwrap();
    assert_eq!(input["detail"]["object"]["key"], "inputs/intro.mp3");
    assert!(run(&["--endpoint-url", &s3_url, "s3", "ls", "s3://public/audiovideo/"]).contains("intro.mp3"));
}
