//! `infra/template.yaml`, checked without an AWS account: cfn-lint and checkov on the template
//! and on what the SAM transform makes of it, and what those tools cannot see: the state
//! machine's placeholders, the EventBridge patterns the local platform shares, IAM wildcards.
//! The tools come from `scripts/ensure-tools --test-tools` (scripts/test runs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::template::{collect_statements, resources, run, template_path, templates, tool};
use mediaflow_core::routing::{execution_failed_pattern, job_state_pattern, upload_pattern};
use mediaflow_core::statemachine::{self, DEFINITION, FUNCTION_PLACEHOLDERS, TOPIC_PLACEHOLDER};
use serde_json::{Value, json};

#[test]
fn cfn_lint_finds_nothing() {
    let out = run(&tool("cfn-lint"), &[template_path().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "cfn-lint:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// cfn-lint does not read `DefinitionUri`: the definition, filled as infra fills it, goes in a
/// plain `AWS::StepFunctions::StateMachine` so that its rule E3601 checks it. A broken copy
/// shows the rule runs.
#[test]
fn the_definition_passes_cfn_lint_as_a_plain_state_machine() {
    let filled = statemachine::fill(DEFINITION, &statemachine::arns("us-east-1", "111122223333", "mediaflow")).unwrap();
    let definition: Value = serde_json::from_str(&filled).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lint = |definition: &Value| -> String {
        let template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"Pipeline": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
                "StateMachineType": "STANDARD",
                "RoleArn": "arn:aws:iam::111122223333:role/mediaflow-pipeline",
                "Definition": definition
            }}}
        });
        let path = dir.path().join("statemachine.json");
        std::fs::write(&path, template.to_string()).unwrap();
        String::from_utf8_lossy(&run(&tool("cfn-lint"), &[path.to_str().unwrap()]).stdout).into_owned()
    };
    let report = lint(&definition);
    assert!(report.trim().is_empty(), "cfn-lint on the definition:\n{report}");

    let mut broken = definition.clone();
    broken["States"]["Classify"]["Type"] = json!("Taks");
    assert!(lint(&broken).contains("E3601"), "cfn-lint let a wrong state type through");
}

/// The checks of security posture every deployment must pass. checkov runs all of its
/// CloudFormation checks; these must be among the ones that ran and passed.
const REQUIRED_CHECKS: &[&str] = &[
    "CKV_AWS_7",  // KMS key rotation
    "CKV_AWS_19", // bucket encryption
    "CKV_AWS_26", // SNS topic encrypted
    "CKV_AWS_33", // no wildcard principal in the key policy
    "CKV_AWS_34", // CloudFront: HTTPS for viewers
    "CKV_AWS_45", // no secrets in Lambda environments
    "CKV_AWS_53", // public access block, all four settings
    "CKV_AWS_54",
    "CKV_AWS_55",
    "CKV_AWS_56",
    "CKV_AWS_60", // roles assumable only by named services
    "CKV_AWS_61",
    "CKV_AWS_62",  // no admin policies
    "CKV_AWS_63",  // no "*" action
    "CKV_AWS_66",  // log retention
    "CKV_AWS_107", // no credentials exposure, exfiltration, permission management,
    "CKV_AWS_108", // privilege escalation or unconstrained writes
    "CKV_AWS_109",
    "CKV_AWS_110",
    "CKV_AWS_111",
];

