//! Which rules match, what their targets are and what each receives: pure, without a server.
//! The calls themselves are tested end to end in the root's `tests/mediaconvert_endpoint.rs`.

use std::sync::Mutex;

use aws_sdk_eventbridge::types::{InputTransformer, Rule as AwsRule, RuleState, Target as AwsTarget};
use mediaflow_core::routing::{execution_failed_pattern, job_state_pattern, upload_pattern};
use serde_json::json;

use super::*;

fn job_event(status: &str, application: &str) -> Value {
    json!({
        "version": "0", "id": "e-1", "detail-type": "MediaConvert Job State Change", "source": "aws.mediaconvert",
        "account": "123456789012", "region": "us-east-1", "resources": [],
        "detail": {"jobId": "j-1", "status": status, "userMetadata": {"application": application, "ref": "r"}}
    })
}

fn aws_rule(name: &str, pattern: Option<&str>, state: RuleState) -> AwsRule {
    AwsRule::builder().name(name).set_event_pattern(pattern.map(str::to_string)).state(state).build()
}

#[test]
fn the_rules_whose_pattern_matches_are_chosen() {
    let listed = [
        aws_rule("uploads", Some(&upload_pattern("watch").to_string()), RuleState::Enabled),
        aws_rule("jobs", Some(&job_state_pattern("mediaflow").to_string()), RuleState::Enabled),
        aws_rule("jobs-off", Some(&job_state_pattern("mediaflow").to_string()), RuleState::Disabled),
        aws_rule("failures", Some(&execution_failed_pattern("arn:m").to_string()), RuleState::Enabled),
        aws_rule("any-job", Some(r#"{"source": ["aws.mediaconvert"]}"#), RuleState::Enabled),
        aws_rule("nightly", None, RuleState::Enabled),
        aws_rule("broken", Some("{not json"), RuleState::Enabled),
        aws_rule("numeric", Some(r#"{"detail": {"x": [{"numeric": [">", 1]}]}}"#), RuleState::Enabled),
    ];
    let rules: Vec<Rule> = listed.iter().filter_map(rule_of).collect();
    let names = |rules: Vec<&Rule>| rules.into_iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(rules.iter().collect()),
        ["uploads", "jobs", "failures", "any-job", "numeric"],
        "disabled, pattern-less and unreadable rules cannot match"
    );
    assert_eq!(names(matching(&rules, &job_event("COMPLETE", "mediaflow"))), ["jobs", "any-job"]);
    assert_eq!(names(matching(&rules, &job_event("SUBMITTED", "mediaflow"))), ["any-job"]);
    assert_eq!(names(matching(&rules, &job_event("COMPLETE", "other"))), ["any-job"]);
}

#[test]
fn a_targets_arn_says_which_service_it_is() {
    let kind = |arn: &str| match Target::of_arn(arn) {
        Target::Lambda(_) => "lambda",
        Target::StateMachine(_) => "states",
        Target::Topic(_) => "sns",
        Target::Unsupported(_) => "unsupported",
        Target::InProcess(_) => "in-process",
    };
    assert_eq!(kind("arn:aws:lambda:us-east-1:123456789012:function:await-mediaconvert"), "lambda");
    assert_eq!(kind("arn:aws:lambda:us-east-1:123456789012:function:f:live"), "lambda");
    assert_eq!(kind("arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"), "states");
    assert_eq!(kind("arn:aws-cn:sns:cn-north-1:123456789012:topic"), "sns");
    assert_eq!(kind("arn:aws:sqs:us-east-1:123456789012:queue"), "unsupported");
    assert_eq!(kind("arn:aws:states:us-east-1:123456789012:activity:a"), "unsupported");
    assert_eq!(kind("not an arn"), "unsupported");
}

#[test]
fn a_target_receives_the_event_its_input_or_its_input_path() {
    let event = job_event("COMPLETE", "mediaflow");
    let target = |build: aws_sdk_eventbridge::types::builders::TargetBuilder| {
        RuleTarget::from_eventbridge(&build.id("t").arn("arn:aws:sns:us-east-1:1:t").build().unwrap())
    };
    let whole = target(AwsTarget::builder());
    assert_eq!(whole.input, Input::Event);
    assert_eq!(serde_json::from_str::<Value>(&whole.input.payload(&event).unwrap()).unwrap(), event);

    let constant = target(AwsTarget::builder().input(r#"{"fixed": true}"#));
    assert_eq!(constant.input.payload(&event).unwrap(), r#"{"fixed": true}"#);

    let detail = target(AwsTarget::builder().input_path("$.detail"));
    assert_eq!(serde_json::from_str::<Value>(&detail.input.payload(&event).unwrap()).unwrap(), event["detail"]);
    let status = target(AwsTarget::builder().input_path("$.detail.status"));
    assert_eq!(status.input.payload(&event).unwrap(), r#""COMPLETE""#);
    let missing = target(AwsTarget::builder().input_path("$.detail.nothing"));
    assert!(matches!(missing.input.payload(&event), Err(DeliveryError::Refused(_))));

    let transformer = InputTransformer::builder().input_template("<status>").build().unwrap();
    let transformed = target(AwsTarget::builder().input_transformer(transformer));
    let refused = transformed.input.payload(&event).unwrap_err();
    assert!(refused.to_string().contains("InputTransformer is not supported"), "{refused}");
}

/// The platform's rules are held in this process: an in-process target hears exactly the events
/// its rule matches, and a failing one does not stop the next event.
#[tokio::test]
async fn fixed_rules_deliver_to_in_process_targets() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let target = {
        let heard = heard.clone();
        RuleTarget::in_process("complete", move |event: Value| {
            let heard = heard.clone();
            async move {
                let status = event["detail"]["status"].as_str().unwrap().to_string();
                heard.lock().unwrap().push(status.clone());
                if status == "ERROR" { Err("it fails".into()) } else { Ok(()) }
            }
        })
    };
    let rule = Rule { name: "jobs".into(), pattern: job_state_pattern("mediaflow") };
    let delivery = Delivery::fixed(vec![(rule, vec![target])]);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for (status, application) in
        [("ERROR", "mediaflow"), ("SUBMITTED", "mediaflow"), ("COMPLETE", "other"), ("COMPLETE", "mediaflow")]
    {
        tx.send(job_event(status, application)).unwrap();
    }
    drop(tx);
    delivery.run(as_json(stream(rx))).await;
    assert_eq!(*heard.lock().unwrap(), ["ERROR", "COMPLETE"]);
}
