//! The local speech recognizer: one long-lived worker process (scripts/recognizer/worker.py,
//! faster-whisper) spoken to in JSON lines. It starts when first needed, stays for later jobs
//! (loading a model costs seconds), and is started again when it has died or when a request
//! was left unanswered (a job stopped mid-chunk leaves its answer in the pipe, and the next
//! request would read it as its own).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Where the recognizer is: `<python> <worker> --model <model>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recognizer {
    pub python: PathBuf,
    pub worker: PathBuf,
    pub model: PathBuf,
}

impl Recognizer {
    /// The one scripts/ensure-tools installs in the repository at `root`: its virtualenv's
    /// Python (`.tools/recognizer`), `scripts/recognizer/worker.py` and Whisper tiny.en.
    pub fn in_repository(root: &Path) -> Recognizer {
        Recognizer {
            python: root.join(".tools/recognizer/bin/python"),
            worker: root.join("scripts/recognizer/worker.py"),
            model: root.join(".tools/recognizer/model-tiny.en"),
        }
    }

    /// Its parts that are not there.
    pub fn missing(&self) -> Vec<&Path> {
        [&self.python, &self.worker, &self.model].into_iter().map(PathBuf::as_path).filter(|p| !p.exists()).collect()
    }
}

/// How long a model may take to load.
const START_LIMIT: Duration = Duration::from_secs(300);
/// The worker's last lines on stderr, kept to say why it stopped.
const STDERR_LINES: usize = 20;

/// What the worker's model knows, from its first line.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub(super) struct Ready {
    pub model: String,
    /// ISO 639-1 codes (`en`).
    pub languages: Vec<String>,
}

/// One chunk's words, as the worker gives them: seconds from the chunk's start.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct Recognition {
    pub language: String,
    pub words: Vec<Word>,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct Word {
    pub start: f64,
    pub end: f64,
    pub word: String,
}

#[derive(Debug, Deserialize)]
struct WorkerError {
    name: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Reply {
    Refused { error: WorkerError },
    Ready(ReadyLine),
    Recognized(Recognition),
}

#[derive(Debug, Deserialize)]
struct ReadyLine {
    ready: bool,
    model: String,
    languages: Vec<String>,
}

#[derive(Serialize)]
struct Request<'a> {
    audio: &'a Path,
    language: Option<&'a str>,
}

/// Why a chunk was not recognized.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    /// The worker could not be started (or its model not loaded).
    #[error("RecognizerUnavailable: {0}")]
    Unavailable(String),
    /// The worker answered with an error of its own (`LanguageUnsupported`, `RecognizerFailed`).
    #[error("{name}: {message}")]
    Refused { name: String, message: String },
    /// The worker died, or did not answer in time.
    #[error("RecognizerFailed: {0}")]
    Stopped(String),
}

/// The running worker's pipes; `pending` while a request waits for its answer.
struct Conversation {
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    pending: bool,
}

/// The recognizer as the stand-in uses it.
pub(super) struct Worker {
    recognizer: Recognizer,
    ready: Mutex<Option<Ready>>,
    /// Held for a whole request: the worker answers one at a time.
    conversation: tokio::sync::Mutex<Option<Conversation>>,
    /// Apart from the pipes, so that [`Worker::stop`] can end it while a request holds them.
    child: Mutex<Option<Child>>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The task keeping the current worker's stderr, done once the worker has ended.
    stderr_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Told each time a start has ended, well or not.
    started: tokio::sync::Notify,
}

impl Worker {
    pub fn new(recognizer: Recognizer) -> Worker {
        Worker {
            recognizer,
            ready: Mutex::default(),
            conversation: tokio::sync::Mutex::default(),
            child: Mutex::default(),
            stderr: Arc::default(),
            stderr_task: Mutex::default(),
            started: tokio::sync::Notify::new(),
        }
    }

    /// What the model knows: known once the worker has started, started for it otherwise. A
    /// worker being started (or busy with a job) is waited for only until it has said.
    pub async fn ready(&self) -> Result<Ready, Failure> {
        loop {
            // Created before the check: a start that ends after it still wakes this.
            let started = self.started.notified();
            if let Some(ready) = self.ready.lock().unwrap().clone() {
                return Ok(ready);
            }
            tokio::select! {
                _ = started => continue,
                mut conversation = self.conversation.lock() => {
                    if let Some(ready) = self.ready.lock().unwrap().clone() {
                        return Ok(ready);
                    }
                    self.stop();
                    *conversation = Some(self.start().await?);
                }
            }
        }
    }

