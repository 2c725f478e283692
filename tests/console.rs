//! The console of `mediaflow serve` in a real browser: `tests/console/browser.mjs` drives
//! Debian's Chromium through playwright-core (installed by `scripts/ensure-tools --test-tools`)
//! to upload a 30 MB file in parts, reload mid-upload and resume, watch the execution go green
//! in the graph, play a rendition, preview the storyboard the pipeline made while scrubbing each
//! player (`tests/console/storyboard.mjs`), redrive a failed execution, and be refused from another
//! origin; the uploads use `infra/job-hls.json`, so the outputs page plays an HLS ladder too.
//! Its screenshots are kept in `target/console-screenshots/`.

mod common;

use std::path::Path;
use std::process::Command;

use common::server::Server;

/// An ffprobe that fails on `redrive-me` uploads while `flag` exists (a fault a redrive mends)
/// and takes a minute over `stop-me` uploads (an execution to stop).
fn failing_ffprobe(dir: &Path, flag: &Path) -> std::path::PathBuf {
    let tools = dir.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    let real = String::from_utf8(Command::new("which").arg("ffprobe").output().unwrap().stdout).unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in\n  *redrive-me*) if [ -e '{}' ]; then echo 'made to fail' >&2; exit 1; fi;;\n  \
         *stop-me*) sleep 60;;\nesac\nexec {} \"$@\"\n",
        flag.display(),
        real.trim()
    );
    std::fs::write(tools.join("ffprobe"), script).unwrap();
    Command::new("chmod").arg("+x").arg(tools.join("ffprobe")).status().unwrap();
    tools
}

#[test]
fn the_console_uploads_traces_redrives_and_plays_in_chromium() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "the console's test needs Chromium at /usr/bin/chromium: scripts/ensure-tools --test-tools installs it"
    );
    let repo = common::repo();
    assert!(repo.join("node_modules/playwright-core").exists(), "run scripts/ensure-tools --test-tools (npm ci)");
    let dir = tempfile::tempdir().unwrap();
    let (big, small, flag) = (dir.path().join("big.mp4"), dir.path().join("redrive-me.mp4"), dir.path().join("fail"));
    mediaflow_testkit::noise_video(&big, 5);
    assert!(std::fs::metadata(&big).unwrap().len() > 25_000_000, "the big clip is big");
    mediaflow_testkit::video(&small, 320, 240, 1.0, true);
    let (captions, slow) = (dir.path().join("big.en.srt"), dir.path().join("stop-me.mp4"));
    std::fs::write(&captions, "1\n00:00:00,500 --> 00:00:04,000\nNoise, captioned\n").unwrap();
    // A clip that speaks, with captions of its own: its machine caption goes beside them.
    let (spoken, spoken_captions) = (dir.path().join("spoken.mp4"), dir.path().join("spoken.en.srt"));
    mediaflow_testkit::speaking_video(&spoken, "Captions by a machine, beside the ones you wrote.", Some(4));
    std::fs::write(&spoken_captions, "1\n00:00:00,000 --> 00:00:03,000\nWritten by a person\n").unwrap();
    std::fs::copy(&small, &slow).unwrap();
    std::fs::write(&flag, "").unwrap();
    let tools = failing_ffprobe(dir.path(), &flag);
    let hls = repo.join("infra/job-hls.json");
    let server = Server::start_with(
        &dir.path().join("data"),
        &["--job-template", hls.to_str().unwrap(), "--auto-captions"],
        Some(&tools),
    );
    let screenshots = repo.join("target/console-screenshots");

    let run = Command::new("node")
        .arg(repo.join("tests/console/browser.mjs"))
        .current_dir(&repo)
        .env("CONSOLE", server.field("console:"))
        .env("OTHER", server.field("S3 endpoint:"))
        .env("BIG", &big)
        .env("SMALL", &small)
        .env("CAPTIONS", &captions)
        .env("SPOKEN", &spoken)
        .env("SPOKEN_CAPTIONS", &spoken_captions)
        .env("SLOW", &slow)
        .env("FLAG", &flag)
        .env("SCREENSHOTS", &screenshots)
        .output()
        .expect("node runs");
    let (out, err) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{out}");
    assert!(run.status.success(), "the browser test failed (screenshots in {}):\n{out}\n{err}", screenshots.display());
    assert!(screenshots.join("graph.png").exists());
}

