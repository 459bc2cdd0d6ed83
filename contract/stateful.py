"""The stateful resource types and the properties that decide their identity (no CDK import).

One constant serves both safety nets: the committed snapshot of the synthesized stack
(tests/infra/test_stateful_snapshot.py, `make stateful-snapshot`) and the change-set check
that `make deploy` runs before executing anything (`byoip deploy-check`). Here, below every
layer, because the stack's tests and the CLI both read it; it imports nothing of ours.
"""

from __future__ import annotations

from typing import Any

# CloudFormation type -> the properties whose change replaces the resource (new physical
# resource, data or URL gone) or renames what people and agents address it by.
STATEFUL_TYPES: dict[str, tuple[str, ...]] = {
    # AttributeDefinitions is left out: adding a GSI adds one without replacing the table.
    "AWS::DynamoDB::Table": ("TableName", "KeySchema", "LocalSecondaryIndexes"),
    "AWS::SQS::Queue": ("QueueName", "FifoQueue"),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::KMS::Key": ("KeySpec", "KeyUsage", "MultiRegion"),
    "AWS::SecretsManager::Secret": ("Name",),
    # Name does not replace the API, but it is how people find it; ProtocolType does replace it
    # (and a new API is a new WebSocketUrl for every agent).
    "AWS::ApiGatewayV2::Api": ("Name", "ProtocolType"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
}
# Resource attributes kept with the properties: turning Retain into Delete is a deliberate act too.
POLICY_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")


def is_stateful(cfn_type: str) -> bool:
    """True for the types whose replacement or deletion loses data or a published address."""
    return cfn_type in STATEFUL_TYPES


def stateful_snapshot(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> {Type, identity properties, deletion policies} of every stateful resource."""
    snapshot: dict[str, dict[str, Any]] = {}
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        cfn_type = resource.get("Type", "")
        if not is_stateful(cfn_type):
            continue
        props = resource.get("Properties", {})
        entry: dict[str, Any] = {"Type": cfn_type}
        entry.update({name: props[name] for name in STATEFUL_TYPES[cfn_type] if name in props})
        entry.update({name: resource[name] for name in POLICY_ATTRIBUTES if name in resource})
        snapshot[logical_id] = entry
    return snapshot


def snapshot_differences(expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]) -> list[str]:
    """One readable line per logical id that disappeared, appeared or changed identity."""
    lines = []
    for logical_id in sorted(expected.keys() | actual.keys()):
        before, after = expected.get(logical_id), actual.get(logical_id)
        if after is None:
            assert before is not None
            lines.append(f"{logical_id} ({before['Type']}): gone from the template (renamed or removed)")
        elif before is None:
            lines.append(f"{logical_id} ({after['Type']}): new stateful resource, not in the snapshot")
        elif before != after:
            changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            detail = ", ".join(f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in changed)
            lines.append(f"{logical_id} ({after['Type']}): {detail}")
    return lines
