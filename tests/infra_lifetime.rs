//! `infra/template.yaml` over the life of a deployment: what a new account can create, what
//! each function must be allowed to read and write for the code it runs, what must outlive a
//! redrive, what a browser gets from a cached copy, and what deleting the stack leaves.

mod common;

use common::template::{allows, iam_matches, resources, run, template_path, templates, tool};
use mediaflow_core::contract::Source;
use mediaflow_core::keys::SourceKey;
use mediaflow_core::plan::storyboard_frames;
use mediaflow_core::publish::{listing_key, staged_key, staging_prefix};
use mediaflow_core::statemachine::DEFINITION;
use mediaflow_core::storyboard;
use serde_json::{Value, json};

/// How long after an upload an execution of it may still need what it left in the watch
/// bucket: Step Functions redrives an execution for 14 days after it ends, the execution may
/// have waited its longest task timeout before it ended, and the redriven run may wait as long.
fn redrive_horizon_days() -> u64 {
    fn longest(v: &Value) -> u64 {
        match v {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| if k == "TimeoutSeconds" { v.as_u64().unwrap_or(0) } else { longest(v) })
                .max()
                .unwrap_or(0),
            Value::Array(items) => items.iter().map(longest).max().unwrap_or(0),
            _ => 0,
        }
    }
    let definition: Value = serde_json::from_str(DEFINITION).unwrap();
    let task_days = longest(&definition).div_ceil(86_400);
    assert!(task_days >= 2, "the Transcode wait (48 h) is the longest timeout");
    14 + 2 * task_days
}

