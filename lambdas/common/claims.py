"""Conditional writes that know their own: a lost success response never reads as "someone else".

botocore retries a write whose response was lost (a timeout, a 500). If the first try applied,
the retry fails its condition, which would make the caller believe another writer got there
first — and skip (or repeat) the event that write stands for. Each claimed write therefore
stores a fresh token in a claim attribute and asks for ALL_OLD on a failed condition: finding
its own token there, the caller knows the write is in and goes on exactly as if it had succeeded.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import ddb


def new_token() -> str:
    """A fresh claim token."""
    return uuid.uuid4().hex


def claimed_update(
    table: str, key: dict[str, Any], *, claim: str, token: str, expression: str, condition: str, **vals: Any
) -> bool:
    """UpdateItem `expression` (which must set `<claim> = :token`) if `condition` holds.

    True when it applied, including when an earlier try of this same call applied it.
    """
    try:
        ddb.dynamodb().update_item(
            TableName=table,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=ddb.values(token=token, **vals),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as err:
        if not ddb.is_condition_failure(err):
            raise
        old = ddb.from_item(err.response.get("Item")) or {}
        return bool(old.get(claim) == token)
    return True
