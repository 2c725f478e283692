//! The EventBridge rules of `infra/template.yaml`, as the platform routes its events.

use std::sync::Arc;

use mediaflow_core::arn::Arn;
use mediaflow_core::contract::{DataDetails, ExecutionStatusChangeDetail, ExecutionStatusChangeEvent};
use mediaflow_core::routing::{execution_failed_pattern, job_state_pattern, matches, upload_pattern};
use mediaflow_stepfunctions::engine::StatusChange;
use serde_json::Value;

use mediaflow_standins::mediaconvert::delivery::{Delivery, Rule, RuleTarget};

use super::functions::await_clients;
use super::{APPLICATION, Platform, WATCH_BUCKET};
use crate::topic::Notification;

impl Platform {
    /// The rules of `infra/template.yaml`: uploads under `inputs/` start an execution; this
    /// application's job state changes go to await-mediaconvert's complete entry point; an
    /// execution that ends without success is told to the topic.
    pub(super) fn route(&self) {
        let mut uploads = self.s3.events();
        let sfn = self.sfn.client();
        let machine = self.machine_arn.clone();
        let pattern = upload_pattern(WATCH_BUCKET);
        tokio::spawn(async move {
            while let Some(event) = uploads.recv().await {
                let json = serde_json::to_value(&event).expect("events serialise");
                if !matches(&pattern, &json).unwrap_or(false) {
                    continue;
                }
                let started = sfn
                    .start_execution()
                    .state_machine_arn(&machine)
                    .name(uuid::Uuid::new_v4().to_string())
                    .input(json.to_string())
                    .send()
                    .await;
                if let Err(e) = started {
                    eprintln!("mediaflow: could not start an execution for {}: {e}", event.detail.object.key);
                }
            }
        });
        // Job state changes go through the same delivery as `mediaflow mediaconvert`'s, with
        // this rule held here and await-mediaconvert's complete entry point run in-process.
        let clients = Arc::new(await_clients(&self.s3, &self.sfn.client(), &self.mediaconvert));
        let complete = RuleTarget::in_process("await-mediaconvert-complete", move |event| {
            let clients = clients.clone();
            async move {
                let event = serde_json::from_value(event).map_err(|e| e.to_string())?;
                await_mediaconvert::complete(event, &clients).await.map_err(|e| {
                    eprintln!("mediaflow: await-mediaconvert could not answer a job event: {e}");
                    e.to_string()
                })
            }
        });
        let rule = Rule { name: format!("{APPLICATION}-job-state"), pattern: job_state_pattern(APPLICATION) };
        tokio::spawn(Delivery::fixed(vec![(rule, vec![complete])]).run(self.mediaconvert.events()));
        let mut statuses = self.sfn.events();
        let pattern = execution_failed_pattern(&self.machine_arn);
        let topic = self.topic.clone();
        tokio::spawn(async move {
            while let Some(change) = statuses.recv().await {
                let event = status_change_event(&change);
                let json = serde_json::to_value(&event).expect("events serialise");
                if matches(&pattern, &json).unwrap_or(false) {
                    topic.publish(Notification {
                        subject: None,
                        status: event.detail.status,
                        execution: event.detail.name,
                        message: json,
                    });
                }
            }
        });
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
    event.time = Some(chrono::Utc::now());
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
