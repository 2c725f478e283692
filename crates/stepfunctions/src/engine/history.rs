//! An execution's history, event by event, with the type names and detail fields that Step
//! Functions' `GetExecutionHistory` gives, so that what the local engine shows reads like the
//! console's execution view.

use std::cell::Cell;
use std::future::Future;

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::event::Event;

/// One entry of a history. It serialises to AWS's shape (`type` and the details field that
/// [`Event::kind`] and [`Event::details`] name), which is also how the journal keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    /// The event this one follows: the last one recorded before it in the same branch (a
    /// Parallel's branch or a Map's item), as Step Functions links them.
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    pub event: Event,
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (field, details) = self.event.details();
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("previousEventId", &self.previous_event_id)?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("type", self.event.kind())?;
        map.serialize_entry(&field, &details)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Aws {
            id: u64,
            previous_event_id: u64,
            timestamp: DateTime<Utc>,
            #[serde(rename = "type")]
            kind: String,
            #[serde(flatten)]
            details: Map<String, Value>,
        }
        let aws = Aws::deserialize(d)?;
        let details = aws.details.into_iter().next().map(|(_, v)| v).unwrap_or_default();
        let event = Event::from_aws(&aws.kind, &details)
            .ok_or_else(|| serde::de::Error::custom(format!("no history event is of type {}", aws.kind)))?;
        Ok(HistoryEvent { id: aws.id, previous_event_id: aws.previous_event_id, timestamp: aws.timestamp, event })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<HistoryEvent>,
}

impl History {
    /// Records `event` in AWS's shape, following event `previous` (the last event when
    /// `None`); returns its id.
    pub fn record(&mut self, at: DateTime<Utc>, event: Event, previous: Option<u64>) -> u64 {
        let id = self.events.len() as u64 + 1;
        self.events.push(HistoryEvent { id, previous_event_id: previous.unwrap_or(id - 1), timestamp: at, event });
        id
    }

    /// The types, in order: what tests and traces compare.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.event.kind()).collect()
    }
}

tokio::task_local! {
    /// The last event of the branch being polled: branches of a Parallel or items of a Map run
    /// as futures of one task, and each event's `previousEventId` names the event before it in
    /// its own branch, as Step Functions' history does (what a console follows to the state).
    static BRANCH_LAST_EVENT: Cell<u64>;
}

/// Runs `branch` as a branch of its own whose events follow event `from`.
pub(crate) fn in_branch<F: Future>(from: u64, branch: F) -> impl Future<Output = F::Output> {
    BRANCH_LAST_EVENT.scope(Cell::new(from), branch)
}

/// The last event of the branch being run, when there is a branch.
pub(crate) fn branch_last_event() -> Option<u64> {
    BRANCH_LAST_EVENT.try_with(Cell::get).ok()
}

/// The branch being run has moved on to event `id`.
pub(crate) fn branch_moved_on(id: u64) {
    let _ = BRANCH_LAST_EVENT.try_with(|last| last.set(id));
}