/// One request over a plain socket; the status and the body.
fn exchange(url: &str, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(host).unwrap();
    socket.write_all(request.replace("{host}", host).as_bytes()).unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

/// What no browser sends but an attacker's script or a rebound DNS name would.
#[test]
fn the_console_refuses_other_hosts_other_origins_and_paths_out_of_the_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let console = server.field("console:");
    let post = |headers: &str| {
        let body = r#"{"key":"inputs/a.mp4","parts":1}"#;
        format!(
            "POST /api/uploads/presign HTTP/1.1\r\nHost: {{host}}\r\n{headers}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let (status, body) = exchange(&console, &post("Origin: https://evil.example\r\n"));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("another origin"), "{body}");
    let (status, body) = exchange(&console, &post(""));
    assert_eq!(status, 403, "no token: {body}");
    let (status, _) =
        exchange(&console, "GET /api/executions HTTP/1.1\r\nHost: rebound.example:80\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 403, "a DNS name rebound to 127.0.0.1 reads nothing");
    let (status, body) = exchange(
        &console,
        "GET /files/audiovideo/%2E%2E/%2E%2E/executions HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 400, "{body}");

    // With the page's token, a key outside inputs/ is still refused.
    let (_, page) = exchange(&console, "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let token = page.split("name=\"console-token\" content=\"").nth(1).unwrap().split('"').next().unwrap();
    let (status, body) =
        exchange(&console, &post(&format!("X-Console-Token: {token}\r\n")).replace("inputs/a.mp4", "original/a.mp4"));
    assert_eq!(status, 400, "{body}");
    let (status, body) = exchange(&console, &post(&format!("X-Console-Token: {token}\r\n")));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("X-Amz-Expires=300"), "{body}");
}

/// The vendored graph layout and HLS player are the releases `package.json` pins, byte for
/// byte: an update is a version bump and a copy, and nothing else slips in.
#[test]
fn the_vendored_scripts_are_the_pinned_npm_releases() {
    let repo = common::repo();
    for (vendored, pinned) in [
        ("dagre.min.js", "node_modules/@dagrejs/dagre/dist/dagre.min.js"),
        ("hls.min.js", "node_modules/hls.js/dist/hls.min.js"),
    ] {
        let ours = std::fs::read(repo.join("src/console/assets/vendor").join(vendored)).unwrap();
        let theirs = std::fs::read(repo.join(pinned)).expect("run scripts/ensure-tools --test-tools (npm ci)");
        assert!(ours == theirs, "src/console/assets/vendor/{vendored} differs from {pinned}");
    }
}

/// The console's pages wait to be told of changes rather than poll: an upload's execution
/// reaches `/api/changes` as a server-sent event, and nothing is sent while nothing changes.
#[test]
fn an_execution_that_changes_is_told_to_the_pages_as_a_server_sent_event() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let host = server.field("console:").trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut socket = std::net::TcpStream::connect(&host).unwrap();
    socket.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    socket.write_all(format!("GET /api/changes HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).unwrap();
    let mut lines = BufReader::new(socket.try_clone().unwrap()).lines();
    let head: Vec<String> = lines.by_ref().map(Result::unwrap).take_while(|l| !l.is_empty()).collect();
    assert!(head[0].contains("200"), "{head:?}");
    assert!(head.iter().any(|l| l.eq_ignore_ascii_case("content-type: text/event-stream")), "{head:?}");

    // Nothing happens: nothing is said (the keep-alive comes after 15 s).
    socket.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
    assert!(lines.next().is_none_or(|l| l.is_err()), "a message with nothing changed");

    // An upload starts an execution: the stream says so.
    socket.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let body = aws_sdk_s3::primitives::ByteStream::from_static(b"not media");
        server.s3().put_object().bucket("watch").key("inputs/notes.mp4").body(body).send().await.unwrap();
    });
    let mut lines = lines.map_while(Result::ok);
    assert!(lines.by_ref().any(|l| l == "event: changed"), "no change was told");
    // A browser's EventSource drops an event whose data is empty: it must carry some.
    let data = lines.next().unwrap_or_default();
    assert!(data.strip_prefix("data: ").is_some_and(|d| !d.is_empty()), "the event's data: {data:?}");
    // The execution started (and, not being media, fails): its status change is told apart,
    // for the pages that wait for nothing else.
    assert!(lines.any(|l| l == "event: status"), "no status change was told");
}
