"""boto3 clients for the CLI, made in one place so tests can swap them (moto or Stubber)."""

from __future__ import annotations

import os
from typing import Any

import boto3

# Tests replace this: service name -> client (a botocore Stubber-wrapped client, for example).
overrides: dict[str, Any] = {}


def default_region() -> str | None:
    """The region the AWS CLI would use: AWS_REGION, then AWS_DEFAULT_REGION."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def client(service: str, region: str) -> Any:
    """A client for `service` in `region` (AWS_ENDPOINT_URL, if set, points it at moto)."""
    if service in overrides:
        return overrides[service]
    return boto3.client(service, region_name=region)


def region_or_fail(region: str | None) -> str:
    """--region, else the environment's region, else a one-line error."""
    from automation.output import fail

    chosen = region or default_region()
    if not chosen:
        fail("no AWS region: pass --region or set AWS_REGION")
    return chosen