fn checkov(path: &Path) -> Value {
    let out = run(
        &tool("checkov"),
        &["--framework", "cloudformation", "--skip-download", "-o", "json", "-f", path.to_str().unwrap()],
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov's report: {e}\n{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn checkov_passes_the_template_and_what_it_deploys() {
    for path in [template_path(), templates().expanded_path.clone()] {
        let report = checkov(&path);
        let results = &report["results"];
        let failed: Vec<String> = results["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| format!("{} {} on {}", c["check_id"], c["check_name"], c["resource"]))
            .collect();
        assert!(failed.is_empty(), "checkov failures in {}:\n{}", path.display(), failed.join("\n"));
        for skipped in results["skipped_checks"].as_array().into_iter().flatten() {
            let reason = skipped["check_result"]["suppress_comment"].as_str().unwrap_or_default();
            assert!(
                reason.len() > 20,
                "{} is skipped on {} without a reason",
                skipped["check_id"],
                skipped["resource"]
            );
        }
        let passed: Vec<&str> =
            results["passed_checks"].as_array().into_iter().flatten().filter_map(|c| c["check_id"].as_str()).collect();
        let missing: Vec<&&str> = REQUIRED_CHECKS.iter().filter(|id| !passed.contains(id)).collect();
        assert!(missing.is_empty(), "required checks that did not pass on {}: {missing:?}", path.display());
    }
}

#[test]
fn every_placeholder_has_a_substitution_and_each_names_its_function() {
    let written = &templates().written;
    let (_, pipeline) = resources(written, "AWS::Serverless::StateMachine").next().expect("the state machine");
    let props = &pipeline["Properties"];
    assert_eq!(props["Type"], "STANDARD");
    let definition = common::repo().join("infra").join(props["DefinitionUri"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(&definition).unwrap(), DEFINITION, "DefinitionUri names another file");

    let substitutions = props["DefinitionSubstitutions"].as_object().unwrap();
    let mut given: Vec<&str> = substitutions.keys().map(String::as_str).collect();
    let mut used = statemachine::used_placeholders(DEFINITION);
    given.sort();
    used.sort();
    assert_eq!(given, used, "DefinitionSubstitutions and the placeholders of pipeline.asl.json differ");

    for (placeholder, binary) in FUNCTION_PLACEHOLDERS {
        let target = &substitutions[*placeholder]["Fn::GetAtt"];
        let resource = &written["Resources"][target[0].as_str().unwrap()];
        assert_eq!(resource["Type"], "AWS::Serverless::Function", "{placeholder}");
        assert_eq!(target[1], "Arn", "{placeholder}");
        assert_eq!(resource["Metadata"]["BuildProperties"]["Binary"], *binary, "{placeholder} builds another binary");
        assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda");
    }
    let topic = substitutions[TOPIC_PLACEHOLDER]["Ref"].as_str().unwrap();
    assert_eq!(written["Resources"][topic]["Type"], "AWS::SNS::Topic");
    assert_eq!(
        resources(written, "AWS::Serverless::Function").count(),
        FUNCTION_PLACEHOLDERS.len(),
        "a function the state machine does not invoke"
    );
}

/// `{"Ref": "X"}` becomes `"${X}"`, so the template's patterns compare with the platform's.
fn refs_as_placeholders(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Ref") => {
            json!(format!("${{{}}}", map["Ref"].as_str().unwrap()))
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), refs_as_placeholders(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(refs_as_placeholders).collect()),
        other => other.clone(),
    }
}

#[test]
fn eventbridge_rules_are_the_patterns_the_local_platform_routes_with() {
    let expanded = &templates().expanded;
    let rules: Vec<(&String, &Value)> = resources(expanded, "AWS::Events::Rule").collect();
    assert_eq!(rules.len(), 3, "{:?}", rules.iter().map(|(n, _)| n).collect::<Vec<_>>());
    let pattern_for = |target: Value| -> Value {
        let (_, rule) = rules
            .iter()
            .find(|(_, r)| r["Properties"]["Targets"][0]["Arn"] == target)
            .unwrap_or_else(|| panic!("no rule targets {target}"));
        refs_as_placeholders(&rule["Properties"]["EventPattern"])
    };
    assert_eq!(pattern_for(json!({"Ref": "Pipeline"})), upload_pattern("${WatchBucketName}"));
    assert_eq!(
        pattern_for(json!({"Fn::GetAtt": ["AwaitMediaConvertFunction", "Arn"]})),
        job_state_pattern("${ApplicationName}")
    );
    assert_eq!(pattern_for(json!({"Ref": "NotificationTopic"})), execution_failed_pattern("${Pipeline}"));
}

/// The buckets' CORS rules are the ones the local platform gives its embedded S3 endpoint,
/// origins aside (a parameter on AWS; the console's loopback origins here).
#[test]
fn cors_rules_are_the_ones_the_local_platform_serves() {
    use mediaflow_core::cors::{CorsRule, public_rules, watch_rules};
    let written = &templates().written;
    let rule_of = |bucket: &str| -> CorsRule {
        let mut rule = written["Resources"][bucket]["Properties"]["CorsConfiguration"]["CorsRules"][0].clone();
        assert_eq!(rule["AllowedOrigins"], json!({"Ref": "AllowedOrigins"}), "{bucket}");
        rule["AllowedOrigins"] = json!(["${AllowedOrigins}"]);
        // CloudFormation's names for S3's ExposeHeaders and MaxAgeSeconds.
        rule["ExposeHeaders"] = rule.get("ExposedHeaders").cloned().unwrap_or(json!([]));
        rule["MaxAgeSeconds"] = rule["MaxAge"].clone();
        serde_json::from_value(rule).unwrap()
    };
    let origins = vec!["${AllowedOrigins}".to_string()];
    assert_eq!(vec![rule_of("WatchBucket")], watch_rules(origins.clone()));
    assert_eq!(vec![rule_of("PublicBucket")], public_rules(origins));
}

/// Allow statements whose action has a wildcard, or whose resource is `*` for an action with
/// a resource to name. Deny statements may be broad: they only take away.
fn wildcard_grants(template: &Value) -> Vec<String> {
    // No resource-level permissions exist for these: "*" is what their APIs require.
    const NO_RESOURCE: &[&str] = &[
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        // The Service Authorization Reference names no resource type for these (the task
        // token scopes them): see the comment beside the grant in infra/template.yaml.
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        // Transcribe's batch actions have no resource type either.
        "transcribe:StartTranscriptionJob",
        "transcribe:GetTranscriptionJob",
    ];
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(items) => items.iter().map(|i| i.as_str().map_or(i.to_string(), str::to_string)).collect(),
            Value::Null => vec![],
            other => vec![other.as_str().map_or(other.to_string(), str::to_string)],
        }
    };
    let mut problems = Vec::new();
    for (name, resource) in template["Resources"].as_object().unwrap() {
        // In a key policy, "*" is the key itself.
        let key_policy = resource["Type"] == "AWS::KMS::Key";
        let mut statements = Vec::new();
        collect_statements(&resource["Properties"], &mut statements);
        for statement in statements {
            if statement["Effect"] != "Allow" {
                continue;
            }
            let actions = list(&statement["Action"]);
            for action in actions.iter().filter(|a| a.contains('*')) {
                problems.push(format!("{name}: action {action}"));
            }
            if statement.get("NotAction").is_some() || statement.get("NotResource").is_some() {
                problems.push(format!("{name}: NotAction/NotResource"));
            }
            let star = list(&statement["Resource"]).iter().any(|r| r == "*");
            if star && !key_policy && !actions.iter().all(|a| NO_RESOURCE.contains(&a.as_str())) {
                problems.push(format!("{name}: resource * for {actions:?}"));
            }
        }
        for arn in list(&resource["Properties"]["ManagedPolicyArns"]) {
            if !arn.ends_with("/AWSLambdaBasicExecutionRole") && !arn.ends_with("/AWSXrayWriteOnlyAccess") {
                problems.push(format!("{name}: managed policy {arn}"));
            }
        }
    }
    problems
}