    /// The words in `audio` (16 kHz mono WAV), in `language` (ISO 639-1) or the one the model
    /// hears (`None`); the worker is given `limit` to answer.
    pub async fn recognize(
        &self,
        audio: &Path,
        language: Option<&str>,
        limit: Duration,
    ) -> Result<Recognition, Failure> {
        let mut conversation = self.conversation.lock().await;
        if conversation.as_ref().is_none_or(|c| c.pending) || !self.alive() {
            self.stop();
            *conversation = None;
            *conversation = Some(self.start().await?);
        }
        let Some(talk) = conversation.as_mut() else { unreachable!("started above") };
        let mut line = serde_json::to_string(&Request { audio, language }).expect("requests serialise");
        line.push('\n');
        talk.pending = true;
        let exchange = async {
            talk.stdin.write_all(line.as_bytes()).await?;
            talk.stdin.flush().await?;
            talk.stdout.next_line().await
        };
        let answer = match tokio::time::timeout(limit, exchange).await {
            Ok(Ok(Some(answer))) => answer,
            Ok(Ok(None) | Err(_)) => {
                *conversation = None;
                return Err(Failure::Stopped(format!("the recognizer stopped{}", self.stop_and_tell().await)));
            }
            Err(_) => {
                *conversation = None;
                self.stop();
                return Err(Failure::Stopped(format!(
                    "the recognizer gave no answer in {} s for {}",
                    limit.as_secs(),
                    audio.display()
                )));
            }
        };
        talk.pending = false;
        match serde_json::from_str::<Reply>(&answer) {
            Ok(Reply::Recognized(recognition)) => Ok(recognition),
            Ok(Reply::Refused { error }) => Err(Failure::Refused { name: error.name, message: error.message }),
            Ok(Reply::Ready(_)) | Err(_) => {
                *conversation = None;
                self.stop();
                Err(Failure::Stopped(format!("the recognizer answered out of protocol: {answer:?}")))
            }
        }
    }

    /// Ends the worker process, if one runs (the next request starts another).
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.start_kill();
        }
    }

    fn alive(&self) -> bool {
        self.child.lock().unwrap().as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Ends the worker, and says how it had ended and what it last said on stderr.
    async fn stop_and_tell(&self) -> String {
        let child = self.child.lock().unwrap().take();
        let mut told = String::new();
        if let Some(mut child) = child {
            // A worker that closed its output is ending: its status and last words come soon.
            match tokio::time::timeout(Duration::from_secs(2), child.wait()).await {
                Ok(Ok(status)) => told.push_str(&format!(" ({status})")),
                _ => drop(child.start_kill()),
            }
        }
        let task = self.stderr_task.lock().unwrap().take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        if let Some(last) = self.stderr.lock().unwrap().back() {
            told.push_str(&format!(": {last}"));
        }
        told
    }

    /// Starts the worker and waits for its model to load; those waiting for it are told.
    async fn start(&self) -> Result<Conversation, Failure> {
        let started = self.start_worker().await;
        self.started.notify_waiters();
        started
    }

    async fn start_worker(&self) -> Result<Conversation, Failure> {
        let missing = self.recognizer.missing();
        if !missing.is_empty() {
            let missing: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
            return Err(Failure::Unavailable(format!(
                "{} missing (scripts/ensure-tools installs the recognizer)",
                missing.join(" and ")
            )));
        }
        let Recognizer { python, worker, model } = &self.recognizer;
        let mut child = Command::new(python)
            .arg(worker)
            .arg("--model")
            .arg(model)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure::Unavailable(format!("cannot run {}: {e}", python.display())))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("the pipes were asked for")
        };
        self.stderr.lock().unwrap().clear();
        let kept = self.stderr.clone();
        let task = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "mediaflow::recognizer", %line, "recognizer stderr");
                let mut kept = kept.lock().unwrap();
                if kept.len() == STDERR_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        *self.stderr_task.lock().unwrap() = Some(task);
        // A worker this replaces is ended (its handle kills it when dropped).
        drop(self.child.lock().unwrap().replace(child));
        let mut stdout = BufReader::new(stdout).lines();
        let first = match tokio::time::timeout(START_LIMIT, stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None) | Err(_)) => {
                return Err(Failure::Unavailable(format!(
                    "the recognizer did not start{}",
                    self.stop_and_tell().await
                )));
            }
            Err(_) => {
                self.stop();
                return Err(Failure::Unavailable(format!("the recognizer's model did not load in {START_LIMIT:?}")));
            }
        };
        let ready = match serde_json::from_str::<Reply>(&first) {
            Ok(Reply::Ready(ReadyLine { ready: true, model, languages })) => Ready { model, languages },
            Ok(Reply::Refused { error }) => {
                self.stop();
                return Err(Failure::Unavailable(format!("{}: {}", error.name, error.message)));
            }
            _ => {
                self.stop();
                return Err(Failure::Unavailable(format!(
                    "the recognizer's first line is not its ready line: {first:?}"
                )));
            }
        };
        tracing::info!(model = %ready.model, languages = ?ready.languages, "recognizer ready");
        *self.ready.lock().unwrap() = Some(ready);
        Ok(Conversation { stdin, stdout, pending: false })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Transcribe language code's language, as the recognizer names it: `en-US` → `en`.
