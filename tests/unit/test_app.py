"""app.py as the CDK CLI runs it: a bad setting is one stderr line and exit 2; a good one synthesizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETTINGS = (
    "STAGE",
    "ALERT_MODE",
    "OPS_ALERTS_EMAIL",
    "RUNBOOK_BASE_URL",
    "TRUSTED_PRINCIPALS",
    "CDK_CONTEXT_JSON",
    "CDK_OUTDIR",
)
OPERATOR = "arn:aws:iam::123456789012:role/byoip-operator"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env.update(extra)
    return env


def run_app(context: dict, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run app.py the way the CDK CLI does: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR."""
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env=_env(CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_bad_context_value_exits_2_with_one_line(tmp_path):
    result = run_app({"alertMode": "bogus"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: invalid ALERT_MODE 'bogus': allowed values are composite | all\n"
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_bad_env_value_exits_2_with_one_line(tmp_path):
    result = run_app({}, tmp_path, STAGE="Bad_Stage")
    assert result.returncode == 2
    assert result.stderr == (
        "error: invalid STAGE 'Bad_Stage': use 1-20 lowercase letters, digits or '-', "
        "starting with a letter (e.g. prod, staging, local)\n"
    )


def test_cdk_cli_reports_the_bad_value_without_a_trace(tmp_path):
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "cdk",
            "--no-notices",
            "synth",
            "--quiet",
            "-o",
            str(tmp_path),
            "-c",
            "alertMode=bogus",
        ],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert "error: invalid ALERT_MODE 'bogus': allowed values are composite | all" in lines
    assert "Traceback" not in result.stderr and "jsii" not in result.stderr.lower()


def test_good_settings_synthesize_the_stage_template(tmp_path):
    result = run_app(
        {"stage": "staging", "aws:cdk:bundling-stacks": []},
        tmp_path,
        ALERT_MODE="all",
        TRUSTED_PRINCIPALS=OPERATOR,
    )
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "HuntazeByoIpStack-staging.template.json").read_text())
    names = {
        r["Properties"].get("QueueName")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SQS::Queue"
    }
    assert names == {"byoip-staging-jobs", "byoip-staging-jobs-dlq", "byoip-staging-jobs-quarantine"}
    assert not (tmp_path / "HuntazeByoIpStack-prod.template.json").exists()
    assert not (tmp_path / "HuntazeByoIpStack.template.json").exists()


def test_attack_stage_without_trusted_principals_exits_2_with_one_line(tmp_path):
    result = run_app({"stage": "staging", "aws:cdk:bundling-stacks": []}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: TRUSTED_PRINCIPALS is not set: name the roles or users")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "HuntazeByoIpStack-staging.template.json").exists()
