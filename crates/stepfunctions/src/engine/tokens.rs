//! Task tokens: what answers a `waitForTaskToken` task, and the wait for that answer.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::errors::StatesError;
use super::execution::Failure;

/// A message for a waiting task token.
pub(super) enum TokenMessage {
    Success(Value),
    Failure(Failure),
    Heartbeat,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No task waits on this token: never issued, or already answered.
    #[error("TaskDoesNotExist: no task waits on this token")]
    TaskDoesNotExist,
    /// The task timed out (TimeoutSeconds or HeartbeatSeconds) before the answer came.
    #[error("TaskTimedOut: the task of this token timed out")]
    TaskTimedOut,
    /// Not a token this engine issues.
    #[error("InvalidToken: not a task token")]
    InvalidToken,
}

/// Waits for the answer to a task token; a heartbeat restarts the heartbeat time-out.
pub(super) async fn await_token(
    mut receiver: mpsc::UnboundedReceiver<TokenMessage>,
    heartbeat: Option<Duration>,
) -> Result<Value, Failure> {
    loop {
        let message = match heartbeat {
            Some(limit) => match tokio::time::timeout(limit, receiver.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    return Err(Failure::states(
                        StatesError::HeartbeatTimeout,
                        format!("no heartbeat for {}s", limit.as_secs()),
                    ));
                }
            },
            None => receiver.recv().await,
        };
        match message {
            Some(TokenMessage::Success(output)) => return Ok(output),
            Some(TokenMessage::Failure(f)) => return Err(f),
            Some(TokenMessage::Heartbeat) => continue,
            None => return Err(Failure::states(StatesError::Runtime, "the task token was dropped")),
        }
    }
}
