//! An event delivered as EventBridge delivers it: to every target of every rule whose pattern
//! matches it, with core's matcher ([`mediaflow_core::routing::matches`]). The rules are either
//! held in this process ([`Rules::Fixed`], the one-machine platform's, whose targets may be
//! in-process handlers) or those of an EventBridge bus ([`Rules::EventBridge`], read with
//! ListRules and ListTargetsByRule for every event: events are few, a listing costs
//! milliseconds on an emulator, and a rule deployed while jobs run is honoured at once rather
//! than after a cache's lifetime).
//!
//! A target is a Lambda function (invoked asynchronously, InvocationType `Event`, as
//! EventBridge invokes), a Step Functions state machine (StartExecution) or an SNS topic
//! (Publish); its `Input` or `InputPath` shapes the payload. What cannot be honoured
//! (`InputTransformer`, another service's ARN) is refused with a log line, never guessed. A
//! failed call is logged and tried again a bounded number of times; nothing here ends the
//! endpoint.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use mediaflow_core::routing::matches;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

/// The events an endpoint hands out (its feed's receiver), as a stream.
pub fn stream<T>(mut events: UnboundedReceiver<T>) -> impl Stream<Item = T> {
    futures::stream::poll_fn(move |cx| events.poll_recv(cx))
}

/// Events, typed, as the JSON EventBridge matches and delivers; one that does not serialise is
/// said and left out, never the end of the stream.
pub fn as_json<T: Serialize>(events: impl Stream<Item = T>) -> impl Stream<Item = Value> {
    events.filter_map(|event| async move {
        serde_json::to_value(&event).map_err(|e| tracing::error!(error = %e, "an event does not serialise")).ok()
    })
}

/// A rule that may match: enabled, with an event pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    pub pattern: Value,
}

/// Where a rule sends the events it matches.
#[derive(Clone)]
pub enum Target {
    Lambda(String),
    StateMachine(String),
    Topic(String),
    /// A function of this process: the platform's in-process Lambdas.
    InProcess(Handler),
    /// An ARN of a service this delivery does not call.
    Unsupported(String),
}

/// An in-process target: the event in, an error message out when it failed.
pub type Handler = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// What a target receives, as its `Input` / `InputPath` say.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The whole event.
    Event,
    /// `Input`: this JSON text instead of the event.
    Constant(String),
    /// `InputPath`: the part of the event this JSONPath selects.
    Path(String),
    /// A form of input this delivery does not evaluate (`InputTransformer`).
    Unsupported(&'static str),
}

#[derive(Clone)]
pub struct RuleTarget {
    pub id: String,
    pub target: Target,
    pub input: Input,
}

impl RuleTarget {
    /// An in-process handler of the whole event.
    pub fn in_process<F, Fut>(id: &str, handle: F) -> RuleTarget
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |event| Box::pin(handle(event)));
        RuleTarget { id: id.into(), target: Target::InProcess(handler), input: Input::Event }
    }

    /// A target as ListTargetsByRule describes it.
    pub fn from_eventbridge(target: &aws_sdk_eventbridge::types::Target) -> RuleTarget {
        let input = if target.input_transformer().is_some() {
            Input::Unsupported("InputTransformer")
        } else if let Some(text) = target.input() {
            Input::Constant(text.into())
        } else if let Some(path) = target.input_path() {
            Input::Path(path.into())
        } else {
            Input::Event
        };
        RuleTarget { id: target.id().into(), target: Target::of_arn(target.arn()), input }
    }

    fn describe(&self) -> String {
        match &self.target {
            Target::Lambda(arn) | Target::StateMachine(arn) | Target::Topic(arn) | Target::Unsupported(arn) => {
                arn.clone()
            }
            Target::InProcess(_) => format!("in-process {}", self.id),
        }
    }
}

impl Target {
    /// The kind of target an ARN names: `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn of_arn(arn: &str) -> Target {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, resource] if resource.starts_with("function:") => Target::Lambda(arn.into()),
            ["arn", _, "states", _, _, resource] if resource.starts_with("stateMachine:") => {
                Target::StateMachine(arn.into())
            }
            ["arn", _, "sns", _, _, _] => Target::Topic(arn.into()),
            _ => Target::Unsupported(arn.into()),
        }
    }
}

impl Input {
    /// The payload `event` becomes for a target.
    pub fn payload(&self, event: &Value) -> Result<String, DeliveryError> {
        match self {
            Input::Event => Ok(event.to_string()),
            Input::Constant(text) => Ok(text.clone()),
            Input::Path(path) => {
                let parsed = serde_json_path::JsonPath::parse(path)
                    .map_err(|e| DeliveryError::Refused(format!("InputPath {path}: {e}")))?;
                let selected = parsed
                    .query(event)
                    .exactly_one()
                    .map_err(|_| DeliveryError::Refused(format!("InputPath {path} selects no single value")))?;
                Ok(selected.to_string())
            }
            Input::Unsupported(what) => Err(DeliveryError::Refused(format!("{what} is not supported"))),
        }
    }
}

