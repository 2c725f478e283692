//! A `mediaflow serve` child process and clients of its endpoints, for the tests that drive the
//! platform from outside: as an S3 or Step Functions client would, and as a crash would.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running `mediaflow serve`, stopped when the test ends, passed or not; its output is read
/// to the end in the background, line by line.
pub struct Server {
    child: std::process::Child,
    output: std::sync::mpsc::Receiver<String>,
    pub lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts it over `data` on free ports, and waits until it has printed its endpoints.
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[], None)
    }

    /// The same, with more arguments, and with `tools` first on its PATH (where a test puts
    /// a slowed ffmpeg or ffprobe).
    pub fn start_with(data: &Path, args: &[&str], tools: Option<&Path>) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mediaflow"));
        command
            .args(["serve", "--s3", "127.0.0.1:0", "--sfn", "127.0.0.1:0", "--console", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(args)
            // The credentials made for the data folder, which it prints.
            .env_remove("MEDIAFLOW_ACCESS_KEY_ID")
            .env_remove("MEDIAFLOW_SECRET_ACCESS_KEY");
        if let Some(tools) = tools {
            let path = std::env::var("PATH").unwrap_or_default();
            command.env("PATH", format!("{}:{path}", tools.display()));
        }
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut server = Server { child, output, lines: Vec::new() };
        server.wait_for(&["every upload"]);
        server
    }

    /// Kills it as a crash would: SIGKILL, nothing cleaned up.
    pub fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it as Ctrl-C or a service manager would (SIGTERM), and waits for it to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }

    /// Reads its output until a line starts with each of `wanted`.
    pub fn wait_for(&mut self, wanted: &[&str]) {
        while !wanted.iter().all(|w| self.lines.iter().any(|l| l.starts_with(w))) {
            match self.output.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => self.lines.push(line),
                Err(_) => panic!("the server did not print {wanted:?}: {:#?}", self.lines),
            }
        }
    }

    /// The value after `label` on the line that starts with it.
    pub fn field(&self, label: &str) -> String {
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {:#?}", self.lines));
        line[label.len()..].split_whitespace().next().unwrap().to_string()
    }

    /// The credentials it printed (`AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…`).
    pub fn credentials(&self) -> mediaflow_endpoint::Credentials {
        let line = self.lines.iter().find(|l| l.starts_with("credentials:")).expect("it prints its credentials");
        let value = |name: &str| {
            let found = line.split_whitespace().find_map(|w| w.strip_prefix(name)?.strip_prefix('='));
            found.unwrap_or_else(|| panic!("no {name} in {line}")).to_string()
        };
        mediaflow_endpoint::Credentials::new(value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY"))
    }

    /// An S3 client of its S3 endpoint, signing with the printed credentials.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = mediaflow_endpoint::sdk_config(self.field("S3 endpoint:"), &self.credentials());
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
    }

    /// A Step Functions client of its Step Functions endpoint, signing with the printed
    /// credentials.
    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&mediaflow_endpoint::sdk_config(
            self.field("Step Functions endpoint:"),
            &self.credentials(),
        ))
    }
}
