//! The console of `mediaflow serve` in a real browser: `tests/console/browser.mjs` drives
//! Debian's Chromium through playwright-core (installed by `scripts/ensure-tools --test-tools`)
//! to upload a 30 MB file in parts, reload mid-upload and resume, watch the execution go green
//! in the graph, play a rendition, redrive a failed execution, and be refused from another
//! origin. Its screenshots are kept in `target/console-screenshots/`.

mod common;

use std::path::Path;
use std::process::Command;

use common::server::Server;

/// An ffprobe that fails on `redrive-me` uploads while `flag` exists: a fault a redrive mends.
fn failing_ffprobe(dir: &Path, flag: &Path) -> std::path::PathBuf {
    let tools = dir.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    let real = String::from_utf8(Command::new("which").arg("ffprobe").output().unwrap().stdout).unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in *redrive-me*) if [ -e '{}' ]; then echo 'made to fail' >&2; exit 1; fi;; esac\nexec {} \"$@\"\n",
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
    std::fs::write(&flag, "").unwrap();
    let tools = failing_ffprobe(dir.path(), &flag);
    let server = Server::start_with(&dir.path().join("data"), &[], Some(&tools));
    let screenshots = repo.join("target/console-screenshots");

    let run = Command::new("node")
        .arg(repo.join("tests/console/browser.mjs"))
        .current_dir(&repo)
        .env("CONSOLE", server.field("console:"))
        .env("OTHER", server.field("S3 endpoint:"))
        .env("BIG", &big)
        .env("SMALL", &small)
        .env("FLAG", &flag)
        .env("SCREENSHOTS", &screenshots)
        .output()
        .expect("node runs");
    let (out, err) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{out}");
    assert!(run.status.success(), "the browser test failed (screenshots in {}):\n{out}\n{err}", screenshots.display());
    assert!(screenshots.join("graph.png").exists());
}
