"""boto3 clients, created lazily in one place so tests and the sandbox can swap them.

Nothing here runs at import. boto3 honours AWS_ENDPOINT_URL, which is how the sandbox points
the unmodified handlers at moto; the WebSocket management API always uses WS_ENDPOINT.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from lambdas.common.settings import settings

# Few, fast retries: a throttled item is better retried by SQS than by sleeping in the batch.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
# Presigned URLs for KMS-encrypted objects must be SigV4 (SigV2 URLs are refused).
_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4"))
_clients: dict[tuple[str, str], Any] = {}
_overrides: dict[str, Any] = {}


def client(service: str) -> Any:
    """The cached client for `service` (an override if one was installed)."""
    if service in _overrides:
        return _overrides[service]
    endpoint = settings().ws_endpoint if service == "apigatewaymanagementapi" else ""
    key = (service, endpoint)
    if key not in _clients:
        kwargs: dict[str, Any] = {"config": _S3_CONFIG if service == "s3" else _CONFIG}
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        _clients[key] = boto3.client(service, **kwargs)
    return _clients[key]


def override(service: str, replacement: Any) -> None:
    """Use `replacement` for `service` from now on (tests: Stubber-wrapped clients)."""
    _overrides[service] = replacement


def reset() -> None:
    """Forget every cached client and override (tests call this between cases)."""
    _clients.clear()
    _overrides.clear()
