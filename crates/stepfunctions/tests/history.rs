//! The history as Step Functions links it: each event's `previousEventId` names the event
//! before it in its own branch, which is how a console ties events to their states.

use mediaflow_stepfunctions::engine::{Definition, Engine, Event, Registry, StateMachine, Status};
use serde_json::json;

/// Each event's `previousEventId` names the event before it in its own branch, so a console
/// that follows the links finds the state an event belongs to while branches interleave.
#[tokio::test(start_paused = true)]
async fn events_of_interleaved_branches_link_to_their_own_branch() {
    let branch = |name: &str, seconds: u64| {
        let (wait, pass) = (format!("{name}Wait"), format!("{name}Pass"));
        json!({"StartAt": wait, "States": {wait.clone(): {"Type": "Wait", "Seconds": seconds, "Next": pass},
            pass.clone(): {"Type": "Pass", "End": true}}})
    };
    // A waits 1 s then 5 s; B waits 3 s: their events interleave in the history.
    let a = json!({"StartAt": "AWait", "States": {"AWait": {"Type": "Wait", "Seconds": 1, "Next": "ALong"},
        "ALong": {"Type": "Wait", "Seconds": 5, "Next": "APass"}, "APass": {"Type": "Pass", "End": true}}});
    let definition = json!({"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Branches": [a, branch("B", 3)], "Next": "After"},
        "After": {"Type": "Pass", "End": true}}});
    let machine = StateMachine::new("test", Definition::parse(&definition.to_string()).expect("the definition loads"));
    let outcome = Engine::new(Registry::default()).execute(&machine, "run", json!({})).await;
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.failure);
    let events = &outcome.history.events;
    let by_id = |id: u64| events.iter().find(|e| e.id == id).unwrap();
    // The state an event belongs to: the nearest entered state up its chain of links.
    let owner = |id: u64| {
        let mut event = by_id(id);
        loop {
            if let Event::StateEntered { name, .. } = &event.event {
                return name.clone();
            }
            event = by_id(event.previous_event_id);
        }
    };
    let exits: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::StateExited { name, .. } => Some((name.clone(), owner(e.id))),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = exits.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["AWait", "BWait", "BPass", "ALong", "APass", "Both", "After"], "interleaved");
    for (name, owner) in &exits {
        assert_eq!(name, owner, "the exit of {name} links back to its own entry");
    }
    let started = events.iter().find(|e| e.event == Event::ParallelStarted).unwrap().id;
    let firsts: Vec<u64> =
        events.iter().filter(|e| e.event.kind() == "WaitStateEntered").map(|e| e.previous_event_id).collect();
    assert_eq!(firsts[..2], [started, started], "each branch starts from the ParallelStateStarted");
}
