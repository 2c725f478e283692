//! `mediaflow serve` from the outside: an upload by an ordinary S3 client starts an execution
//! that an ordinary Step Functions client sees through to its end.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;

/// Stops the server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value after `label` on the line that starts with it.
fn field(lines: &[String], label: &str) -> String {
    let line = lines.iter().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label} in {lines:#?}"));
    line[label.len()..].split_whitespace().next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_upload_starts_an_execution_a_step_functions_client_follows() {
    let dir = tempfile::tempdir().unwrap();
    mediaflow_testkit::video(&dir.path().join("talk.mp4"), 640, 360, 1.0, true);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mediaflow"))
        .args(["serve", "--s3", "127.0.0.1:0", "--sfn", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let _server = Server(child);
    // The server prints as executions end: its output is read to the end, in the background.
    let (header, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = header.send(line);
        }
    });
    let mut lines = Vec::new();
    while lines.last().is_none_or(|l: &String| !l.starts_with("every upload")) {
        lines.push(receiver.recv_timeout(Duration::from_secs(60)).expect("the server prints its endpoints"));
    }
    let (s3_url, sfn_url) = (field(&lines, "S3 endpoint:"), field(&lines, "Step Functions endpoint:"));
    let machine = field(&lines, "state machine:");

    let credentials = aws_sdk_s3::config::Credentials::new("mediaflow", "mediaflow-local-secret", None, None, "test");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(&s3_url)
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .force_path_style(true)
            .build(),
    );
    let sfn = aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::Config::builder()
            .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
            .endpoint_url(&sfn_url)
            .region(aws_sdk_sfn::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .build(),
    );
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
        let wanted = [format!("RUNNING {arn}"), format!("SUCCEEDED {arn}"), "notification [SUCCEEDED]".to_string()];
        while !wanted.iter().all(|w| lines.iter().any(|l| l.starts_with(w.as_str()))) {
            match receiver.recv_timeout(Duration::from_secs(10)) {
                Ok(line) => lines.push(line),
                Err(_) => panic!("the server did not print {wanted:?}: {lines:#?}"),
            }
        }
        return;
    }
    panic!("no execution ended");
}