#[test]
fn no_iam_statement_grants_a_wildcard() {
    for (which, template) in [("as written", &templates().written), ("as deployed", &templates().expanded)] {
        let problems = wildcard_grants(template);
        assert!(problems.is_empty(), "wildcards in the template {which}:\n{}", problems.join("\n"));
    }
    // The check itself finds what it is for.
    let statement = |s: Value| {
        json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "Policies": [{"PolicyDocument": {"Statement": [s]}}]}}}})
    };
    assert_eq!(
        wildcard_grants(&statement(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}))).len(),
        1
    );
    assert_eq!(
        wildcard_grants(&statement(json!({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}))).len(),
        1
    );
    assert_eq!(wildcard_grants(&statement(json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))).len(), 0);
    assert_eq!(
        wildcard_grants(&statement(json!({"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"})))
            .len(),
        0
    );
}

/// Each function may touch only the folders its code uses: every writer but Publish writes only
/// its own folder of the upload's staging, and only Publish writes the public folders.
#[test]
fn functions_write_only_their_own_folders() {
    let written = &templates().written;
    let writes = |function: &str| -> Vec<String> {
        let mut statements = Vec::new();
        collect_statements(&written["Resources"][function]["Properties"]["Policies"], &mut statements);
        statements
            .iter()
            .filter(|s| {
                let actions = s["Action"].to_string();
                actions.contains("PutObject") || actions.contains("DeleteObject")
            })
            .flat_map(|s| match &s["Resource"] {
                Value::Array(items) => items.clone(),
                one => vec![one.clone()],
            })
            .map(|r| r["Fn::Sub"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let public = |folder: &str| format!("arn:${{AWS::Partition}}:s3:::${{PublicBucketName}}/{folder}/*");
    let watch = |folder: &str| format!("arn:${{AWS::Partition}}:s3:::${{WatchBucketName}}/{folder}/*");
    assert_eq!(writes("ClassifyFunction"), [watch(".mediaflow/claims")]);
    assert_eq!(writes("AssembleCheckFunction"), [watch("inputs")]);
    let staged = |folder: &str| watch(&format!(".mediaflow/staging/*/{folder}"));
    assert_eq!(writes("ArchiveOriginalFunction"), [staged("original")]);
    assert_eq!(writes("CopyMp3Function"), [staged("audiovideo")]);
    assert_eq!(writes("ProbeFunction"), Vec::<String>::new());
    assert_eq!(writes("BuildJobFunction"), Vec::<String>::new());
    assert_eq!(writes("AwaitMediaConvertFunction"), [watch(".mediaflow/tasks"), staged("listings")]);
    assert_eq!(writes("SaveFrameFunction"), [staged("thumbnail")]);
    assert_eq!(writes("StoryboardFunction"), [staged("thumbnail")]);
    assert_eq!(writes("MeasureLoudnessFunction"), Vec::<String>::new());
    assert_eq!(writes("SaveMetadataFunction"), [staged("json")]);
    assert_eq!(writes("ConvertCaptionFunction"), [staged("closed-caption")]);
    assert_eq!(writes("AutoCaptionsFunction"), [staged("closed-caption")]);
    // The state machine starts Transcribe, which writes its transcript with the caller's rights.
    assert_eq!(writes("PipelineRole"), [staged(".transcribe")]);
    // Only Publish writes the public folders, and only the staging and its records besides.
    let public_folders = ["audiovideo", "json", "thumbnail", "closed-caption", "original"].map(public);
    let mut publish = vec![watch(".mediaflow/staging"), watch(".mediaflow/published")];
    publish.extend(public_folders);
    assert_eq!(writes("PublishFunction"), publish);
}

/// The machine captions' grants: the state machine starts transcriptions and nothing else of
/// Transcribe's, AutoCaptions reads them and nothing else; both are off by default.
#[test]
fn transcription_is_started_by_the_state_machine_and_read_by_auto_captions_only() {
    let written = &templates().written;
    let actions = |resource: &str| -> Vec<String> {
        let mut statements = Vec::new();
        collect_statements(&written["Resources"][resource]["Properties"], &mut statements);
        let mut all: Vec<String> = statements
            .iter()
            .flat_map(|s| match &s["Action"] {
                Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(String::from)).collect(),
                one => one.as_str().map(String::from).into_iter().collect::<Vec<_>>(),
            })
            .filter(|a| a.starts_with("transcribe:"))
            .collect();
        all.sort();
        all
    };
    assert_eq!(actions("PipelineRole"), ["transcribe:StartTranscriptionJob"]);
    assert_eq!(actions("AutoCaptionsFunction"), ["transcribe:GetTranscriptionJob"]);
    for (name, _) in resources(written, "AWS::Serverless::Function").filter(|(n, _)| *n != "AutoCaptionsFunction") {
        assert!(actions(name).is_empty(), "{name} may call Transcribe");
    }
    let env = &written["Resources"]["AutoCaptionsFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        (env["AUTO_CAPTIONS"]["Ref"].as_str(), env["CAPTION_LANGUAGE"]["Ref"].as_str()),
        (Some("AutoCaptions"), Some("CaptionLanguage"))
    );
    assert_eq!(written["Parameters"]["AutoCaptions"]["Default"], "false", "off by default on AWS, where it is billed");
    let language = &written["Parameters"]["CaptionLanguage"]["Default"];
    assert_eq!(language, mediaflow_core::transcription::DEFAULT_LANGUAGE, "the same default here and on AWS");
}

/// The start of an ELF executable for `machine` (183 AArch64, 62 x86-64): all the layer
/// script reads of it.
fn elf_header(machine: u8) -> Vec<u8> {
    let mut bytes = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, machine, 0];
    bytes.resize(64, 0);
    bytes
}

#[test]
fn ffmpeg_layer_puts_the_architectures_tools_in_bin_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let pack = |machine: u8, arch: &str| -> (Output, PathBuf) {
        let build = dir.path().join(format!("ffmpeg-7.0.2-{machine}-static"));
        std::fs::create_dir_all(&build).unwrap();
        for tool in ["ffmpeg", "ffprobe"] {
            std::fs::write(build.join(tool), elf_header(machine)).unwrap();
        }
        let archive = dir.path().join(format!("{machine}.tar.gz"));
        let tar = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(dir.path())
            .arg(build.file_name().unwrap())
            .status()
            .unwrap();
        assert!(tar.success());
        let zip = dir.path().join(format!("{machine}-{arch}.zip"));
        let script = common::repo().join("scripts/ffmpeg-layer");
        let args =
            ["--archive", archive.to_str().unwrap(), "--zip-only", "--out", zip.to_str().unwrap(), "--arch", arch];
        (run(&script, &args), zip)
    };

    let (out, zip) = pack(183, "arm64");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, oct(i.external_attr >> 16))";
    let listed = Command::new("python3").args(["-c", list]).arg(&zip).output().unwrap();
    let entries = String::from_utf8_lossy(&listed.stdout);
    assert!(entries.contains("bin/ffmpeg 0o100755") && entries.contains("bin/ffprobe 0o100755"), "{entries}");

    let (out, zip) = pack(62, "arm64");
    assert!(!out.status.success() && !zip.exists(), "an x86-64 build was packed for arm64");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an arm64"));
    // For an x86_64 stack: the other way round.
    let (out, zip) = pack(62, "x86_64");
    assert!(out.status.success() && zip.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let (out, _) = pack(183, "x86_64");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an x86_64"));
}

