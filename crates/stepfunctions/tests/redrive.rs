//! Redrives on the engine: an execution resumes where it stopped, timed out or failed, runs
//! only what did not succeed (branches, items), and a later process redrives what an earlier
//! one kept.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{FN, machine, ok, only};
use mediaflow_stepfunctions::engine::{Engine, RedriveError, Registry, Status, handler, lambda_failure};
use serde_json::{Value, json};

/// Over its TimeoutSeconds an execution times out; a redrive starts again at the state it was
/// in, with that state's input.
#[tokio::test(start_paused = true)]
async fn an_execution_over_its_timeout_times_out_and_is_redriven_from_where_it_was() {
    let (registry, calls) = counter(&[], &["b"]);
    let engine = Engine::new(registry);
    let sm = machine(json!({"TimeoutSeconds": 60, "StartAt": "A",
        "States": {"A": task("a", Some("B")), "B": task("b", Some("C")), "C": task("c", None)}}));
    let timed_out = engine.execute(&sm, "slow", json!({})).await;
    assert_eq!(timed_out.status, Status::TimedOut);
    assert_eq!(timed_out.history.kinds().last(), Some(&"ExecutionTimedOut"));
    let at = timed_out.resume.clone().unwrap();
    assert_eq!((at.state.as_str(), &at.input["a"]["key"]), ("B", &json!("a")));

    let redriven = engine.redrive(&sm, timed_out).await.unwrap();
    assert_eq!(redriven.status, Status::Succeeded);
    let calls = calls.lock().unwrap();
    assert_eq!((calls["a"], calls["b"], calls["c"]), (1, 2, 1), "A is not run again");
}

type Calls = Arc<Mutex<std::collections::HashMap<String, u32>>>;

/// Counts calls per key, and fails the first call of each key named in `flaky`.
fn flaky_counter(flaky: &'static [&'static str]) -> (Registry, Calls) {
    counter(flaky, &[])
}

/// Counts calls per key; the first call of a key in `flaky` fails, of a key in `slow` takes an
/// hour.
fn counter(flaky: &'static [&'static str], slow: &'static [&'static str]) -> (Registry, Calls) {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let registry = only(handler(move |input: Value| {
        let seen = seen.clone();
        async move {
            let key = input["key"].as_str().unwrap().to_string();
            let n = {
                let mut seen = seen.lock().unwrap();
                *seen.entry(key.clone()).or_default() += 1;
                seen[&key]
            };
            if n == 1 && flaky.contains(&key.as_str()) {
                return Err(lambda_failure("MediaFlow.Transient", &format!("{key} broke")));
            }
            if n == 1 && slow.contains(&key.as_str()) {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Ok(json!({"key": key, "redrives": input["redrives"]}))
        }
    }));
    (registry, calls)
}

fn task(key: &str, next: Option<&str>) -> Value {
    let mut state = json!({"Type": "Task", "Resource": FN,
        "Parameters": {"key": key, "redrives.$": "$$.Execution.RedriveCount"}, "ResultPath": format!("$.{key}")});
    match next {
        Some(n) => state["Next"] = json!(n),
        None => state["End"] = json!(true),
    }
    state
}

#[tokio::test(start_paused = true)]
async fn a_redrive_starts_at_the_failed_state_and_counts_itself() {
    let (registry, calls) = flaky_counter(&["b"]);
    let engine = Engine::new(registry);
    let sm = machine(
        json!({"StartAt": "A", "States": {"A": task("a", Some("B")), "B": task("b", Some("C")), "C": task("c", None)}}),
    );
    let failed = engine.execute(&sm, "run", json!({})).await;
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.resume.as_ref().unwrap().state, "B");

    let redriven = engine.redrive(&sm, failed).await.unwrap();
    let out = ok(&redriven);
    assert_eq!(out["a"]["redrives"], 0, "A ran once, before the redrive");
    assert_eq!(out["b"]["redrives"], 1);
    assert_eq!(redriven.redrive_count, 1);
    {
        let calls = calls.lock().unwrap();
        assert_eq!((calls["a"], calls["b"], calls["c"]), (1, 2, 1));
    }
    let kinds = redriven.history.kinds();
    let failed_at = kinds.iter().position(|k| *k == "ExecutionFailed").unwrap();
    assert_eq!(kinds[failed_at + 1], "ExecutionRedriven");
    assert_eq!(kinds.last(), Some(&"ExecutionSucceeded"));

    let again = engine.redrive(&sm, redriven).await.unwrap_err();
    assert!(matches!(again, RedriveError::NotRedrivable(_, Status::Succeeded)), "{again}");
}

