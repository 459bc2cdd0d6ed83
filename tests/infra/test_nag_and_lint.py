"""cdk-nag AwsSolutions: no unacknowledged finding, every acknowledgement narrow and reasoned;
cfn-lint: no error in the synthesized template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from stacks.functions import FUNCTION_SPECS
from stacks.synth import app_context, build
from tests.infra.conftest import deployable

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
# CDK makes each function DependsOn its role although Role is already a GetAtt: harmless.
ACCEPTED_LINT_WARNINGS = {"W3005"}


def test_aws_solutions_checks_report_no_finding(stage_synth):
    reports = stage_synth.validation_report["pluginReports"]
    assert [(r["pluginName"], r["conclusion"], r["violations"]) for r in reports] == [
        ("AwsSolutions", "success", [])
    ]


def test_nag_plugin_does_run_and_report(tmp_path):
    # GIVEN the app as app.py builds it, plus one queue that breaks an AwsSolutions rule
    app = cdk.App(outdir=str(tmp_path), context=app_context(bundling=False))
    stack = build(app, deployable(stage="nagcheck"))
    sqs.Queue(stack, "PlainQueue", enforce_ssl=False)
    # WHEN synthesized, synthesis stops
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    # THEN the report names exactly that queue's findings
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    found = {
        (v["ruleName"], c["constructPath"]) for v in plugin["violations"] for c in v["violatingConstructs"]
    }
    assert found == {
        ("AwsSolutions-SQS3", "HuntazeByoIpStack-nagcheck/PlainQueue/Resource"),
        ("AwsSolutions-SQS4", "HuntazeByoIpStack-nagcheck/PlainQueue/Resource"),
    }


def _acknowledgements(stack):
    """(path under the stack, rule) -> reason, for the core's constructs (the layers own theirs)."""
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = {}
    for construct in stack.node.find_all():
        relative = construct.node.path.split("/")[1:]  # [] for the stack itself
        if relative[:1] in (["Monitoring"], ["Automation"]):
            continue
        for entry in construct.node.metadata:
            if entry.type == key:
                for rule, reason in entry.data.items():
                    found[("/".join(relative), rule)] = reason
    return found


FUNCTION_CIDS = [spec.cid for spec in FUNCTION_SPECS]


def test_acknowledgements_are_narrow_and_reasoned(stage_synth):
    acks = _acknowledgements(stage_synth.stack)
    api = stage_synth.stack.resolve(
        stage_synth.stack.get_logical_id(stage_synth.stack.realtime.ws_api.node.default_child)
    )
    logs_bucket = stage_synth.stack.resolve(
        stage_synth.stack.get_logical_id(stage_synth.stack.storage.logs_bucket.node.default_child)
    )
    patches = stage_synth.stack.resolve(
        stage_synth.stack.get_logical_id(stage_synth.stack.storage.patches_bucket.node.default_child)
    )

    def connections(method: str) -> str:
        return (
            "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
            f"<AWS::AccountId>:<{api}>/prod/{method}/@connections/*]"
        )

    assert set(acks) == {
        ("Realtime/WsApi/$connect-Route", "AwsSolutions::AwsSolutions-APIG4"),
        ("Realtime/WsApi/$default-Route", "AwsSolutions::AwsSolutions-APIG4"),
        ("Realtime/WsApi/$disconnect-Route", "AwsSolutions::AwsSolutions-APIG4"),
        ("Jobs/JobsQuarantine", "AwsSolutions::AwsSolutions-SQS3"),
        ("WsMessage/Role", connections("POST")),
        ("WsMessage/Role", connections("DELETE")),
        ("WsConnect/Role", connections("POST")),  # telling a superseded connection why, then
        ("WsConnect/Role", connections("DELETE")),  # closing it (one live connection per agent)
        ("Dispatcher/Role", connections("POST")),
        # X-Ray's two actions (every function's active tracing) and, for the rotation function,
        # GetRandomPassword: actions IAM only grants on `*`
        *((f"{fn}/Role", "AwsSolutions::AwsSolutions-IAM5[Resource::*]") for fn in FUNCTION_CIDS),
        ("WsMessage/Role", f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logs_bucket}.Arn>/*]"),
        ("WsMessage/Role", f"AwsSolutions::AwsSolutions-IAM5[Resource::<{patches}.Arn>/*]"),
        (
            "PatchRelease/PatchReleaseRole",
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{patches}.Arn>/patches/*]",
        ),
    }
    for where, reason in acks.items():
        assert len(reason) >= 60, where


def test_cfn_lint_finds_no_error(stage_synth):
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(stage_synth.template_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f"{f['Rule']['Id']} {f['Message']}" for f in findings if f["Level"] == "Error"]
    assert errors == []
    assert {f["Rule"]["Id"] for f in findings} <= ACCEPTED_LINT_WARNINGS
