//! Each Step Functions operation the endpoint serves, with its input typed as AWS's API model
//! names the fields. serde picks the operation by its name and reads its input, so a missing or
//! malformed field is a `ValidationException` that names it, as AWS answers, not an empty
//! string looked up later.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, error};

#[derive(Debug, Deserialize, PartialEq, strum::VariantNames)]
#[serde(tag = "operation", content = "input")]
pub(crate) enum Operation {
    CreateStateMachine(CreateStateMachine),
    DescribeStateMachine(StateMachineRef),
    ListStateMachines(Ignored),
    StartExecution(StartExecution),
    DescribeExecution(ExecutionRef),
    GetExecutionHistory(GetExecutionHistory),
    ListExecutions(ListExecutions),
    SendTaskSuccess(SendTaskSuccess),
    SendTaskFailure(SendTaskFailure),
    SendTaskHeartbeat(TaskRef),
    RedriveExecution(ExecutionRef),
    StopExecution(StopExecution),
}

impl Operation {
    /// `operation` (the `X-Amz-Target` after `AWSStepFunctions.`) with its JSON input.
    pub(crate) fn parse(operation: &str, input: &Value) -> Result<Operation, ApiError> {
        use strum::VariantNames;
        if !Operation::VARIANTS.contains(&operation) {
            let message = format!("{operation} is not an operation the local engine serves");
            return Err(error("UnknownOperationException", message));
        }
        serde_json::from_value(json!({"operation": operation, "input": input}))
            .map_err(|e| error("ValidationException", format!("{operation}: {e}")))
    }
}

/// An input whose fields the engine does not use (paging of a listing: it lists everything).
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct Ignored {}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateStateMachine {
    pub name: String,
    pub definition: String,
    pub role_arn: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StateMachineRef {
    pub state_machine_arn: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartExecution {
    pub state_machine_arn: String,
    /// A new UUID when not given, as AWS names it.
    pub name: Option<String>,
    /// The execution's input as JSON text; `{}` when not given.
    pub input: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecutionRef {
    pub execution_arn: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetExecutionHistory {
    pub execution_arn: String,
    #[serde(default)]
    pub reverse_order: bool,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListExecutions {
    pub state_machine_arn: String,
    pub status_filter: Option<StatusFilter>,
}

/// ListExecutions' `statusFilter`, as AWS's API model lists its values.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum StatusFilter {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    /// A redrive here starts at once, so no execution is ever pending one.
    PendingRedrive,
}

impl StatusFilter {
    pub(crate) fn matches(self, status: crate::engine::Status) -> bool {
        use crate::engine::Status;
        matches!(
            (self, status),
            (StatusFilter::Running, Status::Running)
                | (StatusFilter::Succeeded, Status::Succeeded)
                | (StatusFilter::Failed, Status::Failed)
                | (StatusFilter::TimedOut, Status::TimedOut)
                | (StatusFilter::Aborted, Status::Aborted)
        )
    }
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendTaskSuccess {
    pub task_token: String,
    /// The task's output as JSON text.
    pub output: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SendTaskFailure {
    pub task_token: String,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub cause: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskRef {
    pub task_token: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StopExecution {
    pub execution_arn: String,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub cause: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(operation: &str, input: Value) -> ApiError {
        Operation::parse(operation, &input).unwrap_err()
    }

    #[test]
    fn each_operation_reads_its_fields_by_aws_names() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:sm:x";
        assert_eq!(
            Operation::parse("GetExecutionHistory", &json!({"executionArn": arn, "reverseOrder": true})).unwrap(),
            Operation::GetExecutionHistory(GetExecutionHistory { execution_arn: arn.into(), reverse_order: true })
        );
        assert_eq!(
            Operation::parse("ListExecutions", &json!({"stateMachineArn": "m", "statusFilter": "TIMED_OUT"})).unwrap(),
            Operation::ListExecutions(ListExecutions {
                state_machine_arn: "m".into(),
                status_filter: Some(StatusFilter::TimedOut)
            })
        );
        assert!(Operation::parse("ListStateMachines", &json!({"maxResults": 10})).is_ok());
        let pending =
            Operation::parse("ListExecutions", &json!({"stateMachineArn": "m", "statusFilter": "PENDING_REDRIVE"}));
        assert!(pending.is_ok(), "AWS allows it");
        assert!(StatusFilter::TimedOut.matches(crate::engine::Status::TimedOut));
        assert!(!StatusFilter::PendingRedrive.matches(crate::engine::Status::Failed));
    }

    #[test]
    fn a_missing_or_malformed_field_is_a_validation_error_naming_it() {
        let missing = refused("DescribeExecution", json!({}));
        assert_eq!(missing.kind, "ValidationException");
        assert!(missing.message.contains("executionArn"), "{}", missing.message);
        let malformed = refused("SendTaskSuccess", json!({"taskToken": "t", "output": 5}));
        assert_eq!(malformed.kind, "ValidationException");
        assert!(malformed.message.contains("SendTaskSuccess"), "{}", malformed.message);
        let status = refused("ListExecutions", json!({"stateMachineArn": "m", "statusFilter": "DONE"}));
        assert_eq!(status.kind, "ValidationException", "{}", status.message);
        assert_eq!(refused("DeleteStateMachine", json!({})).kind, "UnknownOperationException");
    }
}
