//! What a Task, Parallel or Map does when an attempt fails: `Retry` (which retrier matches, how
//! long to wait, when the attempts run out) and `Catch` (where to go, with the error object), as
//! Step Functions does it; the decision is pure, and the loop of attempts runs it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::dataflow::apply_result_path;
use super::execution::Failure;
use super::run::{Carried, Run, Step, Stop, runtime};
use super::states::{Kind, Recovery, ResultPath, State};

/// What happens next.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Run the state again after `delay`; `retrier` is the index of the `Retry` entry.
    Retry { retrier: usize, delay: Duration },
    /// Go to `next` with the error object at `result_path`.
    Catch { next: String, result_path: ResultPath },
    /// The execution fails with this failure.
    Fail,
}

/// Whether an `ErrorEquals` list names `error`. `States.ALL` names everything but
/// `States.Runtime`; `States.TaskFailed` names every failure of a Task but its time-outs.
pub fn names(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|name| super::errors::matches(name, error))
}

/// The decision for `failure` of a state with `recovery`, given how often each retrier has
/// retried already (`retries[i]` for `Retry[i]`). `random` gives a number in [0, 1) for full
/// jitter.
pub fn decide(recovery: &Recovery, failure: &Failure, retries: &[u32], random: &mut dyn FnMut() -> f64) -> Decision {
    for (i, retrier) in recovery.retry.iter().enumerate() {
        if !names(&retrier.error_equals, &failure.error) {
            continue;
        }
        let done = retries.get(i).copied().unwrap_or(0);
        if done >= retrier.max_attempts {
            break;
        }
        let mut seconds = retrier.interval_seconds * retrier.backoff_rate.powi(done as i32);
        if let Some(max) = retrier.max_delay_seconds {
            seconds = seconds.min(max);
        }
        if retrier.full_jitter {
            seconds *= random();
        }
        // A backoff grown past any time there is waits "forever" rather than panicking.
        let delay = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
        return Decision::Retry { retrier: i, delay };
    }
    for catcher in &recovery.catch {
        if names(&catcher.error_equals, &failure.error) {
            return Decision::Catch { next: catcher.next.clone(), result_path: catcher.result_path.clone() };
        }
    }
    Decision::Fail
}

