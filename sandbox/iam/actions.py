"""What IAM checks for one API call: the (action, resource ARN) pairs, as AWS would authorize them.

An operation is not always its own action: a batch is authorized as its single form
(SendMessageBatch -> sqs:SendMessage), a transaction as the per-item actions on each item's
table, BatchGetItem as dynamodb:BatchGetItem on every table it reads, a Query on an index as
the index ARN, PostToConnection as execute-api:ManageConnections on the connection's
POST/@connections/ID path, StartMessageMoveTask as what SQS checks on both queues. ARNs use the
account and region the call was made in (moto's account, 123456789012, everywhere here).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

ACCOUNT = "123456789012"

Pairs = list[tuple[str, str]]
# botocore service name -> IAM service prefix, where they differ
PREFIX = {"monitoring": "cloudwatch", "apigatewaymanagementapi": "execute-api", "apigatewayv2": "apigateway"}
# operation -> action, where the action is not the operation's name
SINGULAR = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
}
_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_CONNECTION_METHODS = {"PostToConnection": "POST", "DeleteConnection": "DELETE", "GetConnection": "GET"}
# Secrets Manager appends 6 random characters to a secret's name in its ARN; policies and the
# recorder both use the ARN without them (the template's own secret ARN is a deploy-time token).
_SECRET_SUFFIX = re.compile(r"(:secret:.+)-[A-Za-z0-9]{6}$")


def secret_arn(secret_id: str, region: str) -> str:
    """The secret's ARN without the random suffix (a name is turned into its ARN)."""
    if not secret_id.startswith("arn:"):
        return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{secret_id}"
    return _SECRET_SUFFIX.sub(r"\1", secret_id)


def table_arn(region: str, name: str, index: str | None = None) -> str:
    arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def queue_arn(url_or_arn: str, region: str) -> str:
    """arn:aws:sqs:REGION:ACCOUNT:NAME from a queue URL (account and name are its last path parts)."""
    if url_or_arn.startswith("arn:"):
        return url_or_arn
    account, name = urlparse(url_or_arn).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _dynamodb(op: str, params: dict[str, Any], region: str) -> Pairs:
    if op == "TransactWriteItems":
        pairs = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                pairs.append((f"dynamodb:{_TRANSACT[kind]}", table_arn(region, body["TableName"])))
        return pairs
    if op == "TransactGetItems":
        return [
            ("dynamodb:GetItem", table_arn(region, i["Get"]["TableName"])) for i in params["TransactItems"]
        ]
    if op in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{op}", table_arn(region, name)) for name in params.get("RequestItems", {})]
    if params.get("TableName") == "":
        raise ValueError("an empty TableName: DynamoDB refuses it (ValidationException) before IAM is asked")
    return [(f"dynamodb:{op}", table_arn(region, params.get("TableName", "*"), params.get("IndexName")))]


