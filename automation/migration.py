"""Moving an installation of the TypeScript original (stack `HuntazeByoIpStack`) to this stack.

Plain functions over boto3 clients, so `byoip migrate …` and the tests run the same code.
Every copy is idempotent and never overwrites what the new stack already holds, so a step
can be re-run after an interruption. docs/migration.md gives the order and the reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from contract.stateful import is_stateful
from lambdas.common import tables

# What the runbook needs from the original stack, found by the logical ids the original's
# README names (JobsQueue, JobsTable, AgentsTable, CreatorLimits, AgentPatchesBucket, ...).
# A pattern matches the start of a logical id; the first pattern that matches wins.
OLD_RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "OLD_JOBS_QUEUE_URL": ("AWS::SQS::Queue", ("JobsQueue",)),
    "OLD_DLQ_URL": ("AWS::SQS::Queue", ("JobsDlq", "JobsDLQ", "DeadLetterQueue", "Dlq", "DLQ")),
    "OLD_JOBS_TABLE": ("AWS::DynamoDB::Table", ("JobsTable",)),
    "OLD_AGENTS_TABLE": ("AWS::DynamoDB::Table", ("AgentsTable",)),
    "OLD_CREATOR_LIMITS_TABLE": ("AWS::DynamoDB::Table", ("CreatorLimits",)),
    "OLD_PATCHES_BUCKET": ("AWS::S3::Bucket", ("AgentPatchesBucket",)),
    "OLD_LOGS_BUCKET": ("AWS::S3::Bucket", ("AgentLogsBucket",)),
    "OLD_DISPATCHER": ("AWS::Lambda::Function", ("DispatcherSqs", "Dispatcher")),
    "OLD_WS_CONNECT": ("AWS::Lambda::Function", ("WsConnect",)),
}
ACTIVE_STATUSES = ("assigned", "running")  # docs/contracts.md JobsTable `status`
MIN_KEY_BYTES = 32  # ws-connect verifies with PyJWT's enforce_minimum_key_length (HS256)


class MigrationRefused(RuntimeError):
    """A step cannot go on safely; the message is one line for the operator."""


@dataclass(frozen=True)
class Inventory:
    """The original stack's resources: `variables` found, `unmatched` stateful ones left to a human."""

    variables: dict[str, str]
    missing: list[str]
    unmatched: list[tuple[str, str, str]]  # (logical id, type, physical id)


def inventory(cloudformation: Any, stack: str) -> Inventory:
    """Physical ids of the original stack's resources, keyed by the runbook's shell variables."""
    rows: list[tuple[str, str, str]] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for res in page["StackResourceSummaries"]:
            rows.append((res["LogicalResourceId"], res["ResourceType"], res.get("PhysicalResourceId", "")))
    variables: dict[str, str] = {}
    used: set[str] = set()
    for variable, (cfn_type, prefixes) in OLD_RESOURCES.items():
        for prefix in prefixes:
            hits = [r for r in rows if r[1] == cfn_type and r[0].startswith(prefix) and r[0] not in used]
            if len(hits) == 1:
                variables[variable] = hits[0][2]
                used.add(hits[0][0])
                break
    missing = [v for v in OLD_RESOURCES if v not in variables]
    unmatched = [r for r in rows if r[0] not in used and is_stateful(r[1])]
    return Inventory(variables, missing, unmatched)


def freeze_consumer(lambda_client: Any, function: str) -> list[str]:
    """Disable every SQS event source mapping of `function`; the UUIDs it disabled (or found off)."""
    uuids = []
    pages = lambda_client.get_paginator("list_event_source_mappings").paginate(FunctionName=function)
    for page in pages:
        for mapping in page["EventSourceMappings"]:
            if ":sqs:" not in mapping.get("EventSourceArn", ""):
                continue
            if mapping.get("State") not in ("Disabled", "Disabling"):
                lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
            uuids.append(mapping["UUID"])
    return uuids


@dataclass
class Copied:
    """Counts of one copy: written, already present (left as they were), skipped (old connections),
    and read in total."""

    written: int = 0
    present: int = 0
    keys: list[str] = field(default_factory=list)
    skipped: int = 0

    @property
    def read(self) -> int:
        return self.written + self.present + self.skipped


def key_schema(dynamodb: Any, table: str) -> list[dict[str, str]]:
    """The table's key schema with its attribute types, for comparing two tables."""
    described = dynamodb.describe_table(TableName=table)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    return [{**k, "AttributeType": types[k["AttributeName"]]} for k in described["KeySchema"]]


def to_current_schema(item: dict[str, Any]) -> dict[str, Any] | None:
    """An item of the original's tables as this stack keys it (docs/contracts.md); None to skip.

    Agents are (creatorId, agentId) here: an agent item `agent#<agentId>` becomes
    `agent#<creatorId>#<agentId>` (without its old connection, which belongs to the old API),
    a held job's `heldAgentId` becomes `<creatorId>#<agentId>` so its agent's next connect
    releases it, and connection items (`conn#…`, the old API's connections) are not copied.
    Items already in this form pass unchanged.
    """
    pk = item.get("pk", {}).get("S")
    creator = item.get("creatorId", {}).get("S")
    if pk is not None and pk.startswith(tables.CONNECTION_PREFIX):
        return None
    if pk is not None and pk.startswith(tables.AGENT_PREFIX) and pk.count("#") == 1 and creator:
        upgraded = {k: v for k, v in item.items() if k != "connectionId"}
        upgraded["pk"] = {"S": tables.agent_pk(creator, pk.removeprefix(tables.AGENT_PREFIX))}
        return upgraded
    held = item.get("heldAgentId", {}).get("S")
    if held is not None and "#" not in held and creator:
        return {**item, "heldAgentId": {"S": tables.agent_ref(creator, held)}}
    return item