#[test]
fn a_new_account_deploys_the_defaults() {
    let written = &templates().written;
    // Lambda keeps 100 of the account's concurrency unreserved; new accounts start with a quota
    // far below 100 + what the template would reserve, and the stack rolls back. By default
    // nothing is reserved, and a reservation is only made when asked for.
    assert_eq!(written["Parameters"]["ToolConcurrency"]["Default"], 0);
    assert_eq!(
        written["Conditions"]["ReservesToolConcurrency"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ToolConcurrency"}, 0]}]})
    );
    let mut reserving = Vec::new();
    for (name, function) in resources(written, "AWS::Serverless::Function") {
        let reserved = &function["Properties"]["ReservedConcurrentExecutions"];
        if reserved.is_null() {
            continue;
        }
        assert_eq!(
            reserved,
            &json!({"Fn::If": ["ReservesToolConcurrency", {"Ref": "ToolConcurrency"}, {"Ref": "AWS::NoValue"}]}),
            "{name} reserves concurrency whatever ToolConcurrency says"
        );
        reserving.push(name.as_str());
    }
    reserving.sort_unstable();
    assert_eq!(reserving, ["MeasureLoudnessFunction", "ProbeFunction", "SaveFrameFunction"]);
}

/// A staging folder of the sample upload, and its keys as ARNs of the watch bucket.
fn staged(key: &str) -> String {
    let mut source = Source::new("watch", "inputs/a/talk.mp4", 10, "e1");
    source.sequencer = Some("01".into());
    staged_key(&source, key)
}

fn watch_arn(key: &str) -> String {
    format!("arn:aws:s3:::watch/{key}")
}

#[test]
fn every_function_may_read_and_write_what_its_code_does_with_hls() {
    // await-mediaconvert reads a finished job's master and variant playlists from staging, and
    // keeps each ladder's segment listing beside them; Publish reads, copies and deletes them.
    let master = staged("audiovideo/a/talk.m3u8");
    let variant = staged("audiovideo/a/talk_360p.m3u8");
    let listing = listing_key(&master).unwrap();
    for key in [&master, &variant] {
        assert!(allows("AwaitMediaConvertFunction", "s3:GetObject", &watch_arn(key)), "{key}");
    }
    assert!(allows("AwaitMediaConvertFunction", "s3:PutObject", &watch_arn(&listing)));
    assert!(!allows("AwaitMediaConvertFunction", "s3:PutObject", &watch_arn(&master)), "MediaConvert writes those");
    for action in ["s3:GetObject", "s3:DeleteObject"] {
        assert!(allows("PublishFunction", action, &watch_arn(&listing)), "{action}");
        assert!(allows("PublishFunction", action, &watch_arn(&staged("audiovideo/a/talk_360p_00001.ts"))));
    }
    // Publish lists the staging folder, and DeleteObjects is allowed key by key (s3:DeleteObject).
    assert!(allows("PublishFunction", "s3:ListBucket", "arn:aws:s3:::watch"));
    for key in ["audiovideo/a/talk_360p_00001.ts", "audiovideo/a/talk.m3u8"] {
        assert!(allows("PublishFunction", "s3:DeleteObject", &format!("arn:aws:s3:::public/{key}")), "{key}");
    }
    // MediaConvert itself writes the ladder into staging.
    let mediaconvert = &templates().written["Resources"]["MediaConvertRole"]["Properties"]["Policies"];
    let granted = mediaconvert.to_string().replace("${AWS::Partition}", "aws").replace("${WatchBucketName}", "watch");
    assert!(granted.contains("arn:aws:s3:::watch/.mediaflow/staging/*/audiovideo/*"));

    // The checker sees a grant that is missing.
    assert!(!allows("AwaitMediaConvertFunction", "s3:GetObject", &watch_arn("inputs/a/talk.mp4")));
    assert!(iam_matches(
        "arn:aws:s3:::w/.mediaflow/staging/*/audiovideo/*",
        "arn:aws:s3:::w/.mediaflow/staging/ab/audiovideo/x/y.ts"
    ));
    assert!(!iam_matches("arn:aws:s3:::w/.mediaflow/tasks/*", "arn:aws:s3:::w/.mediaflow/staging/ab/audiovideo/y.ts"));
}

#[test]
fn the_storyboard_and_loudness_steps_may_do_what_their_code_does() {
    // MediaConvert writes the frames into staging, the Storyboard function lists and reads them
    // and stages the sprite and its map; MeasureLoudness reads the upload.
    let mut source = Source::new("watch", "inputs/a/talk.mp4", 10, "e1");
    source.sequencer = Some("01".into());
    let key = SourceKey::parse(&source.key).unwrap();
    let frames = format!("{}{}", storyboard_frames(&staging_prefix(&source), &key), storyboard::NAME_MODIFIER);
    let frame = storyboard::frame_key(&frames, 0);
    let mediaconvert = &templates().written["Resources"]["MediaConvertRole"]["Properties"]["Policies"];
    let granted = mediaconvert.to_string().replace("${AWS::Partition}", "aws").replace("${WatchBucketName}", "watch");
    let frames_grant = "arn:aws:s3:::watch/.mediaflow/staging/*/frames/*";
    assert!(granted.contains(frames_grant) && iam_matches(frames_grant, &watch_arn(&frame)), "{frame}");
    assert!(allows("StoryboardFunction", "s3:ListBucket", "arn:aws:s3:::watch"));
    assert!(allows("StoryboardFunction", "s3:GetObject", &watch_arn(&frame)));
    for public in [key.storyboard_image_key(), key.storyboard_map_key()] {
        assert!(allows("StoryboardFunction", "s3:PutObject", &watch_arn(&staged_key(&source, &public))), "{public}");
    }
    assert!(!allows("StoryboardFunction", "s3:GetObject", &watch_arn(key.key())), "it reads frames only");
    assert!(allows("MeasureLoudnessFunction", "s3:GetObject", &watch_arn(key.key())));
    assert!(!allows("MeasureLoudnessFunction", "s3:PutObject", &watch_arn(&staged_key(&source, "x"))));
}

#[test]
fn task_answers_and_mediaconvert_roles_are_granted_as_aws_documents_them() {
    // SendTask* take no resource type (Service Authorization Reference): only "*" matches.
    for action in ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"] {
        assert!(allows("AwaitMediaConvertFunction", action, "*"), "{action} must be granted on \"*\"");
    }
    // MediaConvert's user guide: it sends aws:SourceAccount, and aws:SourceArn as the queue's ARN.
    let trust = &templates().written["Resources"]["MediaConvertRole"]["Properties"]["AssumeRolePolicyDocument"];
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "mediaconvert.amazonaws.com");
    assert_eq!(statement["Condition"]["StringEquals"]["aws:SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    let source = statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].as_str().unwrap();
    assert!(iam_matches(
        &source
            .replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", "us-east-1")
            .replace("${AWS::AccountId}", "111122223333"),
        "arn:aws:mediaconvert:us-east-1:111122223333:queues/Default"
    ));
}

/// The lifecycle rules of the watch bucket that expire objects, as (prefix, days).
fn expirations() -> Vec<(String, u64)> {
    let rules = &templates().written["Resources"]["WatchBucket"]["Properties"]["LifecycleConfiguration"]["Rules"];
    rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("ExpirationInDays").is_some())
        .map(|r| {
            let days = r["ExpirationInDays"].as_u64().unwrap_or_else(|| {
                assert_eq!(r["ExpirationInDays"], json!({"Ref": "InputRetentionDays"}));
                let retention = &templates().written["Parameters"]["InputRetentionDays"];
                retention["MinValue"].as_u64().unwrap()
            });
            (r["Prefix"].as_str().unwrap_or_default().to_string(), days)
        })
        .collect()
}

