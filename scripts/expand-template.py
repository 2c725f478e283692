"""Writes infra/template.yaml as JSON twice, for the tests and checkov:
  OUT/template.json  the template as written (short-form tags read as Ref, Fn::Sub, ...);
  OUT/expanded.json  what CloudFormation deploys: the SAM transform applied, as after
                     `sam package` (code and definition in S3), with sample parameter values.
Runs offline: cfn-lint's YAML reader and the SAM translator need no AWS account.
Usage: python expand-template.py TEMPLATE OUT_DIR
"""

import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

SAMPLE_PARAMETERS = {
    "WatchBucketName": "mediaflow-watch-111122223333",
    "PublicBucketName": "mediaflow-public-111122223333",
    "FfmpegLayerArn": "arn:aws:lambda:us-east-1:111122223333:layer:ffmpeg:1",
    "AllowedOrigins": "https://app.example.com",
}


class NoManagedPolicyLookups:
    """The template names managed policies by ARN only, so the translator never looks one up."""

    def load(self):
        return {}


def packaged(template):
    """Local CodeUri/DefinitionUri replaced by S3 locations, as `sam package` does."""
    template = json.loads(json.dumps(template))
    if "CodeUri" in template["Globals"]["Function"]:
        template["Globals"]["Function"]["CodeUri"] = "s3://sam-artifacts/mediaflow.zip"
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = f"s3://sam-artifacts/{name}.zip"
        if resource["Type"] == "AWS::Serverless::StateMachine":
            properties["DefinitionUri"] = "s3://sam-artifacts/pipeline.asl.json"
    return template


def main(path, out):
    template, problems = decode(path)
    if problems:
        sys.exit("\n".join(str(p) for p in problems))
    template = json.loads(json.dumps(template, default=str))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    expanded = transform(packaged(template), SAMPLE_PARAMETERS, NoManagedPolicyLookups())
    os.makedirs(out, exist_ok=True)
    for name, doc in [("template.json", template), ("expanded.json", expanded)]:
        with open(os.path.join(out, name), "w") as f:
            json.dump(doc, f, indent=1, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
