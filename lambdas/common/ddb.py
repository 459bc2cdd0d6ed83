"""Small helpers over the low-level DynamoDB client (transactions need it anyway)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lambdas.common import aws

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "LimitExceededException",
        "TooManyRequestsException",
    }
)


def dynamodb() -> Any:
    """The DynamoDB client."""
    return aws.client("dynamodb")


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(now=1) -> {":now": {"N": "1"}}."""
    return {f":{name}": _SERIALIZER.serialize(value) for name, value in named.items()}


def key(name: str, value: str) -> dict[str, Any]:
    """A single-attribute string key."""
    return {name: {"S": value}}


def to_item(plain: dict[str, Any]) -> dict[str, Any]:
    """Serialize a plain dict (None values dropped) into a DynamoDB item."""
    return {k: _SERIALIZER.serialize(v) for k, v in plain.items() if v is not None}


def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Deserialize an item; whole-number Decimals become int."""
    if item is None:
        return None
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def error_code(err: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(err.response.get("Error", {}).get("Code", ""))


def is_condition_failure(err: ClientError) -> bool:
    """True when a single-item conditional write failed its condition."""
    return error_code(err) == "ConditionalCheckFailedException"


def cancellation_reasons(err: ClientError) -> list[dict[str, Any]] | None:
    """Per-item reasons of a cancelled transaction, or None for any other error."""
    if error_code(err) != "TransactionCanceledException":
        return None
    return list(err.response.get("CancellationReasons") or [])


def failed_condition(reasons: list[dict[str, Any]], index: int) -> bool:
    """True when operation `index` of a cancelled transaction failed its condition."""
    return index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed"


def get(table: str, key_attr: str, key_value: str, *, consistent: bool = True) -> dict[str, Any] | None:
    """GetItem (strongly consistent unless told otherwise: half the read units); None when absent."""
    resp = dynamodb().get_item(TableName=table, Key=key(key_attr, key_value), ConsistentRead=consistent)
    return from_item(resp.get("Item"))


_BATCH_ATTEMPTS = 3  # BatchGetItem may return keys unprocessed under throttling; then retry them


def batch_get(request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem of `request` (RequestItems), unprocessed keys retried: table -> its plain items.

    Raises a ThrottlingException ClientError when keys are still unprocessed after the retries.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    for _ in range(_BATCH_ATTEMPTS):
        response = dynamodb().batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            found.setdefault(table, []).extend(from_item(item) for item in items)  # type: ignore[misc]
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
    raise ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "BatchGetItem left keys unprocessed"}},
        "BatchGetItem",
    )


def update_if(**request: Any) -> bool:
    """UpdateItem with a ConditionExpression; False (nothing written) when the condition fails."""
    try:
        dynamodb().update_item(**request)
    except ClientError as err:
        if is_condition_failure(err):
            return False
        raise
    return True


def update_or_old(**request: Any) -> tuple[bool, dict[str, Any] | None]:
    """Conditional UpdateItem: (True, new attributes) when written, else (False, the item as it was).

    The old item comes with the failed condition (ReturnValuesOnConditionCheckFailure=ALL_OLD),
    at no extra call or capacity; it is None when there is no item.
    """
    try:
        response = dynamodb().update_item(ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    except ClientError as err:
        if not is_condition_failure(err):
            raise
        return False, from_item(err.response.get("Item"))
    return True, from_item(response.get("Attributes"))
