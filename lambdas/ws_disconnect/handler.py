"""ws-disconnect: thin entry point; the logic is lambdas.common.session.disconnect."""

from __future__ import annotations

from typing import Any

from lambdas.common import session
from lambdas.common.logs import function_logger
from lambdas.common.tracing import traced

logger = function_logger()


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return session.disconnect(event, logger)
