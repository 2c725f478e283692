//! The SNS sink: what the notification topic receives, kept for this process and appended to
//! `<data>/notifications.jsonl`, so that a later `mediaflow executions show` tells it too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A message the topic received: from the state machine's NotifySuccess (with a subject and the
/// execution document), or from the failure rule (the `Execution Status Change` event itself;
/// EventBridge sets no subject).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notification {
    pub subject: Option<String>,
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: String,
    /// The name of the execution it tells of.
    pub execution: String,
    pub message: Value,
}

#[derive(Clone)]
pub struct Topic {
    received: Arc<Mutex<Vec<Notification>>>,
    file: PathBuf,
    /// How many notifications this process has received, for those who wait for the next.
    heard: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Topic {
    pub fn new(file: PathBuf) -> Topic {
        Topic { received: Arc::default(), file, heard: Arc::new(tokio::sync::watch::Sender::new(0)) }
    }

    pub fn publish(&self, notification: Notification) {
        let mut received = self.received.lock().unwrap();
        let line = serde_json::to_string(&notification).expect("notifications serialise");
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = appended {
            eprintln!("mediaflow: could not keep a notification in {}: {e}", self.file.display());
        }
        received.push(notification);
        let count = received.len();
        // Released first: a waiter reads `received` while it holds the watch.
        drop(received);
        self.heard.send_replace(count);
    }

    /// Changes each time the topic receives a notification.
    pub fn heard(&self) -> tokio::sync::watch::Receiver<usize> {
        self.heard.subscribe()
    }

    /// What this process received.
    pub fn received(&self) -> Vec<Notification> {
        self.received.lock().unwrap().clone()
    }

    /// Everything kept in `file`, by any process.
    pub fn kept(file: &Path) -> Result<Vec<Notification>> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        text.lines().map(|l| serde_json::from_str(l).with_context(|| format!("a line of {}", file.display()))).collect()
    }
}
