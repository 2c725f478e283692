//! The errors Step Functions itself names (`States.*`): the ones this engine raises, and the
//! wildcards a `Retry` or `Catch` matches with.

/// A `States.*` error name. A failure's `error` stays a string, since a task's own errors
/// (a Lambda's `errorType`) are whatever the task says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::Display, strum::EnumString)]
#[strum(prefix = "States.")]
pub enum StatesError {
    /// Matches every error but `States.Runtime`.
    #[strum(serialize = "ALL")]
    All,
    /// Matches every failure of a Task but its time-outs.
    TaskFailed,
    /// A path, a template or a payload that does not fit; no `States.ALL` catches it.
    Runtime,
    Timeout,
    HeartbeatTimeout,
    IntrinsicFailure,
    NoChoiceMatched,
}

impl StatesError {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether `error` is this name.
    pub fn is(self, error: &str) -> bool {
        error == self.as_str()
    }
}

/// Whether the `ErrorEquals` entry `name` names `error`, with AWS's wildcards.
pub fn matches(name: &str, error: &str) -> bool {
    let own = error.strip_prefix("States.").and_then(|e| e.parse::<StatesError>().ok());
    match name.strip_prefix("States.").and_then(|n| n.parse::<StatesError>().ok()) {
        Some(StatesError::All) => own != Some(StatesError::Runtime),
        Some(StatesError::TaskFailed) => {
            !matches!(own, Some(StatesError::Runtime | StatesError::Timeout | StatesError::HeartbeatTimeout))
        }
        _ => name == error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_aws_writes_them() {
        assert_eq!(StatesError::All.as_str(), "States.ALL");
        assert_eq!(StatesError::HeartbeatTimeout.to_string(), "States.HeartbeatTimeout");
        assert!(StatesError::Runtime.is("States.Runtime"));
        assert!(matches("States.ALL", "MediaFlow.Transient"));
        assert!(!matches("States.ALL", "States.Runtime"));
        assert!(matches("States.TaskFailed", "Lambda.Unknown"));
        assert!(!matches("States.TaskFailed", "States.HeartbeatTimeout"));
        assert!(matches("States.Timeout", "States.Timeout"));
        assert!(!matches("MediaFlow.X", "MediaFlow.Y"));
    }
}
