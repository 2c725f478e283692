//! The states that steer an execution without calling anything: Pass, Succeed, Choice, Wait and
//! Fail. Task is in `task.rs`, Parallel and Map in `fanout.rs`.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;

use super::choice::{self, ChoiceError};
use super::dataflow::{DataError, apply_result_path, apply_template, evaluate, filtered, select};
use super::errors::StatesError;
use super::execution::Failure;
use super::run::{Run, runtime};
use super::states::{Fail, Kind, State, Text, Wait};

impl Run {
    /// Runs state `name`, one of these kinds, with its `context`: its output and next state, or
    /// the failure it ends in.
    pub(super) async fn flow(
        &self,
        name: &str,
        state: &State,
        input: Value,
        context: &Value,
    ) -> Result<(Value, Option<String>), Failure> {
        let effective = || filtered(&state.input_path, input.clone(), context).map_err(runtime);
        let output = |value: Value| filtered(&state.output_path, value, context).map_err(runtime);
        match &state.kind {
            Kind::Pass(pass) => {
                // InputPath first, even under a `Result` that ignores it: a path that finds
                // nothing fails the state, as on AWS.
                let effective = effective()?;
                let result = match (&pass.result, &pass.parameters) {
                    (Some(result), _) => result.clone(),
                    (None, Some(template)) => apply_template(template, &effective, context).map_err(runtime)?,
                    (None, None) => effective,
                };
                let placed = apply_result_path(&input, result, &pass.result_path).map_err(runtime)?;
                Ok((output(placed)?, state.next.clone()))
            }
            Kind::Succeed => Ok((output(effective()?)?, None)),
            Kind::Choice(rules) => {
                let effective = effective()?;
                let next = choice::next_state(rules, &effective, context).map_err(|e| match e {
                    ChoiceError::Data(d) => runtime(d),
                    ChoiceError::NoChoiceMatched => Failure::states(
                        StatesError::NoChoiceMatched,
                        format!("no choice rule of {name:?} matched and it has no Default"),
                    ),
                })?;
                Ok((output(effective)?, Some(next)))
            }
            Kind::Wait(wait) => {
                let effective = effective()?;
                tokio::time::sleep(self.wait_for(wait, &effective, context).map_err(runtime)?).await;
                Ok((output(effective)?, state.next.clone()))
            }
            Kind::Fail(fail) => Err(self.fail(fail, &input, context)),
            Kind::Task(_) | Kind::Parallel(_) | Kind::Map(_) => unreachable!("{name} calls something"),
        }
    }

    fn fail(&self, fail: &Fail, input: &Value, context: &Value) -> Failure {
        let field = |text: &Option<Text>| -> Result<String, Failure> {
            match text {
                Some(Text::Literal(text)) => Ok(text.clone()),
                Some(Text::Path(p)) => {
                    let v = evaluate(p, input, context).map_err(runtime)?;
                    Ok(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                }
                None => Ok(String::new()),
            }
        };
        match (field(&fail.error), field(&fail.cause)) {
            (Ok(error), Ok(cause)) => Failure { error, cause },
            (Err(f), _) | (_, Err(f)) => f,
        }
    }

    fn wait_for(&self, wait: &Wait, input: &Value, context: &Value) -> Result<Duration, DataError> {
        let until =
            |at: DateTime<FixedOffset>| (at.with_timezone(&Utc) - self.engine.now()).to_std().unwrap_or_default();
        match wait {
            Wait::Seconds(s) => Ok(Duration::from_secs_f64(*s)),
            Wait::SecondsPath(p) => {
                let v = select(p, input, context)?;
                v.as_f64()
                    .filter(|s| *s >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| DataError::Runtime(format!("Wait seconds {v} is not a non-negative number")))
            }
            Wait::Timestamp(at) => Ok(until(*at)),
            Wait::TimestampPath(p) => {
                let v = select(p, input, context)?;
                let at = v
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .ok_or_else(|| DataError::Runtime(format!("Wait timestamp {v} is not an ISO-8601 time")))?;
                Ok(until(at))
            }
        }
    }
}
