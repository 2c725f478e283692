//! An execution's history, event by event, with the type names and detail fields that Step
//! Functions' `GetExecutionHistory` gives, so that what the local engine shows reads like the
//! console's execution view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub id: u64,
    /// The event this one follows: the last one recorded before it in the same branch (a
    /// Parallel's branch or a Map's item), as Step Functions links them.
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: String,
    /// AWS's details field for this type, e.g. `stateEnteredEventDetails`.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<HistoryEvent>,
}

impl History {
    /// Records an event of type `kind` with its details under `field` (AWS's name for them),
    /// following event `previous` (the last event when `None`); returns its id.
    pub fn record(&mut self, at: DateTime<Utc>, kind: &str, field: &str, details: Value, previous: Option<u64>) -> u64 {
        let id = self.events.len() as u64 + 1;
        let details = Map::from_iter([(field.to_string(), details)]);
        self.events.push(HistoryEvent {
            id,
            previous_event_id: previous.unwrap_or(id - 1),
            timestamp: at,
            kind: kind.to_string(),
            details,
        });
        id
    }

    /// The types, in order: what tests and traces compare.
    pub fn kinds(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.kind.as_str()).collect()
    }
}
