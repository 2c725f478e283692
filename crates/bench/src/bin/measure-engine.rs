//! The local engine's overhead: N executions (default 1,000) of a definition of ten states
//! (Pass, Choice and a trivial Task, with paths, parameters and an intrinsic), one after the
//! other and all at once, against the baseline of the same Task handler called N times directly;
//! and the same with the durable journal on, as `serve` and `process` run them (every transition
//! written and flushed before the run goes on), against the same in memory.
//! Usage: measure-engine [EXECUTIONS]

use std::time::{Duration, Instant};

use anyhow::Result;
use mediaflow_stepfunctions::engine::{Definition, Engine, ExecutionStore, Registry, StateMachine, Status, handler};
use serde_json::{Value, json};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:trivial";
const STATES: u32 = 10;

fn definition() -> Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"n.$": "$.n", "label.$": "States.Format('item {}', $.n)"}, "Next": "IsEven"},
        "IsEven": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 0, "Next": "Mark"}], "Default": "Broken"},
        "Mark": {"Type": "Pass", "Result": true, "ResultPath": "$.marked", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": FUNCTION, "Parameters": {"n.$": "$.n"},
                 "ResultSelector": {"doubled.$": "$.doubled"}, "ResultPath": "$.work", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.work.doubled", "IsNumeric": true}, {"Variable": "$.marked", "BooleanEquals": true}], "Next": "Copy"}],
            "Default": "Broken"},
        "Copy": {"Type": "Pass", "Parameters": {"n.$": "$.n", "doubled.$": "$.work.doubled", "label.$": "$.label"}, "Next": "Tag"},
        "Tag": {"Type": "Pass", "Result": {"tag": "bench"}, "ResultPath": "$.meta", "Next": "Last"},
        "Last": {"Type": "Choice", "Choices": [{"Variable": "$.meta.tag", "StringEquals": "bench", "Next": "Trim"}], "Default": "Broken"},
        "Trim": {"Type": "Pass", "OutputPath": "$.doubled", "Next": "Done"},
        "Broken": {"Type": "Fail", "Error": "Bench.Broken"},
        "Done": {"Type": "Succeed"}
    }})
}

async fn trivial(input: Value) -> Result<Value, mediaflow_stepfunctions::engine::Failure> {
    Ok(json!({"doubled": input["n"].as_i64().unwrap_or_default() * 2}))
}

fn per_second(n: u32, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: u32 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let machine = StateMachine::new("bench", Definition::parse(&definition().to_string())?);
    let mut registry = Registry::default();
    registry.function(FUNCTION, handler(trivial));
    let engine = Engine::new(registry);

    // Baseline: the Task's handler alone, called directly.
    let started = Instant::now();
    for i in 0..n {
        std::hint::black_box(trivial(json!({"n": i})).await.ok());
    }
    let baseline = started.elapsed();

    // One execution after another, then all at once on every core: in memory.
    let (sequential, concurrent, ended) = both(&engine, &machine, n, "mem").await?;

    // The same with the journal on, in a folder of its own.
    let dir = tempfile::tempdir()?;
    let mut registry = Registry::default();
    registry.function(FUNCTION, handler(trivial));
    let journaled = Engine::build(registry, None, Some(ExecutionStore::new(dir.path())));
    let (sequential_kept, concurrent_kept, _) = both(&journaled, &machine, n, "kept").await?;

    let per_state = (sequential.saturating_sub(baseline)).as_secs_f64() * 1e6 / (n * STATES) as f64;
    println!("{n} executions of {STATES} states (9 Pass/Choice, 1 Task), release build:");
    println!(
        "  baseline, the handler alone: {:>9.1} calls/s   {:>8.3} s",
        per_second(n, baseline),
        baseline.as_secs_f64()
    );
    println!(
        "  engine, one at a time:       {:>9.1} execs/s   {:>8.3} s",
        per_second(n, sequential),
        sequential.as_secs_f64()
    );
    println!(
        "  engine, all at once:         {:>9.1} execs/s   {:>8.3} s",
        per_second(n, concurrent),
        concurrent.as_secs_f64()
    );
    println!("  engine overhead per state:   {per_state:>9.1} µs");
    println!("  one execution / one direct call: {:.0}x", sequential.as_secs_f64() / baseline.as_secs_f64());
    println!("with the durable journal on (every transition appended and flushed to disk):");
    println!(
        "  one at a time:               {:>9.1} execs/s   {:>8.3} s   {:.1}x the time in memory",
        per_second(n, sequential_kept),
        sequential_kept.as_secs_f64(),
        sequential_kept.as_secs_f64() / sequential.as_secs_f64()
    );
    println!(
        "  all at once:                 {:>9.1} execs/s   {:>8.3} s   {:.1}x the time in memory",
        per_second(n, concurrent_kept),
        concurrent_kept.as_secs_f64(),
        concurrent_kept.as_secs_f64() / concurrent.as_secs_f64()
    );
    listing(&ended)
}

/// `n` executions on `engine`, one after another and then all at once: how long each took,
/// and the executions of the first.
async fn both(
    engine: &std::sync::Arc<Engine>,
    machine: &StateMachine,
    n: u32,
    tag: &str,
) -> Result<(Duration, Duration, Vec<mediaflow_stepfunctions::engine::Execution>)> {
    let mut ended = Vec::with_capacity(n as usize);
    let started = Instant::now();
    for i in 0..n {
        let run = engine.execute(machine, &format!("{tag}-seq-{i}"), json!({"n": i})).await;
        anyhow::ensure!(run.status == Status::Succeeded && run.output == Some(json!(i * 2)), "{:?}", run.failure);
        ended.push(run);
    }
    let sequential = started.elapsed();
    let started = Instant::now();
    let runs: Vec<_> = (0..n)
        .map(|i| {
            let (engine, machine) = (engine.clone(), machine.clone());
            let name = format!("{tag}-par-{i}");
            tokio::spawn(async move { engine.execute(&machine, &name, json!({"n": i})).await })
        })
        .collect();
    for run in runs {
        anyhow::ensure!(run.await?.status == Status::Succeeded, "a concurrent execution failed");
    }
    Ok((sequential, started.elapsed(), ended))
}

/// What a listing of kept executions costs (ListExecutions, the console's list): every record
/// read whole, as before, against summaries read once and then only stat-ed.
fn listing(ended: &[mediaflow_stepfunctions::engine::Execution]) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = ExecutionStore::new(dir.path());
    for execution in ended {
        store.save(execution)?;
    }
    let timed = |list: &dyn Fn() -> std::io::Result<usize>| -> Result<Duration> {
        let started = Instant::now();
        anyhow::ensure!(list()? == ended.len(), "the listing missed executions");
        Ok(started.elapsed())
    };
    let whole = timed(&|| store.list().map(|l| l.len()))?;
    let first = timed(&|| store.summaries().map(|l| l.len()))?;
    let unchanged = timed(&|| store.summaries().map(|l| l.len()))?;
    println!("listing {} kept executions:", ended.len());
    println!("  every record read whole:     {:>9.1} ms", whole.as_secs_f64() * 1e3);
    println!("  summaries, first read:       {:>9.1} ms", first.as_secs_f64() * 1e3);
    println!("  summaries, none changed:     {:>9.1} ms", unchanged.as_secs_f64() * 1e3);
    println!("  none changed / whole:        {:>9.3}", unchanged.as_secs_f64() / whole.as_secs_f64());
    Ok(())
}