def _sqs(op: str, params: dict[str, Any], region: str) -> Pairs:
    if op == "StartMessageMoveTask":
        source = params["SourceArn"]
        checked = ("StartMessageMoveTask", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        # With no destination the messages go back to each one's original source queue.
        pairs = [(f"sqs:{action}", source) for action in checked]
        if params.get("DestinationArn"):
            pairs.append(("sqs:SendMessage", params["DestinationArn"]))
        return pairs
    if op in ("ListMessageMoveTasks", "CancelMessageMoveTask"):
        return [(f"sqs:{op}", params.get("SourceArn", "*"))]
    if "QueueUrl" not in params:
        return [(f"sqs:{op}", "*")]
    return [(f"sqs:{SINGULAR.get(op, op)}", queue_arn(params["QueueUrl"], region))]


def _s3(op: str, params: dict[str, Any], region: str) -> Pairs:
    bucket, key = params.get("Bucket"), params.get("Key")
    if not bucket:
        return [(f"s3:{op}", "*")]
    resource = f"arn:aws:s3:::{bucket}/{key}" if key is not None else f"arn:aws:s3:::{bucket}"
    return [(f"s3:{SINGULAR.get(op, op)}", resource)]


def _secretsmanager(op: str, params: dict[str, Any], region: str) -> Pairs:
    if "SecretId" not in params:
        return [(f"secretsmanager:{op}", "*")]  # GetRandomPassword is not resource-level
    return [(f"secretsmanager:{op}", secret_arn(params["SecretId"], region))]


def _events(op: str, params: dict[str, Any], region: str) -> Pairs:
    buses = {entry.get("EventBusName") or "default" for entry in params.get("Entries", [])} or {"default"}
    return [
        (
            f"events:{op}",
            bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{bus}",
        )
        for bus in sorted(buses)
    ]


def _cloudwatch(op: str, params: dict[str, Any], region: str) -> Pairs:
    names = params.get("AlarmNames") or []
    if op == "DescribeAlarms" and names:
        return [(f"cloudwatch:{op}", f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{n}") for n in names]
    return [(f"cloudwatch:{op}", "*")]


def _kms(op: str, params: dict[str, Any], region: str) -> Pairs:
    key = params.get("KeyId", "*")
    if key != "*" and not key.startswith("arn:"):
        key = f"arn:aws:kms:{region}:{ACCOUNT}:{key if key.startswith('alias/') else 'key/' + key}"
    return [(f"kms:{op}", key)]


def _ssm(op: str, params: dict[str, Any], region: str) -> Pairs:
    name = params.get("Name")
    if not name:
        return [(f"ssm:{op}", "*")]
    return [(f"ssm:{op}", f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{name.lstrip('/')}")]


_BY_SERVICE: dict[str, Callable[[str, dict[str, Any], str], Pairs]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "s3": _s3,
    "secretsmanager": _secretsmanager,
    "events": _events,
    "cloudwatch": _cloudwatch,
    "kms": _kms,
    "ssm": _ssm,
}


def connection_arn(
    endpoint: str, op: str, params: dict[str, Any], region: str, api_ids: dict[str, str]
) -> str:
    """execute-api ARN of one connection: APIID/STAGE/METHOD/@connections/ID.

    The API id is the endpoint's host on AWS (<id>.execute-api.<region>.amazonaws.com); a local
    endpoint (the sandbox's gateway) is named in `api_ids`.
    """
    url = urlparse(endpoint)
    api_id = api_ids.get(f"{url.scheme}://{url.netloc}") or url.hostname.split(".")[0]  # type: ignore[union-attr]
    stage = url.path.strip("/").split("/")[0]
    method = _CONNECTION_METHODS.get(op, "POST")
    path = f"{api_id}/{stage}/{method}/@connections/{params['ConnectionId']}"
    return f"arn:aws:execute-api:{region}:{ACCOUNT}:{path}"


# S3 request headers IAM offers as condition keys (s3:<header>), by the botocore parameter that sends them
_S3_HEADERS = {
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "ACL": "x-amz-acl",
}
_S3_HEADER_OPERATIONS = ("PutObject", "CopyObject", "CreateMultipartUpload")


def _post_bound(post: dict[str, Any]) -> dict[str, str]:
    """The form fields a presigned POST's policy pins to one value (`{"name": v}` or
    `["eq", "$name", v]`); a field the policy does not pin is the uploader's choice."""
    bound: dict[str, str] = {}
    for condition in post.get("conditions", []):
        if isinstance(condition, dict):
            bound.update({k.lower(): str(v) for k, v in condition.items()})
        elif isinstance(condition, list | tuple) and len(condition) == 3 and condition[0] == "eq":
            bound[str(condition[1]).lstrip("$").lower()] = str(condition[2])
    return bound


def request_context(
    service: str, op: str, params: dict[str, Any], post: dict[str, Any] | None = None
) -> dict[str, str]:
    """The request's condition keys a policy can test (S3's encryption and ACL headers): from the
    call's parameters (a presigned PUT signs them as headers) or what a POST's policy pins."""
    if service != "s3" or op not in _S3_HEADER_OPERATIONS:
        return {}
    if post is not None:
        bound = _post_bound(post)
        return {f"s3:{h}": bound[h] for h in _S3_HEADERS.values() if h in bound}
    return {f"s3:{h}": str(params[p]) for p, h in _S3_HEADERS.items() if params.get(p) is not None}


def authorized(
    service: str, op: str, params: dict[str, Any], *, region: str, endpoint: str = "", api_ids: dict[str, str]
) -> Pairs:
    """The (IAM action, resource ARN) pairs AWS checks for `op` of botocore service `service`."""
    prefix = PREFIX.get(service, service)
    if prefix == "execute-api":
        return [("execute-api:ManageConnections", connection_arn(endpoint, op, params, region, api_ids))]
    mapper = _BY_SERVICE.get(prefix)
    return mapper(op, params, region) if mapper else [(f"{prefix}:{op}", "*")]
