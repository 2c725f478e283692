//! The one-machine Step Functions engine: a definition is loaded (anything it cannot run is
//! refused, by name), then executions run it with the data flow, Choice rules, Retry/Catch,
//! time-outs, task tokens, Parallel and Map of Amazon States Language, calling in-process
//! handlers from a registry and keeping a history with AWS's event names.

pub mod choice;
pub mod dataflow;
pub mod definition;
pub mod errors;
pub mod event;
pub mod execution;
mod fanout;
mod flow;
pub mod history;
pub mod intrinsics;
mod progress;
pub mod recovery;
pub mod registry;
pub mod run;
pub mod runs;
pub mod states;
pub mod store;
mod task;
mod tokens;

pub use definition::{Definition, LoadError};
pub use errors::StatesError;
pub use event::{Event, FanOut, Outcome, StateType, TaskResource};
pub use execution::{
    Branch, Execution, Failure, RedriveError, Resume, StateMachine, Status, StatusChange, execution_arn_of,
};
pub use history::{History, HistoryEvent};
pub use registry::{Handler, Registry, handler, lambda_failure};
pub use run::{Engine, Side, TaskCheck};
pub use runs::{RunStatus, StateRun, state_runs};
pub use store::{ExecutionStore, Journal};
pub use tokens::TokenError;