/// What `sam build` needs of the template: SAM's rust-cargolambda builder runs `cargo lambda
/// build --release --bin <Binary>` in each function's `CodeUri` and cannot pass `-p`, so each
/// CodeUri is the crate that has that binary (at the workspace root, a package itself, cargo
/// found none); and every function is built for the one `Architecture` parameter.
#[test]
fn every_function_builds_from_the_crate_of_its_binary_for_the_chosen_architecture() {
    let written = &templates().written;
    let architecture = &written["Parameters"]["Architecture"];
    assert_eq!(architecture["Default"], "arm64");
    assert_eq!(architecture["AllowedValues"], json!(["arm64", "x86_64"]));
    let globals = &written["Globals"]["Function"];
    assert_eq!(globals["Architectures"], json!([{"Ref": "Architecture"}]));
    assert!(globals.get("CodeUri").is_none(), "a CodeUri for all functions builds at one place");
    assert!(!written["Parameters"]["FfmpegLayerArn"]["Description"].as_str().unwrap().contains("arm64"));
    let mut binaries = Vec::new();
    for (name, function) in resources(written, "AWS::Serverless::Function") {
        assert!(function["Properties"].get("Architectures").is_none(), "{name} overrides the architecture");
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = function["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let code = function["Properties"]["CodeUri"].as_str().unwrap_or_else(|| panic!("{name} has no CodeUri"));
        let dir = code.strip_prefix("../functions/").unwrap_or_else(|| panic!("{name}: CodeUri {code}"));
        let crate_dir = common::repo().join("functions").join(dir);
        assert!(bins_of(&crate_dir).contains(&binary.to_string()), "{name}: functions/{dir} has no binary {binary}");
        binaries.push(binary.to_string());
    }
    let count = binaries.len();
    binaries.sort();
    binaries.dedup();
    assert_eq!(binaries.len(), count, "two functions build the same binary");
}

/// The binaries cargo builds from the package in `dir`, as `cargo metadata` says.
fn bins_of(dir: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata");
    let manifest = dir.join("Cargo.toml");
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| Path::new(p["manifest_path"].as_str().unwrap()) == manifest)
        .unwrap_or_else(|| panic!("{} is no package of the workspace", dir.display()));
    package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == json!(["bin"]))
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}
