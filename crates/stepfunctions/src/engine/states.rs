//! A loaded definition, typed: the loader (`definition.rs`) checks every field of every state
//! once and builds these, so a run reads fields instead of interpreting JSON on each step.
//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, a Pass's `Result`) stay
//! JSON: they are JSON documents by nature, made concrete against each input.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::event::StateType;

/// A state machine, or a branch of a Parallel, or a Map's item processor.
#[derive(Clone, Debug)]
pub struct Machine {
    pub start_at: String,
    pub states: HashMap<String, State>,
    /// The whole execution's `TimeoutSeconds` (top level only).
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct State {
    /// `Next`; `None` at an end (`End: true`, Succeed, Fail) and for a Choice, whose rules pick.
    pub next: Option<String>,
    pub input_path: Filter,
    pub output_path: Filter,
    pub kind: Kind,
}

/// `InputPath` or `OutputPath`.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Absent: the whole value.
    All,
    /// `null`: an empty object.
    Nothing,
    /// A reference path (`$…` or `$$…`).
    Path(String),
}

/// `ResultPath`: where a result goes in the state's input.
#[derive(Clone, Debug, PartialEq)]
pub enum ResultPath {
    /// Absent or `"$"`: the result replaces the input.
    Replace,
    /// `null`: the input goes on, the result is dropped.
    Discard,
    /// `"$.a.b"`: the field names on the way (objects are made where missing).
    At(Vec<String>),
}

#[derive(Clone, Debug)]
pub enum Kind {
    Pass(Pass),
    Task(Task),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Parallel),
    Map(Map),
}

impl Kind {
    /// The `Type`, as event names start with it.
    pub fn state_type(&self) -> StateType {
        match self {
            Kind::Pass(_) => StateType::Pass,
            Kind::Task(_) => StateType::Task,
            Kind::Choice(_) => StateType::Choice,
            Kind::Wait(_) => StateType::Wait,
            Kind::Succeed => StateType::Succeed,
            Kind::Fail(_) => StateType::Fail,
            Kind::Parallel(_) => StateType::Parallel,
            Kind::Map(_) => StateType::Map,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pass {
    pub result: Option<Value>,
    pub parameters: Option<Value>,
    pub result_path: ResultPath,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub resource: String,
    pub parameters: Option<Value>,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
    pub shape: Shape,
    pub recovery: Recovery,
}

/// `TimeoutSeconds`/`HeartbeatSeconds`, or their `…Path` form read from the input.
#[derive(Clone, Debug, PartialEq)]
pub enum Seconds {
    Fixed(Duration),
    Path(String),
}

/// What becomes of the result of a Task, Parallel or Map.
#[derive(Clone, Debug)]
pub struct Shape {
    pub result_selector: Option<Value>,
    pub result_path: ResultPath,
}

/// `Retry` and `Catch`.
#[derive(Clone, Debug, Default)]
pub struct Recovery {
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    /// `JitterStrategy: FULL`.
    pub full_jitter: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPath,
}

#[derive(Clone, Debug)]
pub struct Choice {
    pub choices: Vec<ChoiceRule>,
    pub default: Option<String>,
}

/// A top-level rule of a Choice state: when it holds, the state goes to `next`.
#[derive(Clone, Debug)]
pub struct ChoiceRule {
    pub rule: Rule,
    pub next: String,
}

#[derive(Clone, Debug)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    /// `Variable` against an operand by a comparison operator (`StringEquals`,
    /// `NumericLessThanPath`, `IsPresent`, …); a `…Path` operator's operand is a path.
    Test {
        variable: String,
        operator: String,
        operand: Value,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Wait {
    Seconds(f64),
    SecondsPath(String),
    Timestamp(chrono::DateTime<chrono::FixedOffset>),
    TimestampPath(String),
}

/// `Error`/`ErrorPath` or `Cause`/`CausePath` of a Fail state.
#[derive(Clone, Debug, PartialEq)]
pub enum Text {
    Literal(String),
    /// A reference path or an intrinsic function, as AWS allows for both.
    Path(String),
}

#[derive(Clone, Debug)]
pub struct Fail {
    pub error: Option<Text>,
    pub cause: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Parallel {
    pub branches: Vec<Machine>,
    pub parameters: Option<Value>,
    pub shape: Shape,
    pub recovery: Recovery,
}

#[derive(Clone, Debug)]
pub struct Map {
    pub processor: Box<Machine>,
    pub items_path: String,
    /// `ItemSelector`, or its older name `Parameters`.
    pub item_selector: Option<Value>,
    /// 0: no limit.
    pub max_concurrency: usize,
    pub shape: Shape,
    pub recovery: Recovery,
}
