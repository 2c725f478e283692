//! Parallel and Map: branches or items run, at most so many at once, outputs kept in order,
//! and for a failure what a redrive must run again.

use futures::StreamExt;
use serde_json::{Value, json};

use super::dataflow::{DataError, apply_template, filtered, select};
use super::event::{Event, FanOut, Outcome};
use super::execution::Branch;
use super::execution::Failure;
use super::history::in_branch;
use super::progress::Path;
use super::run::{Halt, Run, Stop, runtime};
use super::states::{Map, Parallel, Shape, State};

impl Run {
    pub(super) async fn parallel(
        &self,
        path: &[usize],
        state: &State,
        parallel: &Parallel,
        input: &Value,
        context: Value,
        plan: Option<Vec<Branch>>,
    ) -> Result<Value, Stop> {
        let effective = filtered(&state.input_path, input.clone(), &context).map_err(runtime)?;
        let branch_input = match &parallel.parameters {
            Some(template) => apply_template(template, &effective, &context).map_err(runtime)?,
            None => effective,
        };
        let branches = &parallel.branches;
        let started = self.record(Event::ParallelStarted);
        let plan = plan.unwrap_or_else(|| vec![Branch::Unfinished(None); branches.len()]);
        self.progress(|p| p.fan_out(path, &plan));
        let runs = branches.iter().zip(plan.clone()).enumerate().map(|(i, (branch, then))| {
            let input = branch_input.clone();
            async move {
                match then {
                    Branch::Succeeded(output) => Ok(output),
                    Branch::Unfinished(resume) => {
                        in_branch(started, self.states(branch, input, resume, within(path, i))).await
                    }
                }
            }
        });
        let outcome = self.fan_out(path, runs.collect(), plan, branches.len().max(1)).await;
        self.finish_fan_out(FanOut::Parallel, state, &parallel.shape, input, outcome, &context)
    }

    pub(super) async fn map(
        &self,
        path: &[usize],
        state: &State,
        map: &Map,
        input: &Value,
        context: Value,
        plan: Option<Vec<Branch>>,
    ) -> Result<Value, Stop> {
        let effective = filtered(&state.input_path, input.clone(), &context).map_err(runtime)?;
        let items = select(&map.items_path, &effective, &context).map_err(runtime)?;
        let Value::Array(items) = items else {
            return Err(runtime(DataError::Runtime(format!("the Map's items are not an array: {items}"))).into());
        };
        let selector = map.item_selector.as_ref();
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            inputs.push(match selector {
                Some(template) => {
                    let mut item_context = context.clone();
                    item_context["Map"] = json!({"Item": {"Index": index, "Value": item}});
                    apply_template(template, &effective, &item_context).map_err(runtime)?
                }
                None => item,
            });
        }
        let started = self.record(Event::MapStarted { length: inputs.len() });
        let limit = match map.max_concurrency {
            0 => inputs.len().max(1),
            n => n,
        };
        let plan = plan.unwrap_or_else(|| vec![Branch::Unfinished(None); inputs.len()]);
        self.progress(|p| p.fan_out(path, &plan));
        let processor = &*map.processor;
        let runs = inputs.into_iter().zip(plan.clone()).enumerate().map(|(index, (item, then))| {
            in_branch(started, async move {
                let resume = match then {
                    Branch::Succeeded(output) => return Ok(output),
                    Branch::Unfinished(resume) => resume,
                };
                self.record(Event::MapIterationStarted { index });
                let result = self.states(processor, item, resume, within(path, index)).await;
                self.record(Event::MapIterationEnded { index, failed: result.is_err() });
                result
            })
        });
        let outcome = self.fan_out(path, runs.collect(), plan, limit).await;
        self.finish_fan_out(FanOut::Map, state, &map.shape, input, outcome, &context)
    }

    /// Runs branches or items, at most `limit` at once, until all succeed or one fails; the
    /// others are then stopped. Outputs are in branch or item order, whatever order they end in.
    /// On failure, the plan says for each what a redrive must do.
    async fn fan_out<F>(
        &self,
        path: &[usize],
        runs: Vec<F>,
        mut plan: Vec<Branch>,
        limit: usize,
    ) -> Result<Vec<Value>, (Failure, Vec<Branch>)>
    where
        F: std::future::Future<Output = Result<Value, Halt>>,
    {
        let indexed = runs.into_iter().enumerate().map(|(i, run)| async move { (i, run.await) });
        let mut running = futures::stream::iter(indexed).buffer_unordered(limit);
        while let Some((i, result)) = running.next().await {
            match result {
                Ok(output) => {
                    self.progress(|p| p.succeeded(&within(path, i), &output));
                    plan[i] = Branch::Succeeded(output);
                }
                Err(halt) => {
                    plan[i] = Branch::Unfinished(Some(halt.resume));
                    return Err((halt.failure, plan));
                }
            }
        }
        Ok(plan
            .into_iter()
            .map(|b| match b {
                Branch::Succeeded(output) => output,
                Branch::Unfinished(_) => unreachable!("every branch ran to success"),
            })
            .collect())
    }

    /// The end of a Parallel or Map: its Succeeded or Failed event, then the array of outputs
    /// through ResultSelector, ResultPath and OutputPath.
    fn finish_fan_out(
        &self,
        fan_out: FanOut,
        state: &State,
        shape: &Shape,
        input: &Value,
        outcome: Result<Vec<Value>, (Failure, Vec<Branch>)>,
        context: &Value,
    ) -> Result<Value, Stop> {
        match outcome {
            Ok(outputs) => {
                self.record(Event::FanOutEnded { fan_out, outcome: Outcome::Succeeded });
                Ok(self.shape_result(state, shape, input, Value::Array(outputs), context)?)
            }
            Err((failure, plan)) => {
                self.record(Event::FanOutEnded { fan_out, outcome: Outcome::Failed(failure.clone()) });
                Err(Stop { failure, fan_out: Some(plan) })
            }
        }
    }
}

/// The path of branch or item `i` of the Parallel or Map at `path`.
fn within(path: &[usize], i: usize) -> Path {
    let mut inner = path.to_vec();
    inner.push(i);
    inner
}
