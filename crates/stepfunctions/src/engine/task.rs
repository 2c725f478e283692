//! A Task state's attempt: its parameters and time-outs, the call (Lambda by ARN,
//! `lambda:invoke`, `lambda:invoke.waitForTaskToken`, `sns:publish`, `aws-sdk:*`) and its history events,
//! and the contract check of what the function is given and returns.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::Instrument;

use super::dataflow::{apply_template, filtered, seconds};
use super::definition::{LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT, SNS_PUBLISH, is_aws_sdk};
use super::errors::StatesError;
use super::event::{Event, TaskResource};
use super::execution::Failure;
use super::run::{Run, Side, runtime};
use super::states::{Kind, State};
use super::tokens::await_token;
use mediaflow_endpoint::REGION;

impl Run {
    /// One attempt of a Task at `path`; a waiting Task resumed after a restart keeps the token
    /// it had (`resumed`), and any other attempt gets a new one, journaled before it is used.
    pub(super) async fn task(
        &self,
        name: &str,
        path: &[usize],
        state: &State,
        input: &Value,
        mut context: Value,
        resumed: Option<String>,
    ) -> Result<Value, Failure> {
        let Kind::Task(task) = &state.kind else { unreachable!("only a Task state runs as a task") };
        let resource = task.resource.as_str();
        let effective = filtered(&state.input_path, input.clone(), &context).map_err(runtime)?;
        let token =
            (resource == LAMBDA_INVOKE_WAIT).then(|| resumed.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()));
        if let Some(token) = &token {
            self.progress(|p| p.token(path, token));
            context["Task"] = json!({"Token": token});
        }
        let parameters = match &task.parameters {
            Some(template) => apply_template(template, &effective, &context).map_err(runtime)?,
            None => effective,
        };
        let timeout = seconds("TimeoutSeconds", task.timeout.as_ref(), input, &context).map_err(runtime)?;
        let heartbeat = seconds("HeartbeatSeconds", task.heartbeat.as_ref(), input, &context).map_err(runtime)?;

        // A plain function ARN is a Lambda task with its own event names; integrations are Task*,
        // their type `aws-sdk:<service>` for an SDK integration, as AWS records it.
        let integration = resource.strip_prefix("arn:aws:states:::").and_then(|r| r.rsplit_once(':'));
        let (kind, mut scheduled) = match integration {
            Some((service, action)) => {
                (TaskResource::Integration, json!({"resourceType": service, "resource": action, "region": REGION}))
            }
            None => (TaskResource::Lambda, json!({"resource": resource})),
        };
        scheduled[if integration.is_some() { "parameters" } else { "input" }] = json!(parameters.to_string());
        if let Some(t) = timeout {
            scheduled["timeoutInSeconds"] = json!(t.as_secs());
        }
        if let Some(h) = heartbeat {
            scheduled["heartbeatInSeconds"] = json!(h.as_secs());
        }
        self.record(Event::TaskScheduled { resource: kind, details: scheduled });
        self.record(Event::TaskStarted { resource: kind });

        // What the function logs goes with its execution and state (the platform keeps a log
        // per execution from these spans).
        let execution = context["Execution"]["Name"].as_str().unwrap_or_default();
        let span = tracing::info_span!("state", execution = %execution, state = %name);
        let work = self.invoke(name, resource, parameters, token.as_deref(), heartbeat).instrument(span);
        let result = match timeout {
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(Failure::states(StatesError::Timeout, format!("{name} ran longer than {}s", limit.as_secs())))
            }),
            None => work.await,
        };
        if let Some(token) = &token {
            self.engine.tokens.lock().unwrap().remove(token);
            if result.as_ref().is_err_and(Failure::is_timeout) {
                self.engine.timed_out.lock().unwrap().insert(token.clone());
            }
        }
        match result {
            Ok(output) => {
                self.record(Event::TaskSucceeded { resource: kind, output: output.to_string() });
                self.shape_result(state, &task.shape, input, output, &context)
            }
            Err(f) if f.is_timeout() => {
                self.record(Event::TaskTimedOut { resource: kind, failure: f.clone() });
                Err(f)
            }
            Err(f) => {
                self.record(Event::TaskFailed { resource: kind, failure: f.clone() });
                Err(f)
            }
        }
    }

    async fn invoke(
        &self,
        state: &str,
        resource: &str,
        parameters: Value,
        token: Option<&str>,
        heartbeat: Option<Duration>,
    ) -> Result<Value, Failure> {
        let missing = |what: &str| Failure {
            error: "Lambda.ResourceNotFoundException".into(),
            cause: format!("Function not found: {what}"),
        };
        match resource {
            SNS_PUBLISH => {
                let publish = self
                    .engine
                    .registry
                    .find_service(SNS_PUBLISH)
                    .ok_or_else(|| Failure::states(StatesError::Runtime, "no SNS sink is registered"))?;
                publish(parameters).await
            }
            sdk if is_aws_sdk(sdk) => {
                let call = self.engine.registry.find_service(sdk).ok_or_else(|| {
                    Failure::states(StatesError::Runtime, format!("no service on this machine answers {sdk}"))
                })?;
                call(parameters).await
            }
            LAMBDA_INVOKE | LAMBDA_INVOKE_WAIT => {
                let name = parameters["FunctionName"].as_str().unwrap_or_default().to_string();
                let function = self.engine.registry.find_function(&name).ok_or_else(|| missing(&name))?.clone();
                let payload = parameters.get("Payload").cloned().unwrap_or_else(|| json!({}));
                self.check(state, Side::Input, &payload)?;
                let Some(token) = token else {
                    let result = function(payload).await?;
                    self.check(state, Side::Output, &result)?;
                    return Ok(json!({
                        "ExecutedVersion": "$LATEST",
                        "Payload": result,
                        "SdkHttpMetadata": {"HttpStatusCode": 200},
                        "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
                        "StatusCode": 200
                    }));
                };
                let (sender, receiver) = mpsc::unbounded_channel();
                self.engine.tokens.lock().unwrap().insert(token.to_string(), sender);
                function(payload).await?;
                let result = await_token(receiver, heartbeat).await?;
                self.check(state, Side::Output, &result)?;
                Ok(result)
            }
            arn => {
                let function = self.engine.registry.find_function(arn).ok_or_else(|| missing(arn))?.clone();
                self.check(state, Side::Input, &parameters)?;
                let result = function(parameters).await?;
                self.check(state, Side::Output, &result)?;
                Ok(result)
            }
        }
    }

    /// The engine's contract check of what a function is given or returns, if it has one. A
    /// breach is a defect of the definition or the code, so it is `States.Runtime`, which no
    /// `States.ALL` catches: the execution fails where the breach is.
    fn check(&self, state: &str, side: Side, value: &Value) -> Result<(), Failure> {
        match &self.engine.check {
            Some(check) => check(state, side, value).map_err(|cause| Failure::states(StatesError::Runtime, cause)),
            None => Ok(()),
        }
    }
}
