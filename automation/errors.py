"""One-line messages and exit codes for AWS and usage errors reaching the `byoip` entry point."""

from __future__ import annotations

import typer
from botocore import exceptions as boto

from automation.output import REFUSED, USAGE

# Problems of the caller's setup, fixed on their side (like a bad flag): exit 2.
_SETUP = {
    boto.NoCredentialsError: "no AWS credentials: configure a profile (AWS_PROFILE) or set AWS_ACCESS_KEY_ID",
    boto.PartialCredentialsError: "incomplete AWS credentials in the environment or profile",
    boto.ProfileNotFound: "the AWS profile does not exist: check AWS_PROFILE",
    boto.NoRegionError: "no AWS region: pass --region or set AWS_REGION",
    boto.InvalidRegionError: "not a valid AWS region: pass --region like us-east-1",
}


MAX_DETAIL = 200  # an endpoint may answer with a whole HTML page


def one_line(text: str) -> str:
    """`text` on one line, whitespace collapsed, cut to MAX_DETAIL characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_DETAIL else flat[: MAX_DETAIL - 1] + "…"


def aws_error(err: Exception) -> tuple[str, int]:
    """`<what> (<Code>: <message>)` and the exit code for a botocore exception."""
    if isinstance(err, boto.ClientError):
        error = err.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = one_line(error.get("Message") or str(err))
        return f"AWS refused {err.operation_name} ({code}: {message})", REFUSED
    detail = one_line(f"{type(err).__name__}: {err}")
    for kind, what in _SETUP.items():
        if isinstance(err, kind):
            return f"{what} ({detail})", USAGE
    if isinstance(err, boto.EndpointConnectionError):
        return f"cannot reach AWS ({detail})", REFUSED
    return f"AWS call failed ({detail})", REFUSED


def usage_error(err: typer.TyperException) -> str:
    """Click's message without its usage block and boxes: `Invalid value for '--ttl': ...`."""
    return " ".join(err.format_message().split())  # never cut: click names the allowed values
