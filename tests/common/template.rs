//! `infra/template.yaml` as the template tests read it: as written and as the SAM transform
//! expands it (scripts/expand-template.py, with the tools of `scripts/ensure-tools
//! --test-tools`), and what its IAM statements allow.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

pub fn template_path() -> PathBuf {
    super::repo().join("infra/template.yaml")
}

/// A tool of `.tools/python` (cfn-lint, checkov, python).
pub fn tool(name: &str) -> PathBuf {
    let path = super::repo().join(".tools/python/bin").join(name);
    assert!(path.exists(), "{} is missing: run scripts/ensure-tools --test-tools (scripts/test does)", path.display());
    path
}

pub fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

pub struct Templates {
    _dir: tempfile::TempDir,
    /// The template as written, intrinsics in their long form (`{"Ref": …}`).
    pub written: Value,
    /// What CloudFormation deploys: the SAM transform applied.
    pub expanded: Value,
    pub expanded_path: PathBuf,
}

pub fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let script = super::repo().join("scripts/expand-template.py");
        let out = Command::new(tool("python"))
            .arg(&script)
            .arg(template_path())
            .arg(dir.path())
            .output()
            .expect("python runs");
        assert!(out.status.success(), "expand-template.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let read = |name: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
        };
        Templates {
            written: read("template.json"),
            expanded: read("expanded.json"),
            expanded_path: dir.path().join("expanded.json"),
            _dir: dir,
        }
    })
}

pub fn resources<'a>(template: &'a Value, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> {
    template["Resources"].as_object().unwrap().iter().filter(move |(_, r)| r["Type"] == kind)
}

/// Every policy statement under `value`.
pub fn collect_statements<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("Statement", Value::Array(items)) => out.extend(items),
                    ("Statement", Value::Object(_)) => out.push(v),
                    _ => collect_statements(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_statements(v, out)),
        _ => {}
    }
}

/// A string or a list of them (`Action`, `Resource`), `Fn::Sub` filled with the sample
/// account's values: partition `aws`, region `us-east-1`, account `111122223333`, buckets
/// `watch` and `public`.
fn strings(value: &Value) -> Vec<String> {
    let fill = |v: &Value| -> String {
        let text = v.as_str().or_else(|| v["Fn::Sub"].as_str()).map_or_else(|| v.to_string(), str::to_string);
        [
            ("${AWS::Partition}", "aws"),
            ("${AWS::Region}", "us-east-1"),
            ("${AWS::AccountId}", "111122223333"),
            ("${WatchBucketName}", "watch"),
            ("${PublicBucketName}", "public"),
        ]
        .iter()
        .fold(text, |t, (from, to)| t.replace(from, to))
    };
    match value {
        Value::Array(items) => items.iter().map(fill).collect(),
        Value::Null => vec![],
        one => vec![fill(one)],
    }
}

/// IAM's wildcard match: `*` any run of characters (slashes too), `?` one character.
pub fn iam_matches(pattern: &str, value: &str) -> bool {
    fn go(p: &[u8], v: &[u8]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some((b'*', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
            Some((b'?', rest)) => !v.is_empty() && go(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && go(rest, &v[1..]),
        }
    }
    go(pattern.as_bytes(), value.as_bytes())
}

/// Whether an Allow statement of `resource`'s policies (as written) grants `action` on `arn`.
/// Conditions are not evaluated: the checks that use this ask about actions and resources.
pub fn allows(resource: &str, action: &str, arn: &str) -> bool {
    let written = &templates().written;
    let mut statements = Vec::new();
    collect_statements(&written["Resources"][resource]["Properties"]["Policies"], &mut statements);
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && strings(&s["Action"]).iter().any(|a| iam_matches(a, action))
            && strings(&s["Resource"]).iter().any(|r| iam_matches(r, arn))
    })
}
