"""The dispatcher's and the creator watch's calls, evaluated against the synthesized policies of stage
`test` by the IAM evaluator (tests/iam/check.py), and what happens when one needed grant is missing.

The whole session's calls are evaluated at its end (tests/iam/session.py); these tests run their
own scenario, so they prove the same with `pytest tests/lambdas/test_iam_calls.py` alone.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lambdas.common import breaker
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.lease_reaper.handler import handler as reap
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from monitoring.evaluator.templates import cached_template
from sandbox.iam import recorder
from tests.iam.check import evaluate
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW, bind_handler_tests

DISPATCHER, REAPER = "function:byoip-test-dispatcher-sqs", "function:byoip-test-lease-reaper"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/byoip-test-{}"


@pytest.fixture
def scenario(clock, out, queues) -> list[dict[str, Any]]:
    """An agent gets two jobs (one fails, one completes) and an offline agent's job is held; once the
    failure ages out of the breaker's window, lease-reaper's watch forgets the window. Returns the
    binding and every recorded call."""
    with recorder.collected() as records:
        assert connect(h.connect_event(h.token("agent-1", "creator-a"), "conn-a"), None) == {
            "statusCode": 200
        }
        for n, status in enumerate(["failed", "completed"]):
            body = h.job_body(f"job-{n}", "agent-1", "creator-a")
            assert dispatch(h.sqs_event(body), None) == {"batchItemFailures": []}
            result = {"action": "job.result", "jobId": f"job-{n}", "status": status, "reason": "site error"}
            assert message(h.message_event(result, "conn-a"), None) == {"statusCode": 200}
        held = dispatch(h.sqs_event(h.job_body("job-held", "agent-2", "creator-a")), None)
        assert held == {"batchItemFailures": []}  # held (with a ConditionCheck that agent-2 is offline)
        clock.set(NOW + breaker.BreakerPolicy().window_s + 1)
        reap({}, None)
    assert h.item("AGENTS_TABLE", "pk", "breaker#creator-a") is None  # the watch deleted the window
    return [bind_handler_tests({k: v for k, v in queues.items()})] + records


def _template_without(caller_suffix: str, action: str) -> dict[str, Any]:
    """Stage `test`'s template with `action` taken out of the policies of the function's role."""
    template = copy.deepcopy(cached_template("test", "composite"))
    resources = template["Resources"]
    (role,) = [
        p["Role"]["Fn::GetAtt"][0]
        for p in (r.get("Properties", {}) for r in resources.values())
        if str(p.get("FunctionName", "")).endswith(caller_suffix)
    ]
    for res in resources.values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role} in props.get("Roles", []):
            for statement in props["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                statement["Action"] = [a for a in actions if a != action] or ["dynamodb:DescribeLimits"]
    return template


def test_the_dispatcher_and_the_watch_have_what_they_call(scenario):
    report = evaluate(scenario)

    assert report.denials == []
    assert {
        (DISPATCHER, "dynamodb:BatchGetItem", TABLE.format("agents")),
        (DISPATCHER, "dynamodb:BatchGetItem", TABLE.format("creator-limits")),
        (DISPATCHER, "dynamodb:ConditionCheckItem", TABLE.format("agents")),
        (REAPER, "dynamodb:DeleteItem", TABLE.format("agents")),
    } <= report.triples


@pytest.mark.parametrize(
    ("caller", "action", "table"),
    [
        (DISPATCHER, "dynamodb:ConditionCheckItem", "agents"),  # the planted regression of issue 24
        (DISPATCHER, "dynamodb:BatchGetItem", "creator-limits"),  # the bug issue 24 found
        (REAPER, "dynamodb:DeleteItem", "agents"),  # breaker.forget
    ],
)
def test_removing_one_needed_grant_fails_naming_the_call(scenario, caller, action, table):
    template = _template_without(caller.removeprefix("function:byoip-test"), action)

    report = evaluate(scenario, template_for=lambda stage: template)

    denied = {triple for triple, _ in report.denials}
    assert (caller, action, TABLE.format(table)) in denied
    assert any(
        line.startswith(f"DENIED {caller} {action} on {TABLE.format(table)}")
        for line in report.denial_lines()
    )


LOGS = "arn:aws:s3:::byoip-test-logs/"
MESSAGE = "function:byoip-test-ws-message"


def test_the_log_upload_form_is_allowed_because_its_policy_names_the_stack_key(clock, out, queues):
    """The logs bucket refuses a PutObject that does not name the stack's key: the POST form's
    policy pins it, and the recorder hands what it pins to the evaluator as S3's condition keys."""
    with recorder.collected() as records:
        assert connect(h.connect_event(h.token("agent-1", "creator-a"), "conn-a"), None) == {
            "statusCode": 200
        }
        assert message(h.message_event({"action": "logs.upload"}, "conn-a"), None) == {"statusCode": 200}
    (upload,) = [r for r in records if r.get("action") == "s3:PutObject"]
    assert upload["resource"].startswith(LOGS + "creator-a/agent-1/")
    assert upload["context"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] == h.ENV["LOGS_KMS_KEY_ARN"]
    bound = [bind_handler_tests(dict(queues))]

    assert evaluate(bound + records).denials == []

    unpinned = [{k: v for k, v in r.items() if k != "context"} for r in records]
    denied = {triple: why for triple, why in evaluate(bound + unpinned).denials}
    assert denied == {(MESSAGE, "s3:PutObject", upload["resource"]): "ExplicitlyDenied"}