/// The rules an event is matched against.
pub enum Rules {
    /// Rules held in this process, each with its targets.
    Fixed(Vec<(Rule, Vec<RuleTarget>)>),
    /// The rules of an EventBridge bus, read for each event.
    EventBridge { client: aws_sdk_eventbridge::Client, bus: String },
}

/// The clients of the services targets belong to.
#[derive(Clone)]
pub struct Clients {
    pub lambda: aws_sdk_lambda::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub sns: aws_sdk_sns::Client,
}

/// Why one attempt did not deliver.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// A call failed: tried again.
    #[error("{operation}: {message}")]
    Call { operation: &'static str, message: String },
    /// What cannot be delivered as asked: never tried again.
    #[error("refused: {0}")]
    Refused(String),
}

/// A failed call, said as its chain of causes (`service error: ResourceNotFoundException: …`,
/// `dispatch failure: …: Connection refused`), without the SDK's debug dump.
fn call_failed<E: std::error::Error>(operation: &'static str) -> impl FnOnce(E) -> DeliveryError {
    move |e| {
        let mut message = e.to_string();
        let mut cause = e.source();
        while let Some(inner) = cause {
            message = format!("{message}: {inner}");
            cause = inner.source();
        }
        DeliveryError::Call { operation, message }
    }
}

/// The rules of `rules` whose pattern matches `event`. A pattern the matcher cannot evaluate
/// matches nothing, said in the log.
pub fn matching<'r>(rules: &'r [Rule], event: &Value) -> Vec<&'r Rule> {
    rules
        .iter()
        .filter(|rule| match matches(&rule.pattern, event) {
            Ok(yes) => yes,
            Err(e) => {
                tracing::warn!(rule = %rule.name, error = %e, "a rule's pattern cannot be evaluated; it matches nothing");
                false
            }
        })
        .collect()
}

/// A rule as ListRules describes it, when it can match an event: enabled, with a pattern.
pub fn rule_of(rule: &aws_sdk_eventbridge::types::Rule) -> Option<Rule> {
    use aws_sdk_eventbridge::types::RuleState;
    let name = rule.name()?.to_string();
    if matches!(rule.state(), Some(RuleState::Disabled)) {
        return None;
    }
    let text = rule.event_pattern()?;
    match serde_json::from_str(text) {
        Ok(pattern) => Some(Rule { name, pattern }),
        Err(e) => {
            tracing::warn!(rule = %name, error = %e, "a rule's pattern is not JSON; it matches nothing");
            None
        }
    }
}

/// Delivers events to the targets of the rules that match them.
pub struct Delivery {
    rules: Rules,
    clients: Option<Clients>,
    /// How many times a call is tried, and the pause before the second try (doubled after).
    attempts: u32,
    backoff: Duration,
}

impl Delivery {
    /// Rules held in this process; each delivery is tried once, as a direct call.
    pub fn fixed(rules: Vec<(Rule, Vec<RuleTarget>)>) -> Delivery {
        Delivery { rules: Rules::Fixed(rules), clients: None, attempts: 1, backoff: Duration::ZERO }
    }

    /// The rules of EventBridge bus `bus`, delivered with `clients`, three tries each.
    pub fn eventbridge(client: aws_sdk_eventbridge::Client, bus: &str, clients: Clients) -> Delivery {
        Delivery {
            rules: Rules::EventBridge { client, bus: bus.into() },
            clients: Some(clients),
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }

    /// Delivers every event `events` brings, in order, until it ends.
    pub async fn run(self, events: impl Stream<Item = Value>) {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            self.deliver(&event).await;
        }
    }

    /// Delivers `event` to every target of every rule that matches it; failures are logged.
    pub async fn deliver(&self, event: &Value) {
        let id = event["id"].as_str().unwrap_or_default();
        let chosen = match self.chosen(event).await {
            Ok(chosen) => chosen,
            Err(e) => {
                tracing::error!(event = id, error = %e, "the rules could not be read; the event is not delivered");
                return;
            }
        };
        for (rule, targets) in chosen {
            for target in targets {
                self.deliver_to(&rule, &target, event).await;
            }
        }
    }