def copy_items(dynamodb: Any, *, source: str, destination: str) -> Copied:
    """Every item of `source` into `destination`, skipping keys the destination already has.

    A strongly consistent scan, one conditional PutItem per item: an item the new stack wrote
    itself (a newer state of the same job or agent) is never overwritten by the old one.
    """
    keys = [k["AttributeName"] for k in key_schema(dynamodb, destination)]
    condition = " AND ".join(f"attribute_not_exists(#k{i})" for i in range(len(keys)))
    names = {f"#k{i}": key for i, key in enumerate(keys)}
    result = Copied()
    pages = dynamodb.get_paginator("scan").paginate(TableName=source, ConsistentRead=True)
    for page in pages:
        for original in page["Items"]:
            item = to_current_schema(original)
            if item is None:
                result.skipped += 1
                continue
            try:
                dynamodb.put_item(
                    TableName=destination,
                    Item=item,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                )
                result.written += 1
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                result.present += 1
    return result


def count_active(dynamodb: Any, table: str) -> int:
    """Jobs still assigned or running: their results may land in `table` after a copy."""
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        Select="COUNT",
        ConsistentRead=True,
        FilterExpression="#s IN (:a, :r)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":a": {"S": ACTIVE_STATUSES[0]}, ":r": {"S": ACTIVE_STATUSES[1]}},
    )
    return sum(page["Count"] for page in pages)


def count_items(dynamodb: Any, table: str) -> int:
    """Exact item count (a COUNT scan; DescribeTable's ItemCount lags by hours)."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT", ConsistentRead=True)
    return sum(page["Count"] for page in pages)


def copy_objects(s3: Any, *, source: str, destination: str) -> Copied:
    """Current version of each object of `source` into `destination` (server-side copy); keys kept."""
    result = Copied()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=source):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            try:
                s3.head_object(Bucket=destination, Key=key)
                result.present += 1
                continue
            except ClientError as err:
                if err.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
                    raise
            s3.copy_object(Bucket=destination, Key=key, CopySource={"Bucket": source, "Key": key})
            result.written += 1
            result.keys.append(key)
    return result


def queue_depth(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def move_messages(
    sqs: Any, *, source_url: str, destination_url: str, on_batch: Callable[[int], None] | None = None
) -> int:
    """Receive from `source`, send to `destination` (body and message attributes), then delete.

    At least once: a message is deleted from the source only after the destination accepted
    it, so an interruption can duplicate a job but never lose one (the dispatcher assigns each
    job once, so a duplicate is skipped as `already_assigned`). Returns the number moved.
    """
    moved = 0
    while True:
        received = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            VisibilityTimeout=120,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return moved
        entries = [{"Id": str(i), "MessageBody": m["Body"], **_attributes(m)} for i, m in enumerate(received)]
        sent = sqs.send_message_batch(QueueUrl=destination_url, Entries=entries)
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        deletions = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(received)
            if str(i) in done
        ]
        if deletions:
            sqs.delete_message_batch(QueueUrl=source_url, Entries=deletions)
        moved += len(deletions)
        if on_batch is not None:
            on_batch(moved)
        if sent.get("Failed"):
            failure = sent["Failed"][0]
            detail = ": ".join(str(failure[k]) for k in ("Code", "Message") if failure.get(k))
            raise MigrationRefused(
                f"the destination refused a message ({detail}); "
                f"{moved} moved so far, the rest is still in the source"
            )


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    attrs = message.get("MessageAttributes")
    return {"MessageAttributes": attrs} if attrs else {}


def read_jwt_key(lambda_client: Any, secrets: Any, *, function: str | None, secret_id: str | None) -> str:
    """The original's signing key: its ws-connect's WS_JWT_SECRET variable, or a secret's value."""
    if function is not None:
        env = lambda_client.get_function_configuration(FunctionName=function).get("Environment", {})
        key = env.get("Variables", {}).get("WS_JWT_SECRET")
        if not key:
            raise MigrationRefused(f"function {function} has no WS_JWT_SECRET variable: use --from-secret-id")
        return str(key)
    return str(secrets.get_secret_value(SecretId=secret_id)["SecretString"])


def copy_jwt_key(secrets: Any, *, key: str, destination: str) -> bool:
    """Store `key` as the new stack's signing key; False when it already was."""
    if len(key.encode()) < MIN_KEY_BYTES:
        raise MigrationRefused(
            f"the original key is {len(key.encode())} bytes; the new ws-connect requires >= {MIN_KEY_BYTES} "
            "(HS256): keep the new stack's generated key and switch the token issuer to it instead"
        )
    if secrets.get_secret_value(SecretId=destination)["SecretString"] == key:
        return False
    secrets.put_secret_value(SecretId=destination, SecretString=key)
    return True