pub(super) fn language_of(code: &str) -> String {
    code.split(['-', '_']).next().unwrap_or(code).to_ascii_lowercase()
}

/// Whether the recognizer can transcribe as asked; the refusal, named, when not.
pub(super) fn check_language(ready: &Ready, language: &super::job::Language) -> Result<(), String> {
    let known = ready.languages.join(", ");
    match language {
        super::job::Language::Code(code) if !ready.languages.contains(&language_of(code)) => Err(format!(
            "LanguageUnsupported: {code} is not a language of the recognizer's model {} (it knows {known})",
            ready.model
        )),
        super::job::Language::Code(_) => Ok(()),
        // A model of one language would hear that language in everything.
        super::job::Language::Identify(_) if ready.languages.len() < 2 => Err(format!(
            "LanguageUnsupported: the recognizer's model {} knows only {known}, so it cannot identify a language",
            ready.model
        )),
        super::job::Language::Identify(options) => {
            let usable = options.is_empty() || options.iter().any(|o| ready.languages.contains(&language_of(o)));
            if usable {
                Ok(())
            } else {
                Err(format!(
                    "LanguageUnsupported: none of the LanguageOptions ({}) is a language of the recognizer's model {} \
                     (it knows {known})",
                    options.join(", "),
                    ready.model
                ))
            }
        }
    }
}

/// The Transcribe language code for a language the recognizer identified: the first of the
/// job's `LanguageOptions` in that language, or with none given, Transcribe's code for it.
pub(super) fn code_for(language: &str, options: &[String]) -> Option<String> {
    if !options.is_empty() {
        return options.iter().find(|o| language_of(o) == language).cloned();
    }
    // Transcribe's batch languages, one code each (the first it lists for the language).
    const CODES: &[&str] = &[
        "af-ZA", "ar-SA", "ca-ES", "cs-CZ", "cy-GB", "da-DK", "de-DE", "el-GR", "en-US", "es-US", "eu-ES", "fa-IR",
        "fi-FI", "fr-FR", "ga-IE", "gd-GB", "gl-ES", "he-IL", "hi-IN", "hr-HR", "hu-HU", "id-ID", "is-IS", "it-IT",
        "ja-JP", "ko-KR", "lv-LV", "ms-MY", "nl-NL", "no-NO", "pl-PL", "pt-BR", "ro-RO", "ru-RU", "sk-SK", "so-SO",
        "sr-RS", "sv-SE", "sw-KE", "ta-IN", "te-IN", "th-TH", "tl-PH", "tr-TR", "uk-UA", "vi-VN", "zh-CN",
    ];
    CODES.iter().find(|c| language_of(c) == language).map(|c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::job::Language;
    use super::*;

    fn english_only() -> Ready {
        Ready { model: "tiny.en".into(), languages: vec!["en".into()] }
    }

    #[test]
    fn a_language_the_model_lacks_is_refused_naming_both() {
        let error = check_language(&english_only(), &Language::Code("fr-FR".into())).unwrap_err();
        assert!(error.starts_with("LanguageUnsupported:"), "{error}");
        assert!(error.contains("fr-FR") && error.contains("tiny.en"), "{error}");
        assert!(check_language(&english_only(), &Language::Code("en-GB".into())).is_ok());
    }

    #[test]
    fn a_model_of_one_language_cannot_identify() {
        let error = check_language(&english_only(), &Language::Identify(vec![])).unwrap_err();
        assert!(error.starts_with("LanguageUnsupported:") && error.contains("tiny.en"), "{error}");
        let many = Ready { model: "small".into(), languages: vec!["en".into(), "fr".into()] };
        assert!(check_language(&many, &Language::Identify(vec![])).is_ok());
        assert!(check_language(&many, &Language::Identify(vec!["de-DE".into(), "ja-JP".into()])).is_err());
    }

    #[test]
    fn an_identified_language_gets_a_transcribe_code() {
        assert_eq!(code_for("en", &[]).as_deref(), Some("en-US"));
        assert_eq!(code_for("fr", &["en-GB".into(), "fr-CA".into()]).as_deref(), Some("fr-CA"));
        assert_eq!(code_for("de", &["en-GB".into(), "fr-CA".into()]), None);
    }
}