    /// The matching rules with their targets.
    async fn chosen(&self, event: &Value) -> Result<Vec<(String, Vec<RuleTarget>)>, DeliveryError> {
        match &self.rules {
            Rules::Fixed(rules) => Ok(rules
                .iter()
                .filter(|(rule, _)| !matching(std::slice::from_ref(rule), event).is_empty())
                .map(|(rule, targets)| (rule.name.clone(), targets.clone()))
                .collect()),
            Rules::EventBridge { client, bus } => {
                let rules = self.retried(|| list_rules(client, bus)).await?;
                let mut chosen = Vec::new();
                for rule in matching(&rules, event) {
                    let targets = self.retried(|| list_targets(client, bus, &rule.name)).await?;
                    chosen.push((rule.name.clone(), targets));
                }
                Ok(chosen)
            }
        }
    }

    async fn retried<F, Fut, T>(&self, call: F) -> Result<T, DeliveryError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, DeliveryError>>,
    {
        let mut pause = self.backoff;
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e @ DeliveryError::Call { .. }) if attempt < self.attempts => {
                    tracing::warn!(attempt, error = %e, "a call failed; trying again");
                    tokio::time::sleep(pause).await;
                    (pause, attempt) = (pause * 2, attempt + 1);
                }
                done => return done,
            }
        }
    }

    async fn deliver_to(&self, rule: &str, target: &RuleTarget, event: &Value) {
        let (id, job, status) =
            (event["id"].as_str(), event["detail"]["jobId"].as_str(), event["detail"]["status"].as_str());
        // One execution name for every try: a StartExecution repeated after a lost answer finds
        // the execution it started.
        let name = uuid::Uuid::new_v4().to_string();
        let delivered = self.retried(|| self.send(target, event, &name)).await;
        let to = target.describe();
        match delivered {
            Ok(()) => tracing::info!(rule, target = %to, event = id, job, status, "delivered"),
            Err(e) => tracing::error!(rule, target = %to, event = id, job, status, error = %e, "not delivered"),
        }
    }

    async fn send(&self, target: &RuleTarget, event: &Value, name: &str) -> Result<(), DeliveryError> {
        let payload = target.input.payload(event)?;
        let clients = || self.clients.as_ref().ok_or_else(|| DeliveryError::Refused("no AWS clients here".into()));
        match &target.target {
            Target::InProcess(handle) => {
                let input = serde_json::from_str(&payload)
                    .map_err(|e| DeliveryError::Refused(format!("an in-process target takes JSON: {e}")))?;
                handle(input).await.map_err(|message| DeliveryError::Call { operation: "in-process", message })
            }
            Target::Lambda(arn) => {
                let invoked = clients()?
                    .lambda
                    .invoke()
                    .function_name(arn)
                    .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                    .payload(aws_sdk_lambda::primitives::Blob::new(payload))
                    .send()
                    .await
                    .map_err(call_failed("lambda:Invoke"))?;
                match invoked.function_error() {
                    Some(error) => Err(DeliveryError::Call { operation: "lambda:Invoke", message: error.into() }),
                    None => Ok(()),
                }
            }
            Target::StateMachine(arn) => {
                let sfn = &clients()?.sfn;
                let started = sfn.start_execution().state_machine_arn(arn).name(name).input(payload).send().await;
                started.map(|_| ()).map_err(call_failed("states:StartExecution"))
            }
            Target::Topic(arn) => {
                let published = clients()?.sns.publish().topic_arn(arn).message(payload).send().await;
                published.map(|_| ()).map_err(call_failed("sns:Publish"))
            }
            Target::Unsupported(arn) => Err(DeliveryError::Refused(format!("{arn} is not a target this delivers to"))),
        }
    }
}

/// Every rule of `bus` that can match, page by page.
async fn list_rules(client: &aws_sdk_eventbridge::Client, bus: &str) -> Result<Vec<Rule>, DeliveryError> {
    let (mut rules, mut next) = (Vec::new(), None);
    loop {
        let page = client
            .list_rules()
            .event_bus_name(bus)
            .set_next_token(next)
            .send()
            .await
            .map_err(call_failed("events:ListRules"))?;
        rules.extend(page.rules().iter().filter_map(rule_of));
        next = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
        if next.is_none() {
            return Ok(rules);
        }
    }
}

async fn list_targets(
    client: &aws_sdk_eventbridge::Client,
    bus: &str,
    rule: &str,
) -> Result<Vec<RuleTarget>, DeliveryError> {
    let (mut targets, mut next) = (Vec::new(), None);
    loop {
        let page = client
            .list_targets_by_rule()
            .event_bus_name(bus)
            .rule(rule)
            .set_next_token(next)
            .send()
            .await
            .map_err(call_failed("events:ListTargetsByRule"))?;
        targets.extend(page.targets().iter().map(RuleTarget::from_eventbridge));
        next = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
        if next.is_none() {
            return Ok(targets);
        }
    }
}

#[cfg(test)]
#[path = "eventbridge_tests.rs"]
mod tests;