impl Run {
    /// Task, Parallel and Map: attempts, with Retry and Catch around them. Only the first
    /// attempt of a redriven Parallel or Map skips the branches that had succeeded.
    pub(super) async fn with_retries(
        &self,
        name: &str,
        path: &[usize],
        state: &State,
        input: Value,
        entered: DateTime<Utc>,
        carried: Carried,
    ) -> Step {
        let Carried { mut fan_out, mut token } = carried;
        let recovery = match &state.kind {
            Kind::Task(task) => &task.recovery,
            Kind::Parallel(parallel) => &parallel.recovery,
            Kind::Map(map) => &map.recovery,
            _ => unreachable!("only a Task, Parallel or Map is retried"),
        };
        let mut retries = vec![0u32; recovery.retry.len()];
        loop {
            let count: u32 = retries.iter().sum();
            let context = self.state_context(name, entered, count);
            let attempt = match &state.kind {
                Kind::Task(_) => self.task(name, path, state, &input, context, token.take()).await.map_err(Stop::from),
                Kind::Parallel(parallel) => self.parallel(path, state, parallel, &input, context, fan_out.take()).await,
                Kind::Map(map) => self.map(path, state, map, &input, context, fan_out.take()).await,
                _ => unreachable!("only a Task, Parallel or Map is retried"),
            };
            let stop = match attempt {
                Ok(output) => return Ok((output, state.next.clone())),
                Err(stop) => stop,
            };
            match decide(recovery, &stop.failure, &retries, &mut fastrand::f64) {
                Decision::Retry { retrier, delay } => {
                    retries[retrier] += 1;
                    tokio::time::sleep(delay).await;
                }
                Decision::Catch { next, result_path } => {
                    let output = apply_result_path(&input, stop.failure.to_json(), &result_path).map_err(runtime)?;
                    return Ok((output, Some(next)));
                }
                Decision::Fail => return Err(stop),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn failure(error: &str) -> Failure {
        Failure { error: error.into(), cause: "because".into() }
    }

    fn list(names: Value) -> Vec<String> {
        serde_json::from_value(names).unwrap()
    }

    /// The Retry and Catch of `state`, loaded as the engine loads them.
    fn recovery(state: &Value) -> Recovery {
        let any = |next: &Value, _: &str| Ok(next.as_str().unwrap_or_default().to_string());
        crate::engine::definition::recovery(state, "test", &any).unwrap()
    }

    #[test]
    fn wildcards_as_aws_defines_them() {
        let all = list(json!(["States.ALL"]));
        assert!(names(&all, "MediaFlow.InvalidMedia"));
        assert!(names(&all, "States.Timeout"));
        assert!(!names(&all, "States.Runtime"));
        let task = list(json!(["States.TaskFailed"]));
        assert!(names(&task, "Lambda.ServiceException"));
        assert!(!names(&task, "States.Timeout"));
        assert!(names(&list(json!(["A", "B"])), "B"));
        assert!(!names(&list(json!(["A"])), "B"));
    }

    #[test]
    fn backoff_caps_and_attempts() {
        let state = json!({"Retry": [{"ErrorEquals": ["MediaFlow.Transient"], "IntervalSeconds": 2, "BackoffRate": 2.0, "MaxAttempts": 4, "MaxDelaySeconds": 10}]});
        let mut no_jitter = || 1.0;
        let delays: Vec<Decision> = (0..5)
            .map(|done| decide(&recovery(&state), &failure("MediaFlow.Transient"), &[done], &mut no_jitter))
            .collect();
        let secs: Vec<f64> = delays
            .iter()
            .filter_map(|d| match d {
                Decision::Retry { delay, .. } => Some(delay.as_secs_f64()),
                _ => None,
            })
            .collect();
        assert_eq!(secs, [2.0, 4.0, 8.0, 10.0]);
        assert_eq!(delays[4], Decision::Fail);
        // Defaults: 1 s, rate 2, 3 attempts.
        let defaults = json!({"Retry": [{"ErrorEquals": ["States.ALL"]}]});
        assert_eq!(
            decide(&recovery(&defaults), &failure("X"), &[2], &mut no_jitter),
            Decision::Retry { retrier: 0, delay: Duration::from_secs(4) }
        );
        assert_eq!(decide(&recovery(&defaults), &failure("X"), &[3], &mut no_jitter), Decision::Fail);
        // MaxAttempts 0 never retries.
        let never = json!({"Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]});
        assert_eq!(decide(&recovery(&never), &failure("X"), &[0], &mut no_jitter), Decision::Fail);
    }

    #[test]
    fn full_jitter_scales_the_delay() {
        let state = json!({"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 8, "JitterStrategy": "FULL"}]});
        let mut quarter = || 0.25;
        assert_eq!(
            decide(&recovery(&state), &failure("X"), &[0], &mut quarter),
            Decision::Retry { retrier: 0, delay: Duration::from_secs(2) }
        );
    }

    #[test]
    fn the_first_matching_retrier_decides_then_catchers_in_order() {
        let def: Value = serde_json::from_str(mediaflow_core::statemachine::DEFINITION).unwrap();
        let mut probe = def["States"]["Probe"].clone();
        probe["Catch"] = json!([
            {"ErrorEquals": ["MediaFlow.InvalidMedia"], "ResultPath": "$.bad", "Next": "Bad"},
            {"ErrorEquals": ["States.ALL"], "Next": "Any"}
        ]);
        let mut half = || 0.5;
        assert!(matches!(
            decide(&recovery(&probe), &failure("Lambda.TooManyRequestsException"), &[0], &mut half),
            Decision::Retry { retrier: 0, .. }
        ));
        assert_eq!(
            decide(&recovery(&probe), &failure("Lambda.TooManyRequestsException"), &[6], &mut half),
            Decision::Catch { next: "Any".into(), result_path: ResultPath::Replace }
        );
        assert_eq!(
            decide(&recovery(&probe), &failure("MediaFlow.InvalidMedia"), &[0], &mut half),
            Decision::Catch { next: "Bad".into(), result_path: ResultPath::At(vec!["bad".into()]) }
        );
        // The pipeline itself catches nothing there: the failure stays at Probe.
        assert_eq!(
            decide(&recovery(&def["States"]["Probe"]), &failure("MediaFlow.InvalidMedia"), &[0], &mut half),
            Decision::Fail
        );
        // States.Runtime is never caught, not even by States.ALL.
        assert_eq!(decide(&recovery(&probe), &failure("States.Runtime"), &[0], &mut half), Decision::Fail);
        let check = &def["States"]["Media"]["Branches"][0]["States"]["CheckTranscode"];
        assert_eq!(
            decide(&recovery(check), &failure("MediaFlow.TranscodePending"), &[5, 0], &mut half),
            Decision::Retry { retrier: 0, delay: Duration::from_secs(60) }
        );
        assert_eq!(failure("E").to_json(), json!({"Error": "E", "Cause": "because"}));
    }
}
