"""X-Ray through Powertools Tracer: one tracer for every handler (stacks/functions.py turns Lambda's
active tracing on, docs/cost.md prices it).

`traced` wraps a handler: its invocation's segment gets a `handler` subsegment, and the Tracer
patches botocore, so every AWS call of the invocation (DynamoDB, SQS, PostToConnection, Secrets
Manager) is a subsegment with its latency and error. Outside Lambda (tests, the sandbox, the CLI)
Powertools disables the tracer itself: no AWS_LAMBDA_FUNCTION_NAME, so nothing is patched or sent.
Responses and exceptions are not recorded as metadata: a frame's answer may carry an agent's data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Tracer

tracer = Tracer()

Handler = Callable[[dict[str, Any], Any], Any]


def traced(handler: Handler) -> Handler:
    return tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False)
