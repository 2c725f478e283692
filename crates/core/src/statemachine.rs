//! What the code knows of `statemachine/pipeline.asl.json`: its placeholders, which function
//! each Task invokes, and which contract each Task's payload and result follow. Infra and the
//! local engine fill the same placeholders; the local engine checks the same contracts.

use std::collections::BTreeMap;

use crate::error::Error;

/// The definition, as shipped.
pub const DEFINITION: &str = include_str!("../../../statemachine/pipeline.asl.json");

/// `${…}` placeholders naming a Lambda function, with the function (a binary of `functions/`)
/// each stands for. `copy-mp3` and `archive-original` are the two binaries of `functions/copy`.
pub const FUNCTION_PLACEHOLDERS: &[(&str, &str)] = &[
    ("ClassifyFunctionArn", "classify"),
    ("AssembleCheckFunctionArn", "assemble-check"),
    ("ArchiveOriginalFunctionArn", "archive-original"),
    ("CopyMp3FunctionArn", "copy-mp3"),
    ("ProbeFunctionArn", "probe"),
    ("BuildJobFunctionArn", "build-job"),
    ("AwaitMediaConvertFunctionArn", "await-mediaconvert"),
    ("SaveFrameFunctionArn", "save-frame"),
    ("StoryboardFunctionArn", "storyboard"),
    ("MeasureLoudnessFunctionArn", "measure-loudness"),
    ("SaveMetadataFunctionArn", "save-metadata"),
    ("ConvertCaptionFunctionArn", "convert-caption"),
    ("PublishFunctionArn", "publish"),
    ("AutoCaptionsFunctionArn", "auto-captions"),
];

/// The SNS topic the pipeline notifies.
pub const TOPIC_PLACEHOLDER: &str = "NotificationTopicArn";

/// Every placeholder the definition may use.
pub fn placeholders() -> Vec<&'static str> {
    FUNCTION_PLACEHOLDERS.iter().map(|(p, _)| *p).chain([TOPIC_PLACEHOLDER]).collect()
}

/// Placeholder values for functions named `<application>-<function>` and the topic
/// `<application>-notifications` in one account and region: how the local platform names them,
/// and a sample of what infra fills.
pub fn arns(region: &str, account: &str, application: &str) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = FUNCTION_PLACEHOLDERS
        .iter()
        .map(|(p, f)| (p.to_string(), crate::arn::lambda_function(region, account, &format!("{application}-{f}"))))
        .collect();
    values.insert(
        TOPIC_PLACEHOLDER.to_string(),
        crate::arn::sns_topic(region, account, &format!("{application}-notifications")),
    );
    values
}

/// The contract of one Task state: the schema (in `schemas/`) of the payload its function is
/// given and of what it returns. `None` for Tasks that call no function of ours (SNS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskContract {
    pub state: &'static str,
    pub input: &'static str,
    pub output: &'static str,
}

pub const TASK_CONTRACTS: &[TaskContract] = &[
    TaskContract { state: "Classify", input: "ClassifyInput", output: "ClassifyOutput" },
    TaskContract { state: "AssembleCheck", input: "AssetInput", output: "AssemblyResult" },
    TaskContract { state: "ArchiveOriginal", input: "AssetInput", output: "StoredObject" },
    TaskContract { state: "CopyMp3", input: "AssetInput", output: "Renditions" },
    TaskContract { state: "Probe", input: "ProbeInput", output: "Probe" },
    TaskContract { state: "BuildJob", input: "MediaInput", output: "JobPlan" },
    TaskContract { state: "Transcode", input: "AwaitMediaConvertInput", output: "Renditions" },
    TaskContract { state: "CheckTranscode", input: "AwaitMediaConvertInput", output: "Renditions" },
    TaskContract { state: "SaveFrame", input: "MediaInput", output: "Thumbnail" },
    TaskContract { state: "Storyboard", input: "StoryboardInput", output: "Storyboard" },
    TaskContract { state: "MeasureLoudness", input: "MediaInput", output: "Loudness" },
    TaskContract { state: "MeasureMp3Loudness", input: "MediaInput", output: "Loudness" },
    TaskContract { state: "SaveMetadata", input: "SaveMetadataInput", output: "MetadataResult" },
    TaskContract { state: "ConvertCaption", input: "AssetInput", output: "CaptionResult" },
    TaskContract { state: "Publish", input: "PublishInput", output: "PublishResult" },
    TaskContract { state: "PlanCaptions", input: "AutoCaptionsInput", output: "TranscriptionPlan" },
    TaskContract { state: "AwaitCaptions", input: "AutoCaptionsInput", output: "MachineCaption" },
];

pub fn task_contract(state: &str) -> Option<&'static TaskContract> {
    TASK_CONTRACTS.iter().find(|c| c.state == state)
}

/// The definition with every `${Name}` replaced by `values[Name]`. A placeholder without a
/// value, or a value for no placeholder, is an error: both mean infra and the definition drifted.
pub fn fill(definition: &str, values: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut out = String::with_capacity(definition.len());
    let mut used = std::collections::BTreeSet::new();
    let mut rest = definition;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| Error::InvalidInput("an unclosed ${ in the state machine definition".into()))?;
        let name = &after[..end];
        let value =
            values.get(name).ok_or_else(|| Error::InvalidInput(format!("no value for the placeholder ${{{name}}}")))?;
        out.push_str(value);
        used.insert(name.to_string());
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if let Some(unused) = values.keys().find(|k| !used.contains(*k)) {
        return Err(Error::InvalidInput(format!("a value for ${{{unused}}}, which the definition does not use")));
    }
    Ok(out)
}

/// The placeholders `definition` uses, in order of first use.
pub fn used_placeholders(definition: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = definition;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        if !found.iter().any(|f| f == &after[..end]) {
            found.push(after[..end].to_string());
        }
        rest = &after[end + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder_and_refuses_drift() {
        let mut values = arns("us-east-1", "111122223333", "mediaflow");
        let filled = fill(DEFINITION, &values).unwrap();
        assert!(!filled.contains("${"));
        assert!(filled.contains("arn:aws:lambda:us-east-1:111122223333:function:mediaflow-classify"));
        assert!(filled.contains("arn:aws:sns:us-east-1:111122223333:mediaflow-notifications"));

        values.insert("Unused".into(), "x".into());
        assert!(fill(DEFINITION, &values).unwrap_err().to_string().contains("Unused"));
        values.remove("Unused");
        values.remove("ProbeFunctionArn");
        assert!(fill(DEFINITION, &values).unwrap_err().to_string().contains("ProbeFunctionArn"));
        assert!(fill("${open", &BTreeMap::new()).is_err());
    }

    #[test]
    fn knows_every_placeholder_the_definition_uses() {
        let used = used_placeholders(DEFINITION);
        let known = placeholders();
        for u in &used {
            assert!(known.contains(&u.as_str()), "${{{u}}} is not a known placeholder");
        }
        for k in known {
            assert!(used.iter().any(|u| u == k), "${{{k}}} is known but unused");
        }
    }
}