/// A redriven Parallel runs only the branches that did not succeed; a redriven Map only the
/// items that did not (here: the failed one and those not yet started under MaxConcurrency 1).
#[tokio::test(start_paused = true)]
async fn a_redrive_reruns_only_unfinished_branches_and_items() {
    let (registry, calls) = flaky_counter(&["p2", "m1"]);
    let engine = Engine::new(registry);
    let branch = |key: &str| json!({"StartAt": "T", "States": {"T": task(key, None)}});
    let sm = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [branch("p1"), branch("p2")], "ResultPath": "$.parallel", "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ResultPath": "$.map",
              "ItemSelector": {"key.$": "$$.Map.Item.Value"},
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN,
                  "Parameters": {"key.$": "$.key", "redrives.$": "$$.Execution.RedriveCount"}, "End": true}}},
              "End": true}
    }}));
    let input = json!({"items": ["m0", "m1", "m2"]});
    let first = engine.execute(&sm, "fan", input).await;
    assert_eq!(first.failure.as_ref().unwrap().error, "MediaFlow.Transient");
    let second = engine.redrive(&sm, first).await.unwrap();
    assert_eq!(second.status, Status::Failed, "the Parallel is fixed, the Map fails now");
    assert_eq!(second.resume.as_ref().unwrap().state, "M");
    let third = engine.redrive(&sm, second).await.unwrap();
    let out = ok(&third);
    assert_eq!(out["map"].as_array().unwrap().iter().map(|o| o["key"].clone()).collect::<Vec<_>>(), ["m0", "m1", "m2"]);
    assert_eq!(out["map"][0]["redrives"], 1, "m0 succeeded in the first redrive and was not run again");
    assert_eq!(third.redrive_count, 2);
    let calls = calls.lock().unwrap();
    assert_eq!((calls["p1"], calls["p2"]), (1, 2), "{calls:?}");
    assert_eq!((calls["m0"], calls["m1"], calls["m2"]), (1, 2, 1), "{calls:?}");
}

/// What a later process reads back is what it needs to list, show and redrive.
#[tokio::test(start_paused = true)]
async fn executions_are_kept_under_the_data_folder_and_redriven_by_a_later_process() {
    let dir = tempfile::tempdir().unwrap();
    let store = mediaflow_stepfunctions::engine::ExecutionStore::new(dir.path().join("executions"));
    let sm = machine(json!({"StartAt": "A", "States": {"A": task("a", Some("B")), "B": task("b", None)}}));
    let (registry, _) = flaky_counter(&["b"]);
    let failed = Engine::new(registry).execute(&sm, "kept", json!({"n": 1})).await;
    store.save(&failed).unwrap();

    let loaded = store.load("test", "kept").unwrap();
    assert_eq!(loaded, failed);
    assert_eq!(store.list().unwrap().len(), 1);
    let (registry, calls) = flaky_counter(&[]);
    let redriven = Engine::new(registry).redrive(&sm, loaded).await.unwrap();
    store.save(&redriven).unwrap();
    assert_eq!(ok(&redriven)["b"]["key"], "b");
    assert_eq!(calls.lock().unwrap().get("a"), None, "the later process did not run A again");
    assert_eq!(store.list().unwrap()[0].status, Status::Succeeded);
}
