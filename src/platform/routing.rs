//! The platform's EventBridge: every event the endpoints emit (S3's `Object Created`,
//! MediaConvert's `Job State Change`, Step Functions' `Execution Status Change`) goes into one
//! stream, matched against one table of rules, the template's, and delivered to their targets
//! by the delivery `mediaflow mediaconvert` uses against a real bus
//! (`mediaflow_standins::eventbridge`, with core's patterns).

use std::sync::Arc;

use futures::StreamExt;
use mediaflow_core::arn::Arn;
use mediaflow_core::contract::{DataDetails, ExecutionStatusChangeDetail, ExecutionStatusChangeEvent};
use mediaflow_core::routing::{execution_failed_pattern, job_state_pattern, upload_pattern};
use mediaflow_standins::eventbridge::{Delivery, Rule, RuleTarget, as_json, stream};
use mediaflow_stepfunctions::engine::StatusChange;
use serde::Deserialize;
use serde_json::Value;

use super::functions::await_clients;
use super::{APPLICATION, Platform, WATCH_BUCKET};
use crate::topic::Notification;

impl Platform {
    /// The rules of `infra/template.yaml`: uploads under `inputs/` start an execution
    /// (`Upload`); this application's job state changes go to await-mediaconvert's complete
    /// entry point (`JobStateChange`); an execution that ends without success is told to the
    /// topic (`PipelineFailedRule`).
    pub(super) fn route(&self) {
        let sfn = self.sfn.client();
        let machine = self.machine_arn.clone();
        let start = RuleTarget::in_process("start-execution", move |event: Value| {
            let (sfn, machine) = (sfn.clone(), machine.clone());
            async move {
                let name = uuid::Uuid::new_v4().to_string();
                let started = sfn.start_execution().state_machine_arn(machine).name(name).input(event.to_string());
                // The bus says what it could not deliver (on stderr); the message says what to do.
                started.send().await.map(|_| ()).map_err(|e| {
                    let key = event["detail"]["object"]["key"].as_str().unwrap_or_default();
                    let e = aws_sdk_sfn::error::DisplayErrorContext(e);
                    format!("no execution was started for {key} ({e}); upload it again")
                })
            }
        });
        let clients = Arc::new(await_clients(&self.s3, &self.sfn.client(), &self.mediaconvert));
        let complete = RuleTarget::in_process("await-mediaconvert-complete", move |event| {
            let clients = clients.clone();
            async move {
                let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
                await_mediaconvert::complete(event, &clients).await.map_err(|e| e.to_string())
            }
        });
        let topic = self.topic.clone();
        let notify = RuleTarget::in_process("topic", move |event: Value| {
            let topic = topic.clone();
            async move {
                let typed = ExecutionStatusChangeEvent::deserialize(&event).map_err(|e| e.to_string())?;
                let (status, execution) = (typed.detail.status, typed.detail.name);
                topic.publish(Notification { subject: None, status, execution, message: event });
                Ok(())
            }
        });
        let rule = |name: &str, pattern| Rule { name: format!("{APPLICATION}-{name}"), pattern };
        let rules = vec![
            (rule("upload", upload_pattern(WATCH_BUCKET)), vec![start]),
            (rule("job-state", job_state_pattern(APPLICATION)), vec![complete]),
            (rule("failed", execution_failed_pattern(&self.machine_arn)), vec![notify]),
        ];
        let statuses = stream(self.sfn.service().events()).map(|change| status_change_event(&change));
        let events = futures::stream::select_all([
            as_json(stream(self.s3.events())).boxed(),
            as_json(stream(self.mediaconvert.events())).boxed(),
            as_json(statuses).boxed(),
        ]);
        tokio::spawn(Delivery::fixed(rules).run(events));
    }
}
/// The `Execution Status Change` event a Standard workflow sends EventBridge, of `change`.
fn status_change_event(change: &StatusChange) -> ExecutionStatusChangeEvent {
    let (region, account) = Arn::parse(&change.arn).map_or(("", ""), |a| (a.region, a.account));
    let mut event = ExecutionStatusChangeEvent::default();
    event.version = Some("0".into());
    event.id = Some(uuid::Uuid::new_v4().to_string());
    event.detail_type = "Step Functions Execution Status Change".into();
    event.source = "aws.states".into();
    event.account = Some(account.into());
    event.time = Some(change.at);
    event.region = Some(region.into());
    event.resources = Some(vec![change.arn.clone()]);
    event.detail = ExecutionStatusChangeDetail {
        execution_arn: change.arn.clone(),
        state_machine_arn: change.state_machine_arn.clone(),
        name: change.name.clone(),
        status: change.status.to_string(),
        start_date: change.start_date.timestamp_millis(),
        stop_date: change.stop_date.map(|d| d.timestamp_millis()),
        input: Some(change.input.to_string()),
        input_details: Some(DataDetails { included: true }),
        output: change.output.as_ref().map(Value::to_string),
        output_details: change.output.as_ref().map(|_| DataDetails { included: true }),
        error: change.failure.as_ref().map(|f| f.error.clone()),
        cause: change.failure.as_ref().map(|f| f.cause.clone()),
        redrive_count: change.redrive_count,
    };
    event
}
