"""Parse and check the SQS ARNs the on-call CLI is given."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SQS_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sqs:(?P<region>[a-z]{2}(-[a-z]+)+-\d):(?P<account>\d{12}):(?P<name>[A-Za-z0-9_-]{1,80}(\.fifo)?)$"
)


_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"
)


class BadArn(ValueError):
    """The text is not an SQS queue ARN; the message says what one looks like."""


@dataclass(frozen=True)
class QueueArn:
    arn: str
    region: str
    account: str
    name: str


def parse_queue_arn(text: str, *, flag: str) -> QueueArn:
    """Split an SQS queue ARN, or raise BadArn naming the flag and the expected shape."""
    match = _SQS_ARN.match(text.strip())
    if not match:
        raise BadArn(
            f"{flag} {text!r} is not an SQS queue ARN "
            "(expected arn:aws:sqs:<region>:<12-digit account>:<queue name>)"
        )
    return QueueArn(text.strip(), match["region"], match["account"], match["name"])


def secret_arn_region(text: str, *, flag: str) -> str:
    """Region of a Secrets Manager secret ARN, or raise BadArn naming the flag and the expected shape."""
    match = _SECRET_ARN.match(text.strip())
    if not match:
        raise BadArn(
            f"{flag} {text!r} is not a Secrets Manager secret ARN "
            "(expected arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name>)"
        )
    return match["region"]
