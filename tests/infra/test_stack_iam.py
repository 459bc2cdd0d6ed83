"""Least privilege, pinned: each function's role allows exactly this list, nothing else.

The list is a belief about what the handlers call; the calls themselves are recorded and evaluated
against the synthesized policies at the end of every test session (tests/iam, docs/architecture.md
"IAM: permissions proven by recorded calls"), which is what caught the dispatcher's BatchGetItem
and the watch's DeleteItem missing from both this list and the stack.
"""

from __future__ import annotations

import pytest

from tests.infra.cfn import role_statements


def _connections(s, method="POST"):
    account = "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>"
    return f"{account}:byoip-{s}-ws/prod/{method}/@connections/*"


def WATCH_SCANS(jobs: str, agents: str, limits: str) -> set[tuple[str, str]]:  # noqa: N802
    """The only Scan allowed anywhere: lease-reaper's creator watch, once a minute, reads the sparse
    held-jobs index whole (no table is scanned, and no request path ever scans)."""
    return {("dynamodb:Scan", f"{jobs}/index/ByHeldAgent")}


def expected_grants(s: str) -> dict[str, set[tuple[str, str]]]:
    jobs, agents, limits = f"byoip-{s}-jobs", f"byoip-{s}-agents", f"byoip-{s}-creator-limits"

    def logs(name):
        """Lambda's own: the function's log group, and X-Ray for its active tracing (never a handler's)."""
        group = f"/aws/lambda/byoip-{s}-{name}"
        xray = {("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}
        return {("logs:CreateLogStream", group), ("logs:PutLogEvents", group)} | xray

    return {
        "ws-connect": logs("ws-connect")
        | {
            ("secretsmanager:GetSecretValue", f"byoip/{s}/ws-jwt"),
            ("dynamodb:GetItem", agents),  # tokensValidAfter (revocation)
            ("dynamodb:PutItem", agents),
            ("dynamodb:UpdateItem", agents),
            ("dynamodb:DeleteItem", agents),  # forgetting the connection a new $connect supersedes
            ("dynamodb:GetItem", limits),
            ("dynamodb:UpdateItem", jobs),
            ("dynamodb:Query", f"{jobs}/index/ByHeldAgent"),
            ("sqs:SendMessage", f"byoip-{s}-jobs"),
            # the `superseded` frame to the replaced connection, then closing it
            ("execute-api:ManageConnections", _connections(s)),
            ("execute-api:ManageConnections", _connections(s, "DELETE")),
        },
        "ws-message": logs("ws-message")
        | {
            ("dynamodb:GetItem", agents),
            ("dynamodb:UpdateItem", agents),
            ("dynamodb:DeleteItem", agents),  # closing a revoked or long-expired connection
            ("dynamodb:GetItem", jobs),
            ("dynamodb:UpdateItem", jobs),
            ("dynamodb:BatchGetItem", jobs),  # a heartbeat reads its listed leases at once
            ("dynamodb:GetItem", limits),  # the creator's revocation mark (cached a minute)
            ("dynamodb:UpdateItem", limits),
            ("sqs:SendMessage", f"byoip-{s}-jobs"),
            ("s3:PutObject", "AgentLogsBucket/*"),
            ("s3:GetObject", "AgentPatchesBucket/*"),
            ("s3:ListBucket", "AgentPatchesBucket"),  # a missing latest.json is 404, not 403
            ("kms:GenerateDataKey", "DataKey"),
            ("kms:Decrypt", "DataKey"),
            ("execute-api:ManageConnections", _connections(s)),
            ("execute-api:ManageConnections", _connections(s, "DELETE")),
        },
        "ws-disconnect": logs("ws-disconnect")
        | {("dynamodb:GetItem", agents), ("dynamodb:DeleteItem", agents), ("dynamodb:UpdateItem", agents)},
        "dispatcher-sqs": logs("dispatcher-sqs")
        | {
            ("dynamodb:BatchGetItem", agents),  # lookups.py: agent + limits, one BatchGetItem
            ("dynamodb:DeleteItem", agents),
            ("dynamodb:UpdateItem", agents),
            ("dynamodb:ConditionCheckItem", agents),
            ("dynamodb:UpdateItem", jobs),
            ("dynamodb:BatchGetItem", limits),
            ("dynamodb:UpdateItem", limits),
            ("sqs:SendMessage", f"byoip-{s}-jobs-dlq"),
            ("execute-api:ManageConnections", _connections(s)),
            # for the SQS event source mapping, which polls with this role (no ChangeMessageVisibility
            # nor GetQueueUrl: Lambda calls neither)
            ("sqs:ReceiveMessage", f"byoip-{s}-jobs"),
            ("sqs:DeleteMessage", f"byoip-{s}-jobs"),
            ("sqs:GetQueueAttributes", f"byoip-{s}-jobs"),
        },
        "lease-reaper": logs("lease-reaper")
        | {
            ("dynamodb:UpdateItem", jobs),
            ("dynamodb:GetItem", jobs),  # the circuit breaker's probe job
            ("dynamodb:Query", f"{jobs}/index/ByLease"),
            ("dynamodb:UpdateItem", limits),
            ("sqs:SendMessage", f"byoip-{s}-jobs"),
            # the creator watch (lambdas/common/watch.py): breakers, outcome windows, releases, events
            *WATCH_SCANS(jobs, agents, limits),
            # ... and its targeted reads: the keys-only sparse indexes, then the items they name
            ("dynamodb:Query", f"{agents}/index/ByWatch"),
            ("dynamodb:Query", f"{limits}/index/ByBreaker"),
            ("dynamodb:BatchGetItem", agents),
            ("dynamodb:BatchGetItem", limits),
            ("dynamodb:UpdateItem", agents),
            ("dynamodb:DeleteItem", agents),  # breaker.forget
            (
                "events:PutEvents",
                "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default",
            ),
        },
        "secret-rotation": logs("secret-rotation")
        | {
            (f"secretsmanager:{action}", f"byoip/{s}/ws-jwt")
            for action in ("DescribeSecret", "GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage")
        }
        | {("secretsmanager:GetRandomPassword", "*")},
    }


@pytest.mark.parametrize(
    "name", ["ws-connect", "ws-message", "ws-disconnect", "dispatcher-sqs", "lease-reaper", "secret-rotation"]
)
def test_function_role_allows_exactly_what_its_handler_calls(stage_synth, name):
    s = stage_synth.config.stage
    assert role_statements(stage_synth.template_dict, f"byoip-{s}-{name}") == expected_grants(s)[name]


def test_no_function_may_scan_or_read_everything(stage_synth):
    s = stage_synth.config.stage
    for name in expected_grants(s):
        for action, resource in role_statements(stage_synth.template_dict, f"byoip-{s}-{name}"):
            scan = (action, resource) in WATCH_SCANS(
                f"byoip-{s}-jobs", f"byoip-{s}-agents", f"byoip-{s}-creator-limits"
            )
            assert (action != "dynamodb:Scan" or (name == "lease-reaper" and scan)) and not action.endswith(
                "*"
            ), (
                name,
                action,
            )
            # GetRandomPassword is not resource-level: IAM accepts only "*" for it (the one exception)
            # and X-Ray's, which Lambda's active tracing grants on every role
            star = {("secret-rotation", "secretsmanager:GetRandomPassword")} | {
                (name, "xray:PutTraceSegments"),
                (name, "xray:PutTelemetryRecords"),
            }
            if (name, action) not in star:
                assert resource != "*", (name, action)