fn expires_after(key: &str) -> Option<u64> {
    expirations().into_iter().filter(|(prefix, _)| key.starts_with(prefix)).map(|(_, days)| days).min()
}

#[test]
fn what_a_redrive_needs_outlives_the_redrive_and_what_users_keep_never_expires() {
    let horizon = redrive_horizon_days();
    let retention = &templates().written["Parameters"]["InputRetentionDays"];
    assert!(retention["Default"].as_u64().unwrap() >= horizon, "uploads expire before a redrive: {retention}");
    assert!(retention["MinValue"].as_u64().unwrap() >= horizon, "uploads may expire before a redrive: {retention}");
    let record = mediaflow_core::publish::guard_key(
        &mediaflow_core::keys::SourceKey::parse("inputs/a/talk.mp4").unwrap(),
        mediaflow_core::contract::AssetKind::Video,
    );
    // What a redrive reads again: the upload, its claim, its task record and its staging.
    for key in [
        "inputs/a/talk.mp4".to_string(),
        ".mediaflow/claims/0123.json".to_string(),
        ".mediaflow/tasks/0123-0.json".to_string(),
        staged("audiovideo/a/talk_360p.mp4"),
    ] {
        let days = expires_after(&key).unwrap_or_else(|| panic!("{key} never expires"));
        assert!(days >= horizon, "{key} expires after {days} days, a redrive may come after {horizon}");
    }
    // The newest-wins records and an edited job template are kept for the life of the stack.
    for key in [record.as_str(), ".mediaflow/job.json", ".mediaflow/job-audio.json"] {
        assert_eq!(expires_after(key), None, "{key} expires");
    }
}

#[test]
fn a_cached_copy_answers_every_allowed_origin_with_cors() {
    let written = &templates().written;
    let behavior = &written["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"];
    // The managed CachingOptimized policy keys on the path alone: a copy cached from a request
    // without Origin is what the next browser gets, so CORS cannot come from S3's answer.
    let policy_name = behavior["ResponseHeadersPolicyId"]["Ref"].as_str().expect("a response headers policy");
    let policy = &written["Resources"][policy_name];
    assert_eq!(policy["Type"], "AWS::CloudFront::ResponseHeadersPolicy");
    let cors = &policy["Properties"]["ResponseHeadersPolicyConfig"]["CorsConfig"];
    assert_eq!(cors["AccessControlAllowOrigins"]["Items"], json!({"Ref": "AllowedOrigins"}));
    assert_eq!(cors["OriginOverride"], true, "CloudFront, not the cached copy, sets the headers");
    let methods = cors["AccessControlAllowMethods"]["Items"].as_array().unwrap();
    assert!(methods.contains(&json!("GET")) && methods.contains(&json!("HEAD")));
    let cached = behavior["CachedMethods"].as_array().unwrap();
    assert!(!cached.contains(&json!("OPTIONS")), "a cached preflight answers every origin alike");
}

#[test]
fn deleting_the_stack_keeps_the_media() {
    let written = &templates().written;
    let buckets: Vec<&String> = resources(written, "AWS::S3::Bucket").map(|(name, _)| name).collect();
    assert_eq!(buckets, ["WatchBucket", "PublicBucket"]);
    for (name, bucket) in resources(written, "AWS::S3::Bucket") {
        assert_eq!(bucket["DeletionPolicy"], "Retain", "{name}");
        assert_eq!(bucket["UpdateReplacePolicy"], "Retain", "{name}");
    }
    // cfn-lint's informational rule for stateful resources, which its default run leaves out.
    let out = run(&tool("cfn-lint"), &["--include-checks", "I", "--", template_path().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!report.contains("I3011"), "cfn-lint I3011:\n{report}");
}

#[test]
fn a_publish_still_running_keeps_its_guard() {
    // Another publish of the name takes a guard over only after its lease: a live one must have
    // ended by then, or the two would copy over each other.
    let timeout = templates().written["Resources"]["PublishFunction"]["Properties"]["Timeout"].as_i64().unwrap();
    assert!(timeout < mediaflow_core::publish::GUARD_LEASE_SECONDS, "Publish may run {timeout} s");
}
