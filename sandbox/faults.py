"""The AWS faults the simulation (tests/simulation) and the `chaos` game day inject: one list.

Both hook the handlers' own boto3 clients (`lambdas.common.aws.client`) with botocore events:
`before-call` returns an error response (botocore then raises the ClientError a handler sees once
its retries are spent), `after-call` raises once the request was applied (a timeout *after the
write succeeded*), and `InvocationDied` — a BaseException no handler code catches — ends the Lambda
invocation mid-way, as a timeout or an out-of-memory kill would.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

GATEWAY = "apigatewaymanagementapi"
# Faults that only make sense on a push: they hit a PostToConnection.
PUSH_ONLY = ("gone_410", "gateway_500")
KINDS = (
    "throttle",  # the service throttles (botocore's retries spent)
    "server_error",  # a 5xx
    "timeout_after_write",  # the request succeeded, the answer never came back
    "gone_410",  # PostToConnection: the connection is gone
    "gateway_500",  # PostToConnection: 500
    "die_before",  # the Lambda invocation dies (timeout, OOM) before this call
    "die_after",  # ... right after this call succeeded
    "interleave",  # (simulation only) another actor acts before this call
)
ERRORS = {
    "throttle": {
        "dynamodb": ("ProvisionedThroughputExceededException", 400),
        "sqs": ("ThrottlingException", 400),
        GATEWAY: ("LimitExceededException", 429),
    },
    "server_error": {
        "dynamodb": ("InternalServerError", 500),
        "sqs": ("InternalError", 500),
        GATEWAY: ("InternalServerError", 500),
    },
    "gone_410": {GATEWAY: ("GoneException", 410)},
    "gateway_500": {GATEWAY: ("InternalServerError", 500)},
}


class InvocationDied(BaseException):
    """The Lambda invocation ended mid-way (not an Exception: no handler code may catch it)."""


def error_response(code: str, status: int) -> tuple[AWSResponse, dict[str, Any]]:
    """What a before-call hook returns so that botocore raises ClientError(code)."""
    parsed: dict[str, Any] = {"Error": {"Code": code, "Message": f"injected {code}"}}
    parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
    return AWSResponse(None, status, {}, None), parsed


def error_for(kind: str, service: str) -> tuple[AWSResponse, dict[str, Any]]:
    """The error response of an error kind on a service (a push-only kind elsewhere: a 5xx)."""
    code, status = ERRORS[kind].get(service) or ERRORS["server_error"][service]
    return error_response(code, status)


def fail_after(kind: str | None, http_response: Any, model: Any) -> None:
    """An after-call hook's part: once the request succeeded, time out or end the invocation."""
    if kind is None or http_response.status_code >= 300:
        return
    if kind == "die_after":
        raise InvocationDied(f"died after {model.name}")
    raise ReadTimeoutError(endpoint_url=f"injected://{model.service_model.service_name}/{model.name}")
