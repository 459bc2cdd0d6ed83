"""ws-message: thin entry point; the logic is lambdas.common.session.message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from lambdas.common import session
from lambdas.common.tracing import traced

logger = Logger()


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return session.message(event, logger)
