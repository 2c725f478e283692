//! Running ffmpeg and ffprobe: bounded in time, and in memory however much they log.

use std::collections::VecDeque;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mediaflow_core::{ErrorName, Named};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::redact;

/// The lines of stderr a run keeps, its last ones: enough for an error and the summary a filter
/// prints at the end (ebur128's is fourteen lines), however long the tool logs before.
pub const STDERR_TAIL_LINES: usize = 64;

/// How a run of ffmpeg or ffprobe ended.
#[derive(Debug)]
pub struct ToolRun {
    pub succeeded: bool,
    pub stdout: Vec<u8>,
    /// The last [`STDERR_TAIL_LINES`] lines of stderr, presigned secrets redacted.
    pub stderr_tail: Vec<String>,
    /// The last of them that is not blank.
    pub last_error: Option<String>,
}

/// A tool that could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{tool} took longer than {} s", after.as_secs())]
    Timeout { tool: String, after: Duration },
    /// Not there or not runnable: the deployment lacks it.
    #[error(
        "cannot run {tool}: {message}; the function needs ffmpeg and ffprobe (the ffmpeg layer on AWS, \
         `apt-get install ffmpeg` here), or FFMPEG_PATH / FFPROBE_PATH pointing at them"
    )]
    Missing { tool: String, message: String },
}

impl Named for ToolError {
    fn name(&self) -> ErrorName {
        match self {
            ToolError::Timeout { .. } => ErrorName::Transient,
            ToolError::Missing { .. } => ErrorName::Configuration,
        }
    }
}

/// Runs `tool` with `args`, killed after `timeout`. Stdout is kept whole (a probe's JSON, a
/// frame); stderr is read as it comes and only its tail kept.
pub async fn run_tool(tool: &std::path::Path, args: &[&str], timeout: Duration) -> Result<ToolRun, ToolError> {
    let name = tool.display().to_string();
    let missing = |e: std::io::Error| ToolError::Missing { tool: name.clone(), message: e.to_string() };
    let started = Instant::now();
    let mut child = tokio::process::Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(missing)?;
    let (mut stdout, stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let run = async move {
        let mut out = Vec::new();
        let (read, tail) = tokio::join!(stdout.read_to_end(&mut out), tail_of(stderr));
        read?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status.success(), out, tail?))
    };
    // Dropping `run` on the timeout drops the child, which kills it.
    let (succeeded, stdout, tail) = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| ToolError::Timeout { tool: name.clone(), after: timeout })?
        .map_err(missing)?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(tool = %name, seconds, succeeded, "ran");
    let stderr_tail: Vec<String> = tail.into_iter().map(|l| redact(&l)).collect();
    let last_error = stderr_tail.iter().rfind(|l| !l.trim().is_empty()).map(|l| l.trim().to_string());
    Ok(ToolRun { succeeded, stdout, stderr_tail, last_error })
}

/// The last [`STDERR_TAIL_LINES`] lines of `stream`.
async fn tail_of(stream: impl tokio::io::AsyncRead + Unpin) -> std::io::Result<VecDeque<String>> {
    let mut reader = BufReader::new(stream);
    let mut tail = VecDeque::with_capacity(STDERR_TAIL_LINES);
    let mut bytes = Vec::new();
    // Bytes, not `lines()`: tags in a file's metadata need not be UTF-8.
    while reader.read_until(b'\n', &mut bytes).await? > 0 {
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(String::from_utf8_lossy(&bytes).trim_end().to_string());
        bytes.clear();
    }
    Ok(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_stdout_whole_and_the_tail_of_stderr() {
        let script = "for i in $(seq 1 200); do echo err$i >&2; done; printf out; exit 3";
        let run = run_tool(std::path::Path::new("sh"), &["-c", script], Duration::from_secs(10)).await.unwrap();
        assert!(!run.succeeded);
        assert_eq!(run.stdout, b"out");
        assert_eq!(run.stderr_tail.len(), STDERR_TAIL_LINES);
        assert_eq!(run.stderr_tail.first().map(String::as_str), Some("err137"));
        assert_eq!(run.last_error.as_deref(), Some("err200"));
    }

    #[tokio::test]
    async fn a_tool_past_its_time_is_killed_and_a_missing_one_named() {
        let slow = run_tool(std::path::Path::new("sleep"), &["5"], Duration::from_millis(100)).await.unwrap_err();
        assert!(matches!(slow, ToolError::Timeout { .. }) && slow.name() == ErrorName::Transient);
        let missing = run_tool(std::path::Path::new("/no/such/tool"), &[], Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(missing.name(), ErrorName::Configuration);
    }
}
