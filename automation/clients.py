"""boto3 clients for the CLI, made in one place so tests can swap them (moto or Stubber)."""

from __future__ import annotations

import os
import re
from typing import Any

import boto3

# Tests replace this: service name -> client (a botocore Stubber-wrapped client, for example).
overrides: dict[str, Any] = {}

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def default_region() -> str | None:
    """The region boto3 would use: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region`."""
    # botocore itself ignores AWS_REGION (the SDKs' newer variable); the session covers the rest.
    return os.environ.get("AWS_REGION") or boto3.session.Session().region_name


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """A client for `service` in `region` (AWS_ENDPOINT_URL, if set, points it at moto).

    `endpoint_url` is for services addressed per resource (the WebSocket management API).
    """
    if service in overrides:
        return overrides[service]
    if endpoint_url:
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url)
    return boto3.client(service, region_name=region)


def check_region(region: str, source: str = "--region") -> str:
    """`region` if it looks like an AWS region (us-east-1, ap-southeast-2, us-gov-west-1)."""
    from automation.output import fail

    if not REGION_PATTERN.match(region):
        fail(f"{source} {region!r} is not an AWS region name (expected e.g. us-east-1 or eu-west-3)")
    return region


def region_or_fail(region: str | None) -> str:
    """--region, else the configured region (checked either way), else a one-line error."""
    from automation.output import fail

    if region is not None:
        return check_region(region)
    chosen = default_region()
    if not chosen:
        fail("no AWS region: pass --region or set AWS_REGION")
    return check_region(chosen, "the configured region")
