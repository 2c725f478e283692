//! Choice rules: the comparison operators, `And`/`Or`/`Not`, the type tests, and the Choice
//! state's pick of its next state.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::dataflow::{DataError, select};
use super::states::{Choice, Rule};

/// The next state of a Choice state for `input`: the first rule that matches, else `Default`;
/// with neither, `States.NoChoiceMatched`.
pub fn next_state(choice: &Choice, input: &Value, context: &Value) -> Result<String, ChoiceError> {
    for rule in &choice.choices {
        if matches(&rule.rule, input, context)? {
            return Ok(rule.next.clone());
        }
    }
    choice.default.clone().ok_or(ChoiceError::NoChoiceMatched)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    #[error("{0}")]
    Data(#[from] DataError),
    #[error("States.NoChoiceMatched: no choice rule matched and there is no Default")]
    NoChoiceMatched,
}

const TYPE_TESTS: &[&str] = &["IsPresent", "IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"];
const KINDS: &[&str] = &["String", "Numeric", "Boolean", "Timestamp"];
const RELATIONS: &[&str] = &["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"];

/// Whether `name` is a comparison operator of a choice rule (the loader refuses any other).
pub fn is_operator(name: &str) -> bool {
    if TYPE_TESTS.contains(&name) {
        return true;
    }
    let name = name.strip_suffix("Path").unwrap_or(name);
    name == "StringMatches"
        || KINDS.iter().any(|k| name.strip_prefix(k).is_some_and(|relation| RELATIONS.contains(&relation)))
}

/// Whether `rule` holds for `input`.
pub fn matches(rule: &Rule, input: &Value, context: &Value) -> Result<bool, DataError> {
    let (variable, operator, operand) = match rule {
        Rule::And(all) => {
            for r in all {
                if !matches(r, input, context)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        Rule::Or(any) => {
            for r in any {
                if matches(r, input, context)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Rule::Not(inner) => return Ok(!matches(inner, input, context)?),
        Rule::Test { variable, operator, operand } => (variable, operator.as_str(), operand),
    };
    if operator == "IsPresent" {
        let present = select(variable, input, context).is_ok();
        return Ok(operand.as_bool() == Some(present));
    }
    let value = select(variable, input, context)?;
    let (op, expected) = match operator.strip_suffix("Path") {
        Some(op) => (op, select(operand.as_str().unwrap_or_default(), input, context)?),
        None => (operator, operand.clone()),
    };
    Ok(match op {
        "IsNull" => (value == Value::Null) == (expected == Value::Bool(true)),
        "IsString" => value.is_string() == (expected == Value::Bool(true)),
        "IsNumeric" => value.is_number() == (expected == Value::Bool(true)),
        "IsBoolean" => value.is_boolean() == (expected == Value::Bool(true)),
        "IsTimestamp" => timestamp(&value).is_some() == (expected == Value::Bool(true)),
        "StringMatches" => match (value.as_str(), expected.as_str()) {
            (Some(v), Some(pattern)) => string_matches(v, pattern),
            _ => false,
        },
        _ => compare(op, &value, &expected)?,
    })
}

fn timestamp(v: &Value) -> Option<DateTime<FixedOffset>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

fn compare(op: &str, value: &Value, expected: &Value) -> Result<bool, DataError> {
    use std::cmp::Ordering;
    let (kind, relation) = KINDS
        .iter()
        .find_map(|k| op.strip_prefix(k).map(|r| (*k, r)))
        .ok_or_else(|| DataError::Runtime(format!("unknown comparison {op}")))?;
    // A value of another type than the comparison's never matches.
    let ordering: Option<Ordering> = match kind {
        "String" => value.as_str().zip(expected.as_str()).map(|(a, b)| a.cmp(b)),
        "Numeric" => value.as_f64().zip(expected.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        "Boolean" => value.as_bool().zip(expected.as_bool()).map(|(a, b)| a.cmp(&b)),
        _ => timestamp(value).zip(timestamp(expected)).map(|(a, b)| a.cmp(&b)),
    };
    let Some(ordering) = ordering else { return Ok(false) };
    Ok(match relation {
        "Equals" => ordering == Ordering::Equal,
        "LessThan" => ordering == Ordering::Less,
        "GreaterThan" => ordering == Ordering::Greater,
        "LessThanEquals" => ordering != Ordering::Greater,
        "GreaterThanEquals" => ordering != Ordering::Less,
        other => return Err(DataError::Runtime(format!("unknown comparison {kind}{other}"))),
    })
}

/// `*` matches any run of characters; `\*` is a star and `\\` a backslash.
fn string_matches(value: &str, pattern: &str) -> bool {
    #[derive(Debug)]
    enum Token {
        Any,
        Char(char),
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => tokens.push(Token::Char(chars.next().unwrap_or('\\'))),
            '*' => tokens.push(Token::Any),
            c => tokens.push(Token::Char(c)),
        }
    }
    let text: Vec<char> = value.chars().collect();
    // match[i][j]: tokens[..i] match text[..j].
    let mut matched = vec![vec![false; text.len() + 1]; tokens.len() + 1];
    matched[0][0] = true;
    for i in 1..=tokens.len() {
        for j in 0..=text.len() {
            matched[i][j] = match tokens[i - 1] {
                Token::Any => matched[i - 1][j] || (j > 0 && matched[i][j - 1]),
                Token::Char(c) => j > 0 && text[j - 1] == c && matched[i - 1][j - 1],
            };
        }
    }
    matched[tokens.len()][text.len()]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(rule: Value) -> Rule {
        crate::engine::definition::load_rule(&rule, "test").unwrap()
    }

    fn holds(r: Value, input: Value) -> bool {
        matches(&rule(r), &input, &json!({})).unwrap()
    }

    /// `state` loaded as the Choice of a machine that has every state it names.
    fn choice(state: &Value) -> Choice {
        let mut states = json!({"C": state});
        let targets = state["Choices"].as_array().unwrap().iter().map(|r| &r["Next"]).chain(state.get("Default"));
        for target in targets {
            states[target.as_str().unwrap()] = json!({"Type": "Succeed"});
        }
        let machine = json!({"StartAt": "C", "States": states});
        let loaded = crate::engine::Definition::parse(&machine.to_string()).unwrap();
        match &loaded.machine.states["C"].kind {
            crate::engine::states::Kind::Choice(c) => c.clone(),
            _ => unreachable!("C is a Choice"),
        }
    }

    #[test]
    fn comparisons_and_their_path_forms() {
        let input = json!({"s": "b", "n": 5, "b": true, "t": "2026-11-25T10:00:00Z", "other": 7, "ts2": "2026-11-25T11:00:00+01:00"});
        assert!(holds(json!({"Variable": "$.s", "StringEquals": "b"}), input.clone()));
        assert!(holds(json!({"Variable": "$.s", "StringLessThan": "c"}), input.clone()));
        assert!(holds(json!({"Variable": "$.s", "StringGreaterThanEquals": "b"}), input.clone()));
        assert!(holds(json!({"Variable": "$.n", "NumericGreaterThan": 4.5}), input.clone()));
        assert!(holds(json!({"Variable": "$.n", "NumericLessThanPath": "$.other"}), input.clone()));
        assert!(holds(json!({"Variable": "$.b", "BooleanEquals": true}), input.clone()));
        assert!(holds(json!({"Variable": "$.t", "TimestampEquals": "2026-11-25T10:00:00Z"}), input.clone()));
        assert!(holds(json!({"Variable": "$.t", "TimestampEqualsPath": "$.ts2"}), input.clone()));
        // Another type never matches.
        assert!(!holds(json!({"Variable": "$.s", "NumericEquals": 5}), input.clone()));
    }

    #[test]
    fn logic_types_and_presence() {
        let input = json!({"kind": "video", "probe": {"video": {"w": 1}}, "z": null});
        assert!(holds(json!({"Variable": "$.probe.video", "IsPresent": true}), input.clone()));
        assert!(holds(json!({"Variable": "$.probe.audio", "IsPresent": false}), input.clone()));
        assert!(holds(json!({"Variable": "$.z", "IsNull": true}), input.clone()));
        assert!(holds(json!({"Variable": "$.kind", "IsString": true}), input.clone()));
        assert!(holds(json!({"Variable": "$.kind", "IsNumeric": false}), input.clone()));
        assert!(holds(
            json!({"Or": [{"Variable": "$.kind", "StringEquals": "audio"}, {"Variable": "$.kind", "StringEquals": "video"}]}),
            input.clone()
        ));
        assert!(holds(
            json!({"And": [{"Variable": "$.z", "IsNull": true}, {"Not": {"Variable": "$.kind", "StringEquals": "mp3"}}]}),
            input.clone()
        ));
        // A comparison on a missing variable is a runtime error, as on AWS.
        assert!(matches(&rule(json!({"Variable": "$.missing", "StringEquals": "x"})), &input, &json!({})).is_err());
    }

    #[test]
    fn string_matches_with_wildcards_and_escapes() {
        assert!(string_matches("log-2026.txt", "log-*.txt"));
        assert!(string_matches("a*b", "a\\*b"));
        assert!(!string_matches("axb", "a\\*b"));
        assert!(string_matches("anything", "*"));
        assert!(string_matches("", "*"));
        assert!(!string_matches("log.csv", "log-*.txt"));
        assert!(string_matches("a\\b", "a\\\\b"));
    }

    #[test]
    fn the_pipelines_routes() {
        let def: Value = serde_json::from_str(mediaflow_core::statemachine::DEFINITION).unwrap();
        let route = &choice(&def["States"]["RouteByKind"]);
        for (kind, next) in [
            ("chunk", "AssembleCheck"),
            ("caption", "ConvertCaption"),
            ("mp3", "CopyMp3"),
            ("video", "ArchiveOriginal"),
            ("audio", "ArchiveOriginal"),
            ("duplicate", "Duplicate"),
        ] {
            assert_eq!(next_state(route, &json!({"asset": {"kind": kind}}), &json!({})).unwrap(), next, "{kind}");
        }
        assert_eq!(next_state(route, &json!({"asset": {"kind": "new-kind"}}), &json!({})).unwrap(), "UnknownKind");
        let picture = &choice(&def["States"]["Media"]["Branches"][1]["States"]["HasPicture"]);
        assert_eq!(next_state(picture, &json!({"probe": {"video": {}}}), &json!({})).unwrap(), "SaveFrame");
        assert_eq!(next_state(picture, &json!({"probe": {"audio": []}}), &json!({})).unwrap(), "NoPicture");
        let sound = &choice(&def["States"]["Media"]["Branches"][1]["States"]["HasSound"]);
        let with_sound = json!({"probe": {"audio": [{"codec": "aac"}]}});
        assert_eq!(next_state(sound, &with_sound, &json!({})).unwrap(), "MeasureLoudness");
        assert_eq!(next_state(sound, &json!({"probe": {"audio": []}}), &json!({})).unwrap(), "NoSound");
        let board = &choice(&def["States"]["Media"]["Branches"][0]["States"]["HasStoryboard"]);
        assert_eq!(next_state(board, &json!({"plan": {"storyboard": {}}}), &json!({})).unwrap(), "Storyboard");
        assert_eq!(next_state(board, &json!({"plan": {}}), &json!({})).unwrap(), "NoStoryboard");
        let no_default =
            choice(&json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "A"}]}));
        assert_eq!(next_state(&no_default, &json!({}), &json!({})).unwrap_err(), ChoiceError::NoChoiceMatched);
    }
}
